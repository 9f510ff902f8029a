using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Predastore.Transport.Protocol;
using Predastore.Transport.Security;

namespace Predastore.Transport.Tcp;

/// <summary>
/// Pooled TCP connections to one node. A connection carries one request at a time; after an exchange that ended
/// cleanly it goes back to the pool, after any failure or time-out it is closed and the next request dials anew.
/// Connections idle longer than the idle time-out are closed by a sweep.
/// </summary>
internal sealed class TcpNodeChannel : INodeChannel
{
    private readonly EndPoint _endPoint;
    private readonly NodeSecurity _security;
    private readonly NodeTransportOptions _options;
    private readonly Stack<FrameConnection> _idle = new();
    private readonly Timer _sweeper;
    private bool _disposed;

    public TcpNodeChannel(EndPoint endPoint, NodeSecurity security, NodeTransportOptions options)
    {
        security.EnsureAllowed(endPoint, "node address");
        _endPoint = endPoint;
        _security = security;
        _options = options;
        TimeSpan sweep = options.IdleTimeout / 4;
        _sweeper = new Timer(static state => ((TcpNodeChannel)state!).Sweep(), this, sweep, sweep);
    }

    public string Name => _endPoint.ToString() ?? "node";

    // Half the node's idle time-out: a connection the node may be about to close is never handed out (a shard
    // stream that started on one would fail its first frame).
    private long MaxIdleMilliseconds => (long)(_options.IdleTimeout / 2).TotalMilliseconds;

    // The node serves a TCP connection request after request, so an upload can keep one for all its frames.
    public bool CarriesManyRequests => true;

    // Internal for testing.
    internal int IdleCount
    {
        get
        {
            lock (_idle)
            {
                return _idle.Count;
            }
        }
    }

    public ValueTask<FrameConnection> OpenAsync(CancellationToken cancellationToken)
    {
        long now = Environment.TickCount64;
        lock (_idle)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            while (_idle.TryPop(out FrameConnection? connection))
            {
                if (now - connection.LastUsed < MaxIdleMilliseconds)
                {
                    return ValueTask.FromResult(connection);
                }

                _ = CloseAsync(connection);
            }
        }

        return new ValueTask<FrameConnection>(DialAsync(_endPoint, _security, _options, cancellationToken));
    }

    public void Release(FrameConnection connection, bool reusable)
    {
        if (reusable)
        {
            lock (_idle)
            {
                if (!_disposed && _idle.Count < _options.MaxIdleConnections)
                {
                    _idle.Push(connection);
                    return;
                }
            }
        }

        _ = CloseAsync(connection);
    }

    /// <summary>Connects, sets up TLS when configured, and proves membership both ways, all within the connect time-out.</summary>
    public static async Task<FrameConnection> DialAsync(EndPoint endPoint, NodeSecurity security, NodeTransportOptions options, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(endPoint.AddressFamily == AddressFamily.Unspecified ? AddressFamily.InterNetworkV6 : endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (socket.AddressFamily == AddressFamily.InterNetworkV6)
        {
            socket.DualMode = true;
        }

        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(endPoint, deadline.Token).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (security.UsesTls)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsClientAsync(security.ClientOptions(NodeAddress.HostOf(endPoint)), deadline.Token).ConfigureAwait(false);
            }

            await MemberHandshake.ClientAsync(stream, security, deadline.Token).ConfigureAwait(false);
            return new FrameConnection(stream);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            await DisposeAsync(stream, socket).ConfigureAwait(false);
            throw new TimeoutException($"No connection to {endPoint} within {options.ConnectTimeout.TotalSeconds:0.###} s.", ex);
        }
        catch
        {
            await DisposeAsync(stream, socket).ConfigureAwait(false);
            throw;
        }
    }

    private static async ValueTask DisposeAsync(Stream? stream, Socket socket)
    {
        if (stream is not null)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }

        socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        FrameConnection[] idle;
        lock (_idle)
        {
            _disposed = true;
            idle = [.. _idle];
            _idle.Clear();
        }

        await _sweeper.DisposeAsync().ConfigureAwait(false);
        foreach (FrameConnection connection in idle)
        {
            await CloseAsync(connection).ConfigureAwait(false);
        }
    }

    private void Sweep()
    {
        long now = Environment.TickCount64;
        List<FrameConnection>? stale = null;
        lock (_idle)
        {
            if (_idle.Count == 0)
            {
                return;
            }

            // Oldest at the bottom of the stack: rebuild it keeping the fresh ones in order.
            FrameConnection[] all = [.. _idle];
            _idle.Clear();
            for (int i = all.Length - 1; i >= 0; i--)
            {
                if (now - all[i].LastUsed >= MaxIdleMilliseconds)
                {
                    (stale ??= []).Add(all[i]);
                }
                else
                {
                    _idle.Push(all[i]);
                }
            }
        }

        foreach (FrameConnection connection in stale ?? [])
        {
            _ = CloseAsync(connection);
        }
    }

    internal static async Task CloseAsync(FrameConnection connection)
    {
        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Closing a connection that already broke.
        }
    }
}
