namespace Predastore.Wal;

/// <summary>A storage-node engine failure: the log failed, or a shard is missing or corrupt.</summary>
public class WalException : IOException
{
    public WalException()
    {
    }

    public WalException(string message)
        : base(message)
    {
    }

    public WalException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The shard has no durable commit on this node (never written, not yet committed, or deleted).</summary>
public sealed class ShardNotFoundException : WalException
{
    public ShardNotFoundException(ShardKey key)
        : base($"Shard {key} is not committed on this node.")
    {
        Key = key;
    }

    public ShardKey Key { get; }
}

/// <summary>
/// A record holding the requested bytes failed its checksum or does not say what the index expects. The caller
/// reads the block from other shards (degraded read); the rest of this shard may still be readable.
/// </summary>
public sealed class ShardCorruptException : WalException
{
    public ShardCorruptException(ShardKey key, string message)
        : base(message)
    {
        Key = key;
    }

    public ShardKey Key { get; }
}
