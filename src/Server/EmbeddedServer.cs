using System.Net;
using System.Security.Cryptography.X509Certificates;
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
using Predastore.Transport.InProcess;
using Predastore.Transport.Placement;
using Predastore.Wal;

namespace Predastore.Server;

/// <summary>
/// <c>predastore serve</c>: the S3 gateway and its storage nodes in one process, over the in-process transport,
/// with the embedded metadata store. Everything lives under one data directory, so a restart on the same
/// directory serves every object written before.
/// </summary>
internal sealed class EmbeddedServer : IAsyncDisposable
{
    public const string MetadataFileName = "metadata.db";

    private readonly WebApplication _app;
    private readonly ShardServer[] _nodes;
    private readonly MetadataStore _metadata;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _maintenance;
    private bool _disposed;

    private EmbeddedServer(WebApplication app, ShardServer[] nodes, MetadataStore metadata, StorageCluster cluster, S3Gateway gateway, Credentials credentials, bool credentialsGenerated, Uri endpoint)
    {
        _app = app;
        Gateway = gateway;
        _maintenance = gateway.RunMaintenanceAsync(_stopping.Token);
        _nodes = nodes;
        _metadata = metadata;
        Cluster = cluster;
        Credentials = credentials;
        CredentialsGenerated = credentialsGenerated;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    public Credentials Credentials { get; }

    public bool CredentialsGenerated { get; }

    // Internal for testing.
    internal StorageCluster Cluster { get; }

    // Internal for testing.
    internal MetadataStore Metadata => _metadata;

    // Internal for testing.
    internal S3Gateway Gateway { get; }

    public static string NodeDirectory(string dataDirectory, int nodeId) => Path.Combine(dataDirectory, $"node-{nodeId}");

    public static async Task<EmbeddedServer> StartAsync(ServeOptions options, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        string data = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(data);
        (Credentials credentials, bool generated) = CredentialStore.LoadOrCreate(data, options.AccessKey, options.SecretKey);
        X509Certificate2? certificate = options.Tls ? TlsCertificate.Load(data, options.TlsCertificate, options.TlsKey) : null;

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

            // The gateway enforces S3's own object size limit, with S3's error.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(IPAddress.Parse(options.Address), options.Port, listen =>
            {
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
        });

        WebApplication app = builder.Build();
        ILoggerFactory loggers = app.Services.GetRequiredService<ILoggerFactory>();
        var nodes = new ShardServer[options.Nodes];
        MetadataStore? metadata = null;
        try
        {
            for (int i = 0; i < nodes.Length; i++)
            {
                int id = i + 1;
                WriteAheadLog wal = WriteAheadLog.Open(
                    new WalOptions { Directory = NodeDirectory(data, id), SegmentSize = options.SegmentSize },
                    loggers.CreateLogger($"Predastore.Wal.Node{id}"));
                nodes[i] = new ShardServer(id, wal, loggers.CreateLogger("Predastore.Transport"));
            }

            metadata = MetadataStore.Open(Path.Combine(data, MetadataFileName));
            var cluster = new StorageCluster(
                [.. nodes.Select(n => new InProcessShardNode(n))],
                [.. nodes.Select(n => new RingNode(n.NodeId))],
                new StripeLayout(options.DataShards, options.ParityShards, options.BlockSize));
            var gatewayOptions = new GatewayOptions { Region = options.Region, AbortIncompleteUploadsAfter = options.AbortIncompleteUploadsAfter };
            var verifier = new SigV4Verifier(
                accessKey => accessKey == credentials.AccessKey ? credentials.SecretKey : null,
                options.Region,
                TimeProvider.System);
            var gateway = new S3Gateway(metadata, cluster, verifier, gatewayOptions, loggers.CreateLogger("Predastore.Gateway"), TimeProvider.System);
            app.Run(gateway.HandleAsync);

            await gateway.ReclaimGarbageAsync().ConfigureAwait(false);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new EmbeddedServer(app, nodes, metadata, cluster, gateway, credentials, generated, new Uri(address));
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            foreach (ShardServer? node in nodes)
            {
                if (node is not null)
                {
                    await node.DisposeAsync().ConfigureAwait(false);
                }
            }

            metadata?.Dispose();
            throw;
        }
    }

    /// <summary>Waits for Ctrl-C, SIGTERM or <paramref name="cancellationToken"/>.</summary>
    public async Task WaitForShutdownAsync(CancellationToken cancellationToken = default)
    {
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IHostApplicationLifetime lifetime = _app.Services.GetRequiredService<IHostApplicationLifetime>();
        using CancellationTokenRegistration onStop = lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());
        using CancellationTokenRegistration onCancel = cancellationToken.Register(() => stopping.TrySetResult());
        await stopping.Task.ConfigureAwait(false);
    }

    /// <summary>Stops taking requests, lets in-flight ones finish, then closes the WALs and the metadata store cleanly.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _maintenance.ConfigureAwait(false);
        _stopping.Dispose();
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        foreach (ShardServer node in _nodes)
        {
            await node.DisposeAsync().ConfigureAwait(false);
        }

        _metadata.Dispose();
    }
}
