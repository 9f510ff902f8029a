namespace Predastore.Server;

/// <summary>Settings of <c>predastore serve</c>: one process, the gateway and three in-process storage nodes.</summary>
internal sealed class ServeOptions : S3EndpointOptions
{
    public int Nodes { get; init; } = 3;

    public int DataShards { get; init; } = 2;

    public int ParityShards { get; init; } = 1;

    public const int DefaultBlockSize = 1024 * 1024;

    public int BlockSize { get; init; } = DefaultBlockSize;

    /// <summary>
    /// Smaller than the WAL's 256 MiB default: every node preallocates a whole segment, and <c>serve</c> runs three
    /// nodes on one disk, often a laptop's.
    /// </summary>
    public long SegmentSize { get; init; } = 64L * 1024 * 1024;
}
