using System.Text.Json.Serialization;

namespace Predastore.Metadata;

/// <summary>Source-generated (trimming and AOT safe) JSON for the small maps and lists a manifest row carries.</summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Default)]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(int[]))]
internal sealed partial class MetadataJsonContext : JsonSerializerContext;
