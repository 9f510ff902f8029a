using Microsoft.Extensions.Logging;
using Predastore.Ingest.Storage;
using Predastore.Metadata;
using Predastore.Transport;
using Predastore.Transport.InProcess;
using Predastore.Transport.Placement;
using Predastore.Wal;

namespace Predastore.Server;

/// <summary>
/// <c>predastore serve</c>: the S3 gateway and its storage nodes in one process, over the in-process transport,
/// with the embedded metadata store. Everything lives under one data directory, so a restart on the same
/// directory serves every object written before.
/// </summary>
internal sealed class EmbeddedServer : S3Host
{
    private readonly ServeOptions _options;
    private readonly List<ShardServer> _nodes = [];

    private EmbeddedServer(ServeOptions options) => _options = options;

    public static string NodeDirectory(string dataDirectory, int nodeId) => Path.Combine(dataDirectory, $"node-{nodeId}");

    public static async Task<EmbeddedServer> StartAsync(ServeOptions options, CancellationToken cancellationToken = default)
    {
        var server = new EmbeddedServer(options);
        await server.StartHostAsync(options, cancellationToken).ConfigureAwait(false);
        return server;
    }

    protected override StorageCluster OpenStorage(ILoggerFactory loggers, string dataDirectory, MetadataStore metadata)
    {
        for (int id = 1; id <= _options.Nodes; id++)
        {
            WriteAheadLog wal = WriteAheadLog.Open(
                new WalOptions { Directory = NodeDirectory(dataDirectory, id), SegmentSize = _options.SegmentSize },
                loggers.CreateLogger($"Predastore.Wal.Node{id}"));
            _nodes.Add(new ShardServer(id, wal, loggers.CreateLogger("Predastore.Transport")));
        }

        return new StorageCluster(
            [.. _nodes.Select(n => new InProcessShardNode(n))],
            [.. _nodes.Select(n => new RingNode(n.NodeId))],
            new StripeLayout(_options.DataShards, _options.ParityShards, _options.BlockSize));
    }

    /// <summary>Closes the WALs cleanly, after the gateway has drained.</summary>
    protected override async ValueTask CloseStorageAsync()
    {
        foreach (ShardServer node in _nodes)
        {
            await node.DisposeAsync().ConfigureAwait(false);
        }

        _nodes.Clear();
    }
}
