namespace Predastore.Ingest;

/// <summary>Settings of the S3 endpoint.</summary>
public sealed class GatewayOptions
{
    public string Region { get; set; } = "us-east-1";

    /// <summary>Requests to <c>bucket.{VirtualHostDomain}</c> are virtual-hosted style; path style always works.</summary>
    public string? VirtualHostDomain { get; set; } = "localhost";

    /// <summary>The largest single PUT, as in S3.</summary>
    public long MaxObjectSize { get; set; } = 5L * 1024 * 1024 * 1024;

    /// <summary>Every part of a multipart upload but the last must be at least this large, as in S3.</summary>
    public long MinimumPartSize { get; set; } = 5L * 1024 * 1024;

    /// <summary>Multipart uploads neither completed nor aborted within this time are aborted and their parts deleted.</summary>
    public TimeSpan AbortIncompleteUploadsAfter { get; set; } = TimeSpan.FromDays(7);
}
