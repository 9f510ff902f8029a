using Predastore.Wal;

namespace Predastore.Transport;

/// <summary>
/// What a node transport serves requests against: <see cref="ShardServer"/> over the node's WAL in a real node, or
/// a stand-in (a benchmark's sink). Failures are <see cref="ShardException"/>s.
/// </summary>
public interface IShardStore
{
    int NodeId { get; }

    ValueTask WriteAsync(ShardKey key, long shardOffset, ReadOnlyMemory<byte> cells, CancellationToken cancellationToken = default);

    ValueTask CommitAsync(ShardKey key, long shardLength, CancellationToken cancellationToken = default);

    void Abandon(ShardKey key);

    ValueTask<int> ReadAsync(ShardKey key, long shardOffset, Memory<byte> destination, CancellationToken cancellationToken = default);

    ValueTask DeleteAsync(ShardKey key, CancellationToken cancellationToken = default);

    long? Stat(ShardKey key);

    IReadOnlyList<ShardKey> List();
}
