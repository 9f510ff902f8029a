using Microsoft.Extensions.Logging;

namespace Predastore.Server;

/// <summary>Settings of <c>predastore serve</c>: one process, the gateway and three in-process storage nodes.</summary>
internal sealed class ServeOptions
{
    public required string DataDirectory { get; init; }

    public string Address { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (tests).</summary>
    public int Port { get; init; } = 9000;

    public bool Tls { get; init; }

    /// <summary>A PEM or PFX certificate; without one, <see cref="Tls"/> uses a self-signed one kept in the data directory.</summary>
    public string? TlsCertificate { get; init; }

    public string? TlsKey { get; init; }

    public string? AccessKey { get; init; }

    public string? SecretKey { get; init; }

    public string Region { get; init; } = "us-east-1";

    public int Nodes { get; init; } = 3;

    public int DataShards { get; init; } = 2;

    public int ParityShards { get; init; } = 1;

    public int BlockSize { get; init; } = 1024 * 1024;

    public long SegmentSize { get; init; } = 64L * 1024 * 1024;

    /// <summary>Multipart uploads left unfinished this long are aborted and their parts deleted.</summary>
    public TimeSpan AbortIncompleteUploadsAfter { get; init; } = TimeSpan.FromDays(7);

    public LogLevel LogLevel { get; init; } = LogLevel.Information;
}
