using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Predastore.Ingest;
using Predastore.Ingest.Auth;
using Predastore.Ingest.S3;
using Predastore.Ingest.Storage;
using Predastore.Metadata;
using Predastore.Transport;
using Predastore.Transport.Health;

namespace Predastore.Server;

/// <summary>Host-local settings of <c>predastore gateway</c> (flags or environment); the cluster comes from the file.</summary>
internal sealed class ClusterGatewayOptions
{
    public required string DataDirectory { get; init; }

    public string Address { get; init; } = "127.0.0.1";

    public int Port { get; init; } = 9000;

    public string? AccessKey { get; init; }

    public string? SecretKey { get; init; }

    public string Region { get; init; } = "us-east-1";

    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    public NodeHealthOptions Health { get; init; } = new();
}

/// <summary>
/// <c>predastore gateway</c>: the S3 gateway over storage nodes in other processes. Each node is reached through the
/// configured transport and watched by health tracking (marked down after repeated failures, probed back), so
/// reads rebuild around dead or hung nodes and writes fail over to the next healthy node on the ring, with the
/// extent queued durably for re-placement.
/// </summary>
internal sealed class GatewayServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HealthTrackedNode[] _nodes;
    private readonly MetadataStore _metadata;
    private bool _disposed;

    private GatewayServer(WebApplication app, HealthTrackedNode[] nodes, MetadataStore metadata, Credentials credentials, bool generated, Uri endpoint)
    {
        _app = app;
        _nodes = nodes;
        _metadata = metadata;
        Credentials = credentials;
        CredentialsGenerated = generated;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    public Credentials Credentials { get; }

    public bool CredentialsGenerated { get; }

    // Internal for testing.
    internal MetadataStore Metadata => _metadata;

    // Internal for testing.
    internal IReadOnlyList<HealthTrackedNode> Nodes => _nodes;

    public static async Task<GatewayServer> StartAsync(ClusterSettings settings, ClusterGatewayOptions options, CancellationToken cancellationToken = default)
    {
        string data = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(data);
        if (!IPAddress.TryParse(options.Address, out IPAddress? address))
        {
            throw new ClusterConfigurationException("--address", $"'{options.Address}' is not an IP address.");
        }

        (Credentials credentials, bool generated) = CredentialStore.LoadOrCreate(data, options.AccessKey, options.SecretKey);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "predastore" });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.SetMinimumLevel(options.LogLevel);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(address, options.Port);
        });

        WebApplication app = builder.Build();
        ILoggerFactory loggers = app.Services.GetRequiredService<ILoggerFactory>();
        ILogger transportLogger = loggers.CreateLogger("Predastore.Transport");
        HealthTrackedNode[] nodes = [.. settings.Nodes.Select(n => new HealthTrackedNode(
            NodeTransports.Connect(settings.Transport, n.Id, n.EndPoint, settings.Security, settings.Timeouts),
            options.Health,
            transportLogger))];
        MetadataStore? metadata = null;
        try
        {
            metadata = MetadataStore.Open(Path.Combine(data, EmbeddedServer.MetadataFileName));
            var cluster = new StorageCluster(nodes, settings.Ring, settings.Layout) { Replacements = metadata };
            var verifier = new SigV4Verifier(
                accessKey => accessKey == credentials.AccessKey ? credentials.SecretKey : null,
                options.Region,
                TimeProvider.System);
            var gateway = new S3Gateway(metadata, cluster, verifier, new GatewayOptions { Region = options.Region }, loggers.CreateLogger("Predastore.Gateway"), TimeProvider.System);
            app.Run(gateway.HandleAsync);
            await app.StartAsync(cancellationToken);

            // Garbage from a previous run is reclaimed in the background: nodes may still be starting.
            _ = Task.Run(gateway.ReclaimGarbageAsync, CancellationToken.None);
            string listening = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new GatewayServer(app, nodes, metadata, credentials, generated, new Uri(listening));
        }
        catch
        {
            await app.DisposeAsync();
            foreach (HealthTrackedNode node in nodes)
            {
                await node.DisposeAsync();
            }

            metadata?.Dispose();
            throw;
        }
    }

    public async Task WaitForShutdownAsync(CancellationToken cancellationToken = default)
    {
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IHostApplicationLifetime lifetime = _app.Services.GetRequiredService<IHostApplicationLifetime>();
        using CancellationTokenRegistration onStop = lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());
        using CancellationTokenRegistration onCancel = cancellationToken.Register(() => stopping.TrySetResult());
        await stopping.Task;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (HealthTrackedNode node in _nodes)
        {
            await node.DisposeAsync();
        }

        _metadata.Dispose();
    }
}
