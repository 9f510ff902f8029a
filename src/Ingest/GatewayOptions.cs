namespace Predastore.Ingest;

/// <summary>Settings of the S3 endpoint.</summary>
public sealed class GatewayOptions
{
    public string Region { get; set; } = "us-east-1";

    /// <summary>Requests to <c>bucket.{VirtualHostDomain}</c> are virtual-hosted style; path style always works.</summary>
    public string? VirtualHostDomain { get; set; } = "localhost";

    /// <summary>The largest single PUT, as in S3.</summary>
    public long MaxObjectSize { get; set; } = 5L * 1024 * 1024 * 1024;

    public IReadOnlyDictionary<string, string> Credentials { get; set; } = new Dictionary<string, string>();
}
