namespace Predastore.Transport;

public enum ShardFailure
{
    /// <summary>The node does not hold the shard (or not at the offset asked for).</summary>
    NotFound,

    /// <summary>The node holds the shard but a checksum did not match.</summary>
    Corrupt,

    /// <summary>The node has no space for the write.</summary>
    InsufficientStorage,

    /// <summary>The node could not be reached or failed the request.</summary>
    Unavailable,
}

/// <summary>A shard request failed on its node; the gateway decides whether parity can cover for it.</summary>
public sealed class ShardException : IOException
{
    public ShardException(ShardFailure failure, int nodeId, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
        NodeId = nodeId;
    }

    public ShardFailure Failure { get; }

    public int NodeId { get; }
}
