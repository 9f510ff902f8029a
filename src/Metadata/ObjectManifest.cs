using System.Collections.ObjectModel;

namespace Predastore.Metadata;

/// <summary>
/// Everything the gateway needs to serve an object: its S3 attributes, its RS parameters and the ordered extents
/// whose shards hold its bytes.
/// </summary>
public sealed record ObjectManifest
{
    public required string Bucket { get; init; }

    public required string Key { get; init; }

    public required long Size { get; init; }

    /// <summary>The entity tag without quotes (MD5 hex, or <c>md5-N</c> for multipart).</summary>
    public required string ETag { get; init; }

    public required DateTimeOffset LastModified { get; init; }

    public string? ContentType { get; init; }

    public string? ContentEncoding { get; init; }

    public string? CacheControl { get; init; }

    public string? ContentDisposition { get; init; }

    /// <summary>The <c>x-amz-meta-*</c> headers, without the prefix.</summary>
    public IReadOnlyDictionary<string, string> UserMetadata { get; init; } = ReadOnlyDictionary<string, string>.Empty;

    /// <summary>Algorithm name (e.g. <c>CRC32C</c>) to base64 value.</summary>
    public IReadOnlyDictionary<string, string> Checksums { get; init; } = ReadOnlyDictionary<string, string>.Empty;

    /// <summary>K, the number of data shards per stripe.</summary>
    public required int DataShards { get; init; }

    /// <summary>M, the number of parity shards per stripe.</summary>
    public required int ParityShards { get; init; }

    public required int BlockSize { get; init; }

    public required IReadOnlyList<Extent> Extents { get; init; }
}
