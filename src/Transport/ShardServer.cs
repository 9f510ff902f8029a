using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Predastore.Wal;

namespace Predastore.Transport;

/// <summary>
/// The storage-node side of the node protocol: serves put-shard, read-range, delete, stat and list against the
/// node's write-ahead log, and turns engine errors into <see cref="ShardException"/>s the gateway understands.
/// Every transport (in-process, TCP, QUIC) ends here.
/// </summary>
public sealed class ShardServer : IShardStore, IAsyncDisposable
{
    private const int DiskFullErrno = 28;

    private readonly WriteAheadLog _wal;
    private readonly ILogger _logger;

    public ShardServer(int nodeId, WriteAheadLog wal, ILogger? logger = null)
    {
        NodeId = nodeId;
        _wal = wal;
        _logger = logger ?? NullLogger.Instance;
    }

    public int NodeId { get; }

    // Pooled: an append always waits for its group commit, so a plain async method would allocate its state machine
    // on every write; the pooled one is reused unless the caller has moved to another thread meanwhile (0.1–0.5% of
    // writes, measured). Awaited rather than handed back: a failure must reach callers as a ShardException.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(ShardKey key, long shardOffset, ReadOnlyMemory<byte> cells, CancellationToken cancellationToken = default)
    {
        TransportLog.ShardWrite(_logger, key, NodeId, shardOffset, cells.Length);
        try
        {
            await _wal.AppendAsync(key, shardOffset, cells, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw Translate(ex, key);
        }
    }

    public async ValueTask CommitAsync(ShardKey key, long shardLength, CancellationToken cancellationToken = default)
    {
        TransportLog.ShardCommit(_logger, key, NodeId, shardLength);
        try
        {
            await _wal.CommitAsync(key, shardLength, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw Translate(ex, key);
        }
    }

    /// <summary>Forgets the uncommitted data of an upload that will never commit.</summary>
    public void Abandon(ShardKey key)
    {
        TransportLog.ShardAbandon(_logger, key, NodeId);
        _wal.Abandon(key);
    }

    public async ValueTask<int> ReadAsync(ShardKey key, long shardOffset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        TransportLog.ShardRead(_logger, key, NodeId, shardOffset, destination.Length);
        try
        {
            return await _wal.ReadAsync(key, shardOffset, destination, cancellationToken).ConfigureAwait(false);
        }
        catch (ShardNotFoundException ex)
        {
            throw new ShardException(ShardFailure.NotFound, NodeId, $"Node {NodeId} has no shard {key}.", ex);
        }
        catch (ShardCorruptException ex)
        {
            TransportLog.ShardCorrupt(_logger, key, NodeId);
            throw new ShardException(ShardFailure.Corrupt, NodeId, $"Node {NodeId} found shard {key} corrupt.", ex);
        }
    }

    public async ValueTask DeleteAsync(ShardKey key, CancellationToken cancellationToken = default)
    {
        TransportLog.ShardDelete(_logger, key, NodeId);
        await _wal.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
    }

    public long? Stat(ShardKey key) => _wal.TryGetLength(key, out long length) ? length : null;

    public IReadOnlyList<ShardKey> List() => _wal.ListShards();

    public ValueTask DisposeAsync() => _wal.DisposeAsync();

    /// <summary>A failed append or commit: the WAL puts the errno of the failed write or sync in HResult.</summary>
    private ShardException Translate(IOException ex, ShardKey key)
    {
        ShardFailure failure = (ex.HResult & 0xFFFF) == DiskFullErrno ? ShardFailure.InsufficientStorage : ShardFailure.Unavailable;
        return new ShardException(failure, NodeId, $"Node {NodeId} could not write shard {key}: {ex.Message}", ex);
    }
}
