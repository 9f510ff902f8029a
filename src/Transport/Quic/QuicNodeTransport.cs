using System.Net;
using System.Net.Quic;
using System.Net.Security;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Predastore.Transport.Protocol;
using Predastore.Transport.Security;

namespace Predastore.Transport.Quic;

/// <summary>
/// QUIC for the node protocol: one long-lived connection per peer, one bidirectional stream per request, TLS 1.3
/// with our own ALPN and member certificates both ways. Needs the native MsQuic library; without it
/// <see cref="IsSupported"/> is false and <see cref="EnsureSupported"/> says what is missing.
/// </summary>
public static class QuicNodeTransport
{
    public static readonly SslApplicationProtocol Alpn = new("predastore-node/1");

    public static bool IsSupported => QuicListener.IsSupported && QuicConnection.IsSupported;

    public static string UnsupportedReason =>
        "QUIC needs the native MsQuic library (libmsquic), which is not installed on this machine " +
        "(System.Net.Quic reports QuicListener.IsSupported = false); install libmsquic or use transport \"tcp\".";

    public static void EnsureSupported(string setting)
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException($"{setting}: {UnsupportedReason}");
        }
    }

    internal static void EnsureCertificate(NodeSecurity security, string setting)
    {
        if (!security.UsesTls)
        {
            throw new InvalidOperationException($"{setting}: QUIC always runs TLS 1.3; give the node certificate and key.");
        }
    }
}

[SupportedOSPlatform("linux")]
[SupportedOSPlatform("macos")]
[SupportedOSPlatform("windows")]
internal sealed class QuicNodeChannel : INodeChannel
{
    private const long ErrorCode = 0x50;

    private readonly EndPoint _endPoint;
    private readonly NodeSecurity _security;
    private readonly NodeTransportOptions _options;
    private readonly SemaphoreSlim _dial = new(1, 1);
    private QuicConnection? _connection;
    private bool _disposed;

    public QuicNodeChannel(EndPoint endPoint, NodeSecurity security, NodeTransportOptions options)
    {
        QuicNodeTransport.EnsureSupported("transport");
        QuicNodeTransport.EnsureCertificate(security, "transport");
        _endPoint = endPoint;
        _security = security;
        _options = options;
    }

    public string Name => $"quic://{_endPoint}";

    public async ValueTask<FrameConnection> OpenAsync(CancellationToken cancellationToken)
    {
        QuicConnection connection = await ConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, cancellationToken).ConfigureAwait(false);
            return new FrameConnection(stream);
        }
        catch (QuicException)
        {
            // The connection died (peer restarted, idle time-out): the next request dials anew.
            await DropAsync(connection).ConfigureAwait(false);
            throw;
        }
    }

    public void Release(FrameConnection connection, bool reusable)
    {
        // One stream per request: a stream is never reused.
        _ = Tcp.TcpNodeChannel.CloseAsync(connection);
    }

    private async ValueTask<QuicConnection> ConnectionAsync(CancellationToken cancellationToken)
    {
        QuicConnection? current = Volatile.Read(ref _connection);
        if (current is not null)
        {
            return current;
        }

        await _dial.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is not null)
            {
                return _connection;
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(_options.ConnectTimeout);
            _connection = await QuicConnection.ConnectAsync(
                new QuicClientConnectionOptions
                {
                    RemoteEndPoint = _endPoint,
                    DefaultStreamErrorCode = ErrorCode,
                    DefaultCloseErrorCode = ErrorCode,
                    IdleTimeout = _options.IdleTimeout,
                    ClientAuthenticationOptions = _security.ClientOptions(Tcp.NodeAddress.HostOf(_endPoint), [QuicNodeTransport.Alpn]),
                },
                deadline.Token).ConfigureAwait(false);
            return _connection;
        }
        finally
        {
            _dial.Release();
        }
    }

    private async ValueTask DropAsync(QuicConnection connection)
    {
        if (Interlocked.CompareExchange(ref _connection, null, connection) == connection)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        QuicConnection? connection = Interlocked.Exchange(ref _connection, null);
        if (connection is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        _dial.Dispose();
    }
}

/// <summary>A storage node's QUIC port: member certificates only, our ALPN only, one request per stream.</summary>
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("macos")]
[SupportedOSPlatform("windows")]
public sealed class QuicNodeListener : IAsyncDisposable
{
    private const long ErrorCode = 0x50;

    private readonly QuicListener _listener;
    private readonly IShardStore _store;
    private readonly NodeTransportOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;

    private QuicNodeListener(QuicListener listener, IShardStore store, NodeTransportOptions options, ILogger logger)
    {
        _listener = listener;
        _store = store;
        _options = options;
        _logger = logger;
        _accepting = Task.Run(AcceptLoopAsync);
    }

    public IPEndPoint LocalEndPoint => _listener.LocalEndPoint;

    public static async Task<QuicNodeListener> StartAsync(IPEndPoint endPoint, IShardStore store, NodeSecurity security, NodeTransportOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(security);
        QuicNodeTransport.EnsureSupported("transport");
        QuicNodeTransport.EnsureCertificate(security, "transport");
        options ??= new NodeTransportOptions();
        NodeTransportOptions settled = options;
        QuicListener listener = await QuicListener.ListenAsync(
            new QuicListenerOptions
            {
                ListenEndPoint = endPoint,
                ApplicationProtocols = [QuicNodeTransport.Alpn],
                ConnectionOptionsCallback = (_, _, _) => ValueTask.FromResult(new QuicServerConnectionOptions
                {
                    DefaultStreamErrorCode = ErrorCode,
                    DefaultCloseErrorCode = ErrorCode,
                    IdleTimeout = settled.IdleTimeout,
                    ServerAuthenticationOptions = security.ServerOptions([QuicNodeTransport.Alpn]),
                }),
            },
            cancellationToken).ConfigureAwait(false);
        return new QuicNodeListener(listener, store, options, logger ?? NullLogger.Instance);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            QuicConnection connection;
            try
            {
                connection = await _listener.AcceptConnectionAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is QuicException or System.Security.Authentication.AuthenticationException)
            {
                TransportLog.PeerRefused(_logger, _store.NodeId, null, ex.Message);
                continue;
            }

            _ = ServeConnectionAsync(connection);
        }
    }

    private async Task ServeConnectionAsync(QuicConnection connection)
    {
        await using (connection.ConfigureAwait(false))
        {
            while (!_stopping.IsCancellationRequested)
            {
                QuicStream stream;
                try
                {
                    stream = await connection.AcceptInboundStreamAsync(_stopping.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is QuicException or OperationCanceledException)
                {
                    return;
                }

                _ = ServeStreamAsync(stream);
            }
        }
    }

    private async Task ServeStreamAsync(QuicStream stream)
    {
        var frames = new FrameConnection(stream);
        try
        {
            await NodeRequestHandler.ServeAsync(frames, _store, _options, _logger, single: true, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or QuicException or InvalidDataException or OperationCanceledException)
        {
            TransportLog.ConnectionDropped(_logger, _store.NodeId, null, ex.Message);
        }
        finally
        {
            await Tcp.TcpNodeChannel.CloseAsync(frames).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _listener.DisposeAsync().ConfigureAwait(false);
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }
}
