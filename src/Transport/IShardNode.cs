using Predastore.Wal;

namespace Predastore.Transport;

/// <summary>
/// The gateway's view of one storage node, whatever carries the requests (in-process, TCP, QUIC). Every request
/// names a full <see cref="ShardKey"/>, shard index included, so a node never guesses which shard is meant
/// (invariant 6).
/// </summary>
public interface IShardNode
{
    int Id { get; }

    /// <summary>Starts writing one shard; cells arrive with their offset in the shard, in any order.</summary>
    IShardUpload BeginPut(ShardKey key);

    /// <summary>Reads up to <c>destination.Length</c> bytes of a committed shard from <paramref name="shardOffset"/>.</summary>
    ValueTask<int> ReadAsync(ShardKey key, long shardOffset, Memory<byte> destination, CancellationToken cancellationToken = default);

    ValueTask DeleteAsync(ShardKey key, CancellationToken cancellationToken = default);

    /// <summary>The committed length of a shard, or null when the node does not hold it.</summary>
    ValueTask<long?> StatAsync(ShardKey key, CancellationToken cancellationToken = default);

    ValueTask<IReadOnlyList<ShardKey>> ListAsync(CancellationToken cancellationToken = default);
}

/// <summary>One shard being written. Not readable until <see cref="CommitAsync"/> completes.</summary>
public interface IShardUpload : IAsyncDisposable
{
    ShardKey Key { get; }

    /// <summary>Completes when the bytes are durable on the node; only then may the caller reuse <paramref name="cells"/>.</summary>
    ValueTask WriteAsync(long shardOffset, ReadOnlyMemory<byte> cells, CancellationToken cancellationToken = default);

    /// <summary>Makes the shard readable with <paramref name="shardLength"/> bytes, durably.</summary>
    ValueTask CommitAsync(long shardLength, CancellationToken cancellationToken = default);
}
