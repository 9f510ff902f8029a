using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Predastore.Wal;

namespace Predastore.Transport.Health;

/// <summary>When the gateway gives up on a node and how it finds out the node is back.</summary>
public sealed class NodeHealthOptions
{
    /// <summary>Consecutive unavailable answers (errors, time-outs, refused connections) that mark a node down.</summary>
    public int FailureThreshold { get; init; } = 3;

    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// A node as the gateway's health tracking sees it. After <see cref="NodeHealthOptions.FailureThreshold"/>
/// consecutive <see cref="ShardFailure.Unavailable"/> failures the node is marked down: requests to it fail at once
/// (so a hung node costs a request one time-out, then nothing), placement skips it, and a background probe asks it
/// for a stat every <see cref="NodeHealthOptions.ProbeInterval"/> until it answers and is marked up again.
/// Answers such as "not found" or "corrupt" come from a live node and count as success.
/// </summary>
public sealed class HealthTrackedNode : IShardNode, IAsyncDisposable
{
    private readonly IShardNode _inner;
    private readonly NodeHealthOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private int _failures;
    private int _down;

    // What the last failure counted was caused by. A lost shard stream fails every write in flight on it, each with
    // its own exception around the stream's one: that is one failure of the node, not one per write (the upload
    // pipeline keeps four in flight, above the threshold of three).
    private Exception? _lastCause;
    private Task _probe = Task.CompletedTask;

    public HealthTrackedNode(IShardNode inner, NodeHealthOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _options = options ?? new NodeHealthOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.FailureThreshold, 1, nameof(options));
        _logger = logger ?? NullLogger.Instance;
    }

    public int Id => _inner.Id;

    public bool IsHealthy => Volatile.Read(ref _down) == 0;

    public IShardNode Inner => _inner;

    public IShardUpload BeginPut(ShardKey key) => new Upload(this, _inner.BeginPut(key));

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReadAsync(ShardKey key, long shardOffset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ThrowIfDown();
        try
        {
            int read = await _inner.ReadAsync(key, shardOffset, destination, cancellationToken).ConfigureAwait(false);
            Succeeded();
            return read;
        }
        catch (ShardException ex)
        {
            Failed(ex);
            throw;
        }
    }

    public async ValueTask DeleteAsync(ShardKey key, CancellationToken cancellationToken = default)
    {
        ThrowIfDown();
        try
        {
            await _inner.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            Succeeded();
        }
        catch (ShardException ex)
        {
            Failed(ex);
            throw;
        }
    }

    public async ValueTask<long?> StatAsync(ShardKey key, CancellationToken cancellationToken = default)
    {
        ThrowIfDown();
        try
        {
            long? length = await _inner.StatAsync(key, cancellationToken).ConfigureAwait(false);
            Succeeded();
            return length;
        }
        catch (ShardException ex)
        {
            Failed(ex);
            throw;
        }
    }

    public async ValueTask<IReadOnlyList<ShardKey>> ListAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDown();
        try
        {
            IReadOnlyList<ShardKey> keys = await _inner.ListAsync(cancellationToken).ConfigureAwait(false);
            Succeeded();
            return keys;
        }
        catch (ShardException ex)
        {
            Failed(ex);
            throw;
        }
    }

    /// <summary>Marks the node down now (a failure seen elsewhere). Internal for testing.</summary>
    internal void MarkDown(string reason)
    {
        if (Interlocked.Exchange(ref _down, 1) == 0)
        {
            TransportLog.NodeDown(_logger, Id, Volatile.Read(ref _failures), reason);
            _probe = Task.Run(ProbeAsync);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _probe.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
        if (_inner is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void ThrowIfDown()
    {
        if (Volatile.Read(ref _down) != 0)
        {
            throw new ShardException(ShardFailure.Unavailable, Id, $"Node {Id} is marked down; waiting for it to answer a probe.");
        }
    }

    private void Succeeded()
    {
        if (Volatile.Read(ref _failures) != 0)
        {
            Volatile.Write(ref _failures, 0);
        }
    }

    private void Failed(ShardException ex)
    {
        if (ex.Failure != ShardFailure.Unavailable)
        {
            Succeeded();
            return;
        }

        Exception cause = ex.InnerException ?? ex;
        if (ReferenceEquals(Interlocked.Exchange(ref _lastCause, cause), cause))
        {
            return;
        }

        if (Interlocked.Increment(ref _failures) >= _options.FailureThreshold)
        {
            MarkDown(ex.Message);
        }
    }

    private async Task ProbeAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.ProbeInterval, _stopping.Token).ConfigureAwait(false);
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                deadline.CancelAfter(_options.ProbeTimeout);
                await _inner.StatAsync(default, deadline.Token).ConfigureAwait(false);
            }
            catch (ShardException ex) when (ex.Failure == ShardFailure.Unavailable)
            {
                continue;
            }
            catch (ShardException)
            {
                // Any other answer comes from a live node.
            }
            catch (OperationCanceledException)
            {
                continue;
            }

            Volatile.Write(ref _failures, 0);
            Volatile.Write(ref _down, 0);
            TransportLog.NodeUp(_logger, Id);
            return;
        }
    }

    private sealed class Upload(HealthTrackedNode node, IShardUpload inner) : IShardUpload
    {
        public ShardKey Key => inner.Key;

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        public async ValueTask WriteAsync(long shardOffset, ReadOnlyMemory<byte> cells, CancellationToken cancellationToken = default)
        {
            node.ThrowIfDown();
            try
            {
                await inner.WriteAsync(shardOffset, cells, cancellationToken).ConfigureAwait(false);
                node.Succeeded();
            }
            catch (ShardException ex)
            {
                node.Failed(ex);
                throw;
            }
        }

        public async ValueTask CommitAsync(long shardLength, CancellationToken cancellationToken = default)
        {
            node.ThrowIfDown();
            try
            {
                await inner.CommitAsync(shardLength, cancellationToken).ConfigureAwait(false);
                node.Succeeded();
            }
            catch (ShardException ex)
            {
                node.Failed(ex);
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (node.IsHealthy)
            {
                await inner.DisposeAsync().ConfigureAwait(false);
                return;
            }

            // The inner upload must still close its stream and give its connection back, but its best-effort
            // abandon of a node known to be down would hold the failing request for another time-out: it finishes
            // in the background (the node drops uncommitted writes on restart anyway).
            _ = inner.DisposeAsync().AsTask().ContinueWith(
                static t => _ = t.Exception,
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }
}
