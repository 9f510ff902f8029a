using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Threading.Channels;
using System.Threading.Tasks.Sources;
using Predastore.Wal;

namespace Predastore.Transport.Protocol;

/// <summary>
/// The put-shard of one upload on one stream it keeps for its whole life: write frames go out back to back as
/// callers submit them, without waiting for the previous ack, and the node's acks (which come in request order,
/// the node serving a stream one frame at a time) complete the writes in that order. The commit is the last frame
/// of the stream, so its ack also vouches for every write before it.
/// </summary>
/// <remarks>
/// <para>
/// Each write still completes only when the node has answered that the cells are durable, so a caller may reuse its
/// buffer then, and only then. What changes is that a caller with several writes in flight (the gateway keeps a few
/// stripes in flight per shard) keeps the stream busy instead of paying a round trip per cell.
/// </para>
/// <para>
/// Two loops per stream, each one long-lived async method, so a frame costs no allocation: the send loop writes
/// whatever callers queued, and puts every frame into <see cref="_inFlight"/> before its first byte goes out; the
/// receive loop reads an ack whenever something is in flight and completes the oldest frame. With nothing in flight
/// it waits on the queue, not on the socket, so the connection goes back to the pool clean. Frames are pooled
/// <see cref="IValueTaskSource"/>s, and the loops await nothing per frame but the queues and the connection's
/// allocation-free reads and writes: no async method is called per frame (its state-machine box would come from
/// the pooling builder's per-thread cache, which misses whenever the loop has moved to another thread).
/// </para>
/// <para>
/// A transport failure or a time-out (no ack for <see cref="NodeTransportOptions.RequestTimeout"/> while something
/// is in flight) fails every write in flight and queued, and every later one: the upload is lost and the caller
/// deletes it. A caller's cancellation of one write does the same, since a frame on the wire cannot be taken back.
/// </para>
/// <para>
/// A slow client can leave the stream with nothing to send for longer than the node's idle time-out (a 1 MiB block
/// at 17 KiB/s takes a minute), after which the node would close it and the upload fail. So a stream that has sent
/// nothing for half the idle time-out, with nothing in flight, sends a stat of its own shard, which the node answers
/// like any frame.
/// </para>
/// </remarks>
internal sealed class ShardStream
{
    private const int MaxErrorMessage = 64 * 1024;

    private readonly RemoteShardNode _node;
    private readonly INodeChannel _channel;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _keepAlive;
    private readonly RequestHeader _keepAliveHeader;

    // Environment.TickCount64 when the send loop last wrote a frame; frames sent and not yet acknowledged.
    private long _lastSent;
    private int _unacknowledged;

    // Submitted, not yet sent; read only by the send loop. Unbounded because callers bound themselves (each waits
    // for its own writes), and a single-reader unbounded channel allocates neither per item nor per wait.
    private readonly Channel<PendingFrame> _toSend = Channel.CreateUnbounded<PendingFrame>(new UnboundedChannelOptions { SingleReader = true });

    // Sent (or being sent), not yet acknowledged, in send order. Written only by the send loop, read only by the
    // receive loop.
    private readonly Channel<PendingFrame> _inFlight = Channel.CreateUnbounded<PendingFrame>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    // Cancelled by a caller's cancellation, a failure of either loop, or the ack deadline (re-armed at every ack).
    private readonly CancellationTokenSource _abort = new();

    // Guards everything below.
    private readonly object _gate = new();
    private readonly Stack<PendingFrame> _free = new();
    private Task? _sending;
    private Task? _receiving;
    private Exception? _failure;
    private bool _callerCancelled;
    private Timer? _keepAliveTimer;

    public ShardStream(RemoteShardNode node, INodeChannel channel, ShardKey key, TimeSpan timeout, TimeSpan idleTimeout)
    {
        _node = node;
        _channel = channel;
        _timeout = timeout;
        _keepAlive = idleTimeout / 2;
        _keepAliveHeader = new RequestHeader(0, key, 0, 0);
    }

    /// <summary>
    /// Queues one request frame; completes when the node answered it (for a write: the cells are durable and
    /// <paramref name="body"/> may be reused). The body must stay untouched until then.
    /// </summary>
    public ValueTask SubmitAsync(NodeOpcode opcode, RequestHeader header, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        PendingFrame frame;
        lock (_gate)
        {
            if (_failure is not null)
            {
                return ValueTask.FromException(Failed());
            }

            frame = _free.TryPop(out PendingFrame? reused) ? reused : new PendingFrame(this);
            _sending ??= SendAsync();
        }

        ValueTask acked = frame.PrepareAsync(opcode, header, body, cancellationToken);
        if (!_toSend.Writer.TryWrite(frame))
        {
            // Failed (recorded before the queue closes) or closed.
            frame.Complete(Failed());
        }

        return acked;
    }

