using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Predastore.Transport.Protocol;
using Predastore.Transport.Security;

namespace Predastore.Transport.Tcp;

/// <summary>
/// A storage node's TCP port. Every accepted connection must first complete TLS (when configured, with a member
/// certificate) and the member handshake within the connect time-out; until then nothing it sends is read as a
/// frame. Then it is served one request at a time until it closes, idles out or the node stops.
/// </summary>
public sealed class TcpNodeListener : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly IShardStore _store;
    private readonly NodeSecurity _security;
    private readonly NodeTransportOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, bool> _connections = new();
    private readonly Task _accepting;

    private TcpNodeListener(Socket socket, IShardStore store, NodeSecurity security, NodeTransportOptions options, ILogger logger)
    {
        _socket = socket;
        _store = store;
        _security = security;
        _options = options;
        _logger = logger;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _accepting = Task.Run(AcceptLoopAsync);
    }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Connections refused (failed TLS or handshake) since start. Internal for testing.</summary>
    internal int Refused;

    public static TcpNodeListener Start(IPEndPoint endPoint, IShardStore store, NodeSecurity security, NodeTransportOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(security);
        options ??= new NodeTransportOptions();
        options.Validate();
        security.EnsureAllowed(endPoint, "--listen");
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endPoint);
            socket.Listen(512);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new TcpNodeListener(socket, store, security, options, logger ?? NullLogger.Instance);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException && _stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException ex)
            {
                TransportLog.AcceptFailed(_logger, _store.NodeId, ex);
                continue;
            }

            accepted.NoDelay = true;
            Task connection = ServeConnectionAsync(accepted);
            _connections[connection] = true;
            _ = connection.ContinueWith(
                static (task, state) => ((ConcurrentDictionary<Task, bool>)state!).TryRemove(task, out _),
                _connections,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private async Task ServeConnectionAsync(Socket socket)
    {
        await Task.Yield();
        EndPoint? remote = socket.RemoteEndPoint;
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        FrameConnection? connection = null;
        try
        {
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                deadline.CancelAfter(_options.ConnectTimeout);
                try
                {
                    if (_security.UsesTls)
                    {
                        var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                        stream = tls;
                        await tls.AuthenticateAsServerAsync(_security.ServerOptions(), deadline.Token).ConfigureAwait(false);
                    }

                    await MemberHandshake.ServerAsync(stream, _security, deadline.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or AuthenticationException or SocketException or OperationCanceledException)
                {
                    Interlocked.Increment(ref Refused);
                    TransportLog.PeerRefused(_logger, _store.NodeId, remote?.ToString(), ex.Message);
                    return;
                }
            }

            connection = new FrameConnection(stream);
            await NodeRequestHandler.ServeAsync(connection, _store, _options, _logger, single: false, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or InvalidDataException or OperationCanceledException or ObjectDisposedException)
        {
            if (!_stopping.IsCancellationRequested)
            {
                TransportLog.ConnectionDropped(_logger, _store.NodeId, remote?.ToString(), ex.Message);
            }
        }
        finally
        {
            if (connection is not null)
            {
                await TcpNodeChannel.CloseAsync(connection).ConfigureAwait(false);
            }
            else
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Stops accepting, ends every connection (in-flight requests are cut; their writes were not acknowledged).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await Task.WhenAll(_connections.Keys).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }
}
