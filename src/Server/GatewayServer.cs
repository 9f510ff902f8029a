using Microsoft.Extensions.Logging;
using Predastore.Ingest.Storage;
using Predastore.Metadata;
using Predastore.Transport;
using Predastore.Transport.Health;

namespace Predastore.Server;

/// <summary>Host-local settings of <c>predastore gateway</c> (flags or environment); the cluster comes from the file.</summary>
internal sealed class ClusterGatewayOptions : S3EndpointOptions
{
    public NodeHealthOptions Health { get; init; } = new();
}

/// <summary>
/// <c>predastore gateway</c>: the S3 gateway over storage nodes in other processes. Each node is reached through the
/// configured transport and watched by health tracking (marked down after repeated failures, probed back), so
/// reads rebuild around dead or hung nodes and writes fail over to the next healthy node on the ring, with the
/// extent queued durably for re-placement.
/// </summary>
internal sealed class GatewayServer : S3Host
{
    private readonly ClusterSettings _settings;
    private readonly ClusterGatewayOptions _options;
    private HealthTrackedNode[] _nodes = [];

    private GatewayServer(ClusterSettings settings, ClusterGatewayOptions options)
    {
        _settings = settings;
        _options = options;
    }

    // Internal for testing.
    internal IReadOnlyList<HealthTrackedNode> Nodes => _nodes;

    public static async Task<GatewayServer> StartAsync(ClusterSettings settings, ClusterGatewayOptions options, CancellationToken cancellationToken = default)
    {
        var server = new GatewayServer(settings, options);
        await server.StartHostAsync(options, cancellationToken).ConfigureAwait(false);
        return server;
    }

    protected override StorageCluster OpenStorage(ILoggerFactory loggers, string dataDirectory, MetadataStore metadata)
    {
        ILogger transportLogger = loggers.CreateLogger("Predastore.Transport");
        _nodes = [.. _settings.Nodes.Select(n => new HealthTrackedNode(
            NodeTransports.Connect(_settings.Transport, n.Id, n.EndPoint, _settings.Security, _settings.Timeouts),
            _options.Health,
            transportLogger))];
        return new StorageCluster(_nodes, _settings.Ring, _settings.Layout) { Replacements = metadata };
    }

    protected override async ValueTask CloseStorageAsync()
    {
        foreach (HealthTrackedNode node in _nodes)
        {
            await node.DisposeAsync().ConfigureAwait(false);
        }
    }
}