    private async Task SendAsync()
    {
        await Task.Yield();
        ChannelReader<PendingFrame> toSend = _toSend.Reader;
        try
        {
            FrameConnection connection = await ConnectAsync().ConfigureAwait(false);
            while (await toSend.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                while (toSend.TryRead(out PendingFrame? frame))
                {
                    NodeOpcode opcode = frame.Opcode;
                    RequestHeader header = frame.Header;
                    ReadOnlyMemory<byte> body = frame.Body;

                    // In flight before the first byte leaves, so its ack always finds it. From here on the receive
                    // loop owns the frame (it may complete it, and the frame be reused, as soon as the ack is in).
                    if (!_inFlight.Writer.TryWrite(frame))
                    {
                        frame.Complete(Failed());
                        continue;
                    }

                    Interlocked.Increment(ref _unacknowledged);

                    await connection.WriteRequestAsync(opcode, header, body, _abort.Token).ConfigureAwait(false);
                    Volatile.Write(ref _lastSent, Environment.TickCount64);
                }
            }

            // Closed and everything sent: the receive loop ends after the last ack.
            _inFlight.Writer.TryComplete();
        }
        catch (Exception ex)
        {
            Fail(ex);
            while (toSend.TryRead(out PendingFrame? frame))
            {
                frame.Complete(Failed());
            }
        }
    }

