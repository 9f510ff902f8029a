using Predastore.Wal;

namespace Predastore.Transport.InProcess;

/// <summary>
/// The in-process transport: the gateway and the node share a process, so a request is a method call and a
/// cell is handed over by reference (the node's WAL writes straight from the gateway's pooled buffer).
/// </summary>
public sealed class InProcessShardNode : IShardNode
{
    private readonly ShardServer _server;

    public InProcessShardNode(ShardServer server) => _server = server;

    public int Id => _server.NodeId;

    public IShardUpload BeginPut(ShardKey key) => new Upload(_server, key);

    public ValueTask<int> ReadAsync(ShardKey key, long shardOffset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        _server.ReadAsync(key, shardOffset, destination, cancellationToken);

    public ValueTask DeleteAsync(ShardKey key, CancellationToken cancellationToken = default) =>
        _server.DeleteAsync(key, cancellationToken);

    public ValueTask<long?> StatAsync(ShardKey key, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_server.Stat(key));

    public ValueTask<IReadOnlyList<ShardKey>> ListAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_server.List());

    private sealed class Upload(ShardServer server, ShardKey key) : IShardUpload
    {
        private bool _committed;

        public ShardKey Key => key;

        public ValueTask WriteAsync(long shardOffset, ReadOnlyMemory<byte> cells, CancellationToken cancellationToken = default) =>
            server.WriteAsync(key, shardOffset, cells, cancellationToken);

        public async ValueTask CommitAsync(long shardLength, CancellationToken cancellationToken = default)
        {
            await server.CommitAsync(key, shardLength, cancellationToken).ConfigureAwait(false);
            _committed = true;
        }

        public ValueTask DisposeAsync()
        {
            // An upload disposed before its commit is abandoned: its data never becomes readable.
            if (!_committed)
            {
                server.Abandon(key);
            }

            return ValueTask.CompletedTask;
        }
    }
}
