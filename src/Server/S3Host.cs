using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
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

namespace Predastore.Server;

/// <summary>What every S3 endpoint is configured with, whatever storage sits behind it.</summary>
internal abstract class S3EndpointOptions
{
    public required string DataDirectory { get; init; }

    public string Address { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (tests).</summary>
    public int Port { get; init; } = 9000;

    public bool Tls { get; init; }

    /// <summary>A PEM or PFX certificate; without one, <see cref="Tls"/> uses a self-signed one kept in the data directory.</summary>
    public string? TlsCertificate { get; init; }

    public string? TlsKey { get; init; }

    public string? AccessKey { get; init; }

    public string? SecretKey { get; init; }

    public string Region { get; init; } = "us-east-1";

    /// <summary>Multipart uploads left unfinished this long are aborted and their parts deleted.</summary>
    public TimeSpan AbortIncompleteUploadsAfter { get; init; } = TimeSpan.FromDays(7);

    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>
    /// 64 KiB socket receives (<see cref="LargeBlockMemoryPoolFactory"/>). Internal for benchmarking: the
    /// benchmark compares it with Kestrel's defaults in one run.
    /// </summary>
    internal bool LargeReceives { get; init; } = true;
}

/// <summary>
/// An S3 endpoint: credentials, Kestrel (HTTP or HTTPS), the metadata store, the gateway and its background
/// maintenance, over the storage a subclass composes (in-process nodes for <c>serve</c>, remote nodes for
/// <c>gateway</c>). Stopping drains in-flight requests before the storage closes.
/// </summary>
internal abstract class S3Host : IAsyncDisposable
{
    public const string MetadataFileName = "metadata.db";

    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private Task _maintenance = Task.CompletedTask;
    private bool _disposed;

    public Uri Endpoint { get; private set; } = null!;

    public Credentials Credentials { get; private set; } = null!;

    public bool CredentialsGenerated { get; private set; }

    // Internal for testing.
    internal StorageCluster Cluster { get; private set; } = null!;

    // Internal for testing.
    internal MetadataStore Metadata { get; private set; } = null!;

    // Internal for testing.
    internal S3Gateway Gateway { get; private set; } = null!;

    /// <summary>Waits for Ctrl-C, SIGTERM or <paramref name="cancellationToken"/>.</summary>
    public async Task WaitForShutdownAsync(CancellationToken cancellationToken = default)
    {
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IHostApplicationLifetime lifetime = _app!.Services.GetRequiredService<IHostApplicationLifetime>();
        using CancellationTokenRegistration onStop = lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());
        using CancellationTokenRegistration onCancel = cancellationToken.Register(() => stopping.TrySetResult());
        await stopping.Task.ConfigureAwait(false);
    }

    /// <summary>Stops taking requests, lets in-flight ones finish, then closes the storage and the metadata store.</summary>
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
        if (_app is not null)
        {
            await _app.StopAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }

        await CloseStorageAsync().ConfigureAwait(false);
        Metadata?.Dispose();
    }

    /// <summary>Opens the storage the gateway writes to. Called once, during <see cref="StartHostAsync"/>.</summary>
    protected abstract StorageCluster OpenStorage(ILoggerFactory loggers, string dataDirectory, MetadataStore metadata);

    /// <summary>Closes what <see cref="OpenStorage"/> opened (also after a failed start).</summary>
    protected abstract ValueTask CloseStorageAsync();

    protected async Task StartHostAsync(S3EndpointOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        string data = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(data);
        (Credentials, CredentialsGenerated) = CredentialStore.LoadOrCreate(data, options.AccessKey, options.SecretKey);
        X509Certificate2? certificate = options.Tls ? TlsCertificate.Load(data, options.TlsCertificate, options.TlsKey) : null;
        if (!IPAddress.TryParse(options.Address, out IPAddress? address))
        {
            throw new ClusterConfigurationException("--address", $"'{options.Address}' is not an IP address.");
        }

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
        if (options.LargeReceives)
        {
            // Receive straight into 64 KiB blocks rather than peeking a byte and reading 4 KiB at a time.
            builder.Services.AddSingleton<IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();
            builder.WebHost.UseSockets(sockets => sockets.WaitForDataBeforeAllocatingBuffer = false);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // The gateway enforces S3's own object size limit, with S3's error.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(address, options.Port, listen =>
            {
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
        });

        _app = builder.Build();
        ILoggerFactory loggers = _app.Services.GetRequiredService<ILoggerFactory>();
        try
        {
            Metadata = MetadataStore.Open(Path.Combine(data, MetadataFileName));
            Cluster = OpenStorage(loggers, data, Metadata);
            Credentials credentials = Credentials;
            var verifier = new SigV4Verifier(
                accessKey => accessKey == credentials.AccessKey ? credentials.SecretKey : null,
                options.Region,
                TimeProvider.System);
            var gatewayOptions = new GatewayOptions { Region = options.Region, AbortIncompleteUploadsAfter = options.AbortIncompleteUploadsAfter };
            Gateway = new S3Gateway(Metadata, Cluster, verifier, gatewayOptions, loggers.CreateLogger("Predastore.Gateway"), TimeProvider.System);
            _app.Run(Gateway.HandleAsync);
            await _app.StartAsync(cancellationToken).ConfigureAwait(false);
            Endpoint = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

            // Garbage a previous run left (it stopped between a commit and the deletes), then every so often;
            // remote nodes may still be starting, so none of this holds up the start.
            _ = Task.Run(Gateway.ReclaimGarbageAsync, CancellationToken.None);
            _maintenance = Gateway.RunMaintenanceAsync(_stopping.Token);
        }
        catch
        {
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