    private async ValueTask<FrameConnection> ConnectAsync()
    {
        FrameConnection connection;
        try
        {
            connection = await _channel.OpenAsync(_abort.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (RemoteShardNode.IsTransportFailure(ex, default) && !_abort.IsCancellationRequested)
        {
            throw _node.Unavailable($"cannot connect to {_channel.Name}", ex);
        }

        connection.BeginOperation(Timeout.InfiniteTimeSpan, CancellationToken.None);
        Volatile.Write(ref _lastSent, Environment.TickCount64);
        lock (_gate)
        {
            _receiving = ReceiveAsync(connection);
            _keepAliveTimer = _failure is null ? new Timer(static state => ((ShardStream)state!).KeepAlive(), this, _keepAlive, _keepAlive) : null;
        }

        return connection;
    }

    private void KeepAlive()
    {
        if (Volatile.Read(ref _unacknowledged) == 0 && Environment.TickCount64 - Volatile.Read(ref _lastSent) >= (long)_keepAlive.TotalMilliseconds)
        {
            _ = PingAsync();
        }
    }

    private async Task PingAsync()
    {
        try
        {
            await SubmitAsync(NodeOpcode.Stat, _keepAliveHeader, default, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The stream failed or closed meanwhile: its writes report that, not the ping.
        }
    }

    private void StopKeepAlive()
    {
        lock (_gate)
        {
            _keepAliveTimer?.Dispose();
            _keepAliveTimer = null;
        }
    }

    /// <summary>No more frames: once the last ack is in, the receive loop gives the connection back. Waits for that.</summary>
    public async ValueTask CloseAsync()
    {
        StopKeepAlive();
        _toSend.Writer.TryComplete();
        Task? sending;
        lock (_gate)
        {
            sending = _sending;
            _sending ??= Task.CompletedTask;
        }

        if (sending is not null)
        {
            await sending.ConfigureAwait(false);
        }

        Task? receiving;
        lock (_gate)
        {
            receiving = _receiving;
        }

        if (receiving is not null)
        {
            await receiving.ConfigureAwait(false);
        }
    }

    private async Task ReceiveAsync(FrameConnection connection)
    {
        await Task.Yield();
        bool reusable = false;
        ChannelReader<PendingFrame> inFlight = _inFlight.Reader;
        try
        {
            while (true)
            {
                // Idle: no deadline and no socket read until a frame goes out. No token, so the wait does not
                // allocate; a failure completes the channel instead.
                _abort.CancelAfter(Timeout.InfiniteTimeSpan);
                if (!await inFlight.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    break;
                }

                while (inFlight.TryPeek(out PendingFrame? head))
                {
                    // The ack is read here rather than in a method of its own, which as an async method would
                    // allocate per frame (see FrameReader).
                    _abort.CancelAfter(_timeout);
                    FramePrefix prefix = await connection.ReadFrameAsync(_abort.Token).ConfigureAwait(false);
                    ResponseHeader response = ReadResponse(connection, prefix);
                    Exception? refusal = null;
                    if (response.Status != NodeStatus.Ok)
                    {
                        refusal = await ReadRefusalAsync(connection, prefix, response, _abort.Token).ConfigureAwait(false);
                    }

                    inFlight.TryRead(out _);
                    Interlocked.Decrement(ref _unacknowledged);
                    head.Complete(refusal);
                }
            }

            reusable = Volatile.Read(ref _failure) is null;
        }
        catch (Exception ex)
        {
            Fail(ex);
        }
        finally
        {
            _abort.CancelAfter(Timeout.InfiniteTimeSpan);
            while (inFlight.TryRead(out PendingFrame? frame))
            {
                frame.Complete(Failed());
            }

            connection.EndOperation();
            _channel.Release(connection, reusable);
        }
    }

    /// <summary>The header of an ack; a body comes only with a refusal.</summary>
    private static ResponseHeader ReadResponse(FrameConnection connection, FramePrefix prefix)
    {
        if (prefix.IsEnd || prefix.Opcode != NodeOpcode.Response || prefix.HeaderLength < ResponseHeader.Size)
        {
            ThrowBadResponse(prefix);
        }

        ResponseHeader response = ResponseHeader.Read(connection.Header(prefix.HeaderLength));
        if (response.Status == NodeStatus.Ok && response.BodyLength != 0)
        {
            ThrowBadResponse(prefix);
        }

        return response;
    }

    /// <summary>
    /// Reads the message of a refusal. A refusal is an answer, not a broken stream: this request fails, the stream
    /// carries on.
    /// </summary>
    private async ValueTask<Exception> ReadRefusalAsync(FrameConnection connection, FramePrefix prefix, ResponseHeader response, CancellationToken token)
    {
        if (response.BodyLength > MaxErrorMessage)
        {
            ThrowBadResponse(prefix);
        }

        byte[] message = new byte[response.BodyLength];
        await connection.ReadBodyAsync(message, token).ConfigureAwait(false);
        return _node.Refused(response.Status, Encoding.UTF8.GetString(message));
    }

    /// <summary>Records the first failure and stops both directions; frames are failed by whoever holds them.</summary>
    private void Fail(Exception ex)
    {
        lock (_gate)
        {
            if (_failure is not null)
            {
                return;
            }

            _failure = ex switch
            {
                _ when _callerCancelled => new OperationCanceledException("A write of this upload was cancelled; the upload is lost.", ex),
                ShardException => ex,
                _ when _abort.IsCancellationRequested && ex is OperationCanceledException => _node.Unavailable($"no answer from {_channel.Name} within {_timeout.TotalSeconds:0.###} s", ex),
                _ when RemoteShardNode.IsTransportFailure(ex, default) => _node.Unavailable($"lost the connection to {_channel.Name}", ex),
                _ => ex,
            };
        }

        StopKeepAlive();
        Abort();
        _toSend.Writer.TryComplete();
        _inFlight.Writer.TryComplete();
    }

    /// <summary>A fresh exception per caller, so concurrent throws do not share one stack trace.</summary>
    private Exception Failed()
    {
        Exception failure;
        lock (_gate)
        {
            failure = _failure ?? new InvalidOperationException("The upload is closed.");
        }

        return failure switch
        {
            ShardException shard => new ShardException(shard.Failure, shard.NodeId, shard.Message, failure),
            OperationCanceledException => new OperationCanceledException(failure.Message, failure),
            InvalidOperationException => failure,
            _ => new IOException(failure.Message, failure),
        };
    }

    private void CallerCancelled()
    {
        lock (_gate)
        {
            _callerCancelled = true;
        }

        Abort();
    }

    private void Abort()
    {
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void Return(PendingFrame frame)
    {
        lock (_gate)
        {
            _free.Push(frame);
        }
    }

    [DoesNotReturn]
    private static void ThrowBadResponse(FramePrefix prefix) =>
        throw new InvalidDataException($"Node protocol violation: response opcode {(uint)prefix.Opcode}, header {prefix.HeaderLength} bytes, body {prefix.BodyLength} bytes.");

    /// <summary>One request frame of the stream and the caller waiting for its ack; reused once the caller has its result.</summary>
    private sealed class PendingFrame(ShardStream owner) : IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
        private CancellationTokenRegistration _registration;

        public NodeOpcode Opcode { get; private set; }

        public RequestHeader Header { get; private set; }

        public ReadOnlyMemory<byte> Body { get; private set; }

        public ValueTask PrepareAsync(NodeOpcode opcode, RequestHeader header, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
        {
            Opcode = opcode;
            Header = header;
            Body = body;
            if (cancellationToken.CanBeCanceled)
            {
                _registration = cancellationToken.UnsafeRegister(static state => ((ShardStream)state!).CallerCancelled(), owner);
            }

            return new ValueTask(this, _core.Version);
        }

        /// <summary>Called once, by the loop (or the submitter when the stream is gone); null means success.</summary>
        public void Complete(Exception? error)
        {
            _registration.Unregister();
            _registration = default;
            Body = default;
            if (error is null)
            {
                _core.SetResult(true);
            }
            else
            {
                _core.SetException(error);
            }
        }

        public void GetResult(short token)
        {
            try
            {
                _core.GetResult(token);
            }
            finally
            {
                _core.Reset();
                owner.Return(this);
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
