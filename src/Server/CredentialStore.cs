using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Predastore.Server;

/// <summary>One access key and its secret.</summary>
internal sealed record Credentials(string AccessKey, string SecretKey);

/// <summary>
/// Where the gateway's credentials come from: given explicitly (flags or environment), or generated once on first
/// start and kept, readable by the owner only, in the data directory.
/// </summary>
internal static class CredentialStore
{
    public const string FileName = "credentials.json";
    private const string AccessKeyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private const string SecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /// <summary>Returns the credentials and whether they were generated just now (then they are printed once).</summary>
    public static (Credentials Credentials, bool Generated) LoadOrCreate(string dataDirectory, string? accessKey, string? secretKey)
    {
        if (!string.IsNullOrEmpty(accessKey) || !string.IsNullOrEmpty(secretKey))
        {
            if (string.IsNullOrEmpty(accessKey) || string.IsNullOrEmpty(secretKey))
            {
                throw new ArgumentException("Give both an access key and a secret key (PREDASTORE_ACCESS_KEY and PREDASTORE_SECRET_KEY), or neither.");
            }

            return (new Credentials(accessKey, secretKey), false);
        }

        string path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            Credentials? stored = JsonSerializer.Deserialize(File.ReadAllText(path), CredentialsJsonContext.Default.Credentials);
            if (stored is null || string.IsNullOrEmpty(stored.AccessKey) || string.IsNullOrEmpty(stored.SecretKey))
            {
                throw new InvalidDataException($"{path} does not hold an access key and a secret key.");
            }

            return (stored, false);
        }

        var generated = new Credentials(
            "PS" + RandomNumberGenerator.GetString(AccessKeyAlphabet, 18),
            RandomNumberGenerator.GetString(SecretAlphabet, 40));
        PrivateFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(generated, CredentialsJsonContext.Default.Credentials));
        return (generated, true);
    }
}

[JsonSerializable(typeof(Credentials))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
internal sealed partial class CredentialsJsonContext : JsonSerializerContext;
