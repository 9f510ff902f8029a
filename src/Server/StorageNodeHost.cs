using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Predastore.Transport;
using Predastore.Transport.Quic;
using Predastore.Transport.Tcp;
using Predastore.Wal;

namespace Predastore.Server;

/// <summary>
/// <c>predastore node</c>: one storage node (a WAL in a data directory) behind the node transport. Opening the WAL
/// replays it, so a node killed with SIGKILL and started again serves every shard it acknowledged.
/// </summary>
internal sealed class StorageNodeHost : IAsyncDisposable
{
    private readonly ShardServer _server;
    private readonly IAsyncDisposable _listener;

    private StorageNodeHost(ShardServer server, IAsyncDisposable listener, IPEndPoint endPoint)
    {
        _server = server;
        _listener = listener;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    public static async Task<StorageNodeHost> StartAsync(int id, string dataDirectory, string listen, ClusterSettings settings, ILoggerFactory loggers, CancellationToken cancellationToken = default)
    {
        if (id < 1)
        {
            throw new ClusterConfigurationException("--id", "must be 1 or more.");
        }

        if (settings.Nodes.Count > 0 && settings.Nodes.All(n => n.Id != id))
        {
            throw new ClusterConfigurationException("--id", $"node {id} is not among the cluster file's nodes ({string.Join(", ", settings.Nodes.Select(n => n.Id))}).");
        }

        EndPoint parsed;
        try
        {
            parsed = NodeAddress.Parse(listen, "--listen");
        }
        catch (FormatException ex)
        {
            throw new ClusterConfigurationException("--listen", ex.Message);
        }

        if (parsed is not IPEndPoint endPoint)
        {
            IPAddress[] addresses = await Dns.GetHostAddressesAsync(((DnsEndPoint)parsed).Host, cancellationToken);
            endPoint = new IPEndPoint(addresses.First(), ((DnsEndPoint)parsed).Port);
        }

        try
        {
            settings.Security.EnsureAllowed(endPoint, "--listen");
        }
        catch (InvalidOperationException ex)
        {
            throw new ClusterConfigurationException("--listen", ex.Message);
        }

        WriteAheadLog wal = WriteAheadLog.Open(
            new WalOptions { Directory = Path.GetFullPath(dataDirectory) },
            loggers.CreateLogger($"Predastore.Wal.Node{id}"));
        var server = new ShardServer(id, wal, loggers.CreateLogger("Predastore.Transport"));
        try
        {
            ILogger logger = loggers.CreateLogger("Predastore.Transport");
            if (settings.Transport == NodeTransportKind.Quic && (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsWindows()))
            {
                QuicNodeListener quic = await QuicNodeListener.StartAsync(endPoint, server, settings.Security, settings.Timeouts, logger, cancellationToken);
                return new StorageNodeHost(server, quic, quic.LocalEndPoint);
            }

            TcpNodeListener tcp = TcpNodeListener.Start(endPoint, server, settings.Security, settings.Timeouts, logger);
            return new StorageNodeHost(server, tcp, tcp.LocalEndPoint);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.DisposeAsync();
        await _server.DisposeAsync();
    }
}

/// <summary>Completes on SIGTERM, SIGINT or cancellation: how the node command waits for a service manager.</summary>
internal static class ShutdownSignal
{
    public static async Task WaitAsync(CancellationToken cancellationToken)
    {
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stopping.TrySetResult();
        });
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            stopping.TrySetResult();
        });
        using CancellationTokenRegistration onCancel = cancellationToken.Register(() => stopping.TrySetResult());
        await stopping.Task;
    }
}
