using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using System.Threading.Tasks.Sources;

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
/// One loop per stream owns the connection: it sends whatever is queued, then reads one ack, and so on; idle, it
/// waits for the next submission. A submission is a pooled <see cref="PendingFrame"/> (an
/// <see cref="IValueTaskSource"/>), so a write allocates nothing in steady state. A transport failure or a
/// time-out (no ack for <see cref="NodeTransportOptions.RequestTimeout"/> while something is in flight) fails every
/// write in flight and queued, and every later one: the upload is lost and the caller deletes it. A caller's
/// cancellation of one write does the same, since a frame on the wire cannot be taken back.
/// </para>
/// </remarks>
internal sealed class ShardStream
{
    private const int MaxErrorMessage = 64 * 1024;

    private readonly RemoteShardNode _node;
    private readonly INodeChannel _channel;
    private readonly TimeSpan _timeout;

    // Submitted, not yet sent. Single reader (the loop); unbounded because callers bound themselves (each waits
    // for its own writes), and an unbounded channel reads and writes without allocating.
    private readonly Channel<PendingFrame> _queue = Channel.CreateUnbounded<PendingFrame>(new UnboundedChannelOptions { SingleReader = true });

    // Sent, not yet acknowledged, in send order. Only the loop touches it.
    private readonly Queue<PendingFrame> _inFlight = new();

    // Frames done with, for the next submissions.
    private readonly Stack<PendingFrame> _free = new();

    // Cancelled by a caller's cancellation or by the progress deadline (re-armed at every ack).
    private readonly CancellationTokenSource _abort = new();
    private readonly object _gate = new();
    private Task? _loop;
    private Exception? _failure;
    private bool _callerCancelled;

    public ShardStream(RemoteShardNode node, INodeChannel channel, TimeSpan timeout)
    {
        _node = node;
        _channel = channel;
        _timeout = timeout;
    }

    /// <summary>
    /// Queues one request frame; the returned task completes when the node answered it (for a write: the cells are
    /// durable and <paramref name="body"/> may be reused). The body must stay untouched until then.
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
            _loop ??= RunAsync();
        }

        ValueTask task = frame.PrepareAsync(opcode, header, body, cancellationToken);
        if (!_queue.Writer.TryWrite(frame))
        {
            // The stream failed (the failure is recorded before the queue closes) or the upload was closed.
            Exception error;
            lock (_gate)
            {
                error = _failure is null ? new InvalidOperationException("The upload is closed.") : Failed();
            }

            frame.Complete(error);
        }

        return task;
    }

    /// <summary>Lets the loop finish what is in flight and give the connection back; waits for it.</summary>
    public async ValueTask CloseAsync()
    {
        _queue.Writer.TryComplete();
        Task? loop;
        lock (_gate)
        {
            loop = _loop;
            _loop ??= Task.CompletedTask;
        }

        if (loop is not null)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task RunAsync()
    {
        await Task.Yield();
        FrameConnection? connection = null;
        bool reusable = false;
        CancellationToken token = _abort.Token;
        try
        {
            try
            {
                connection = await _channel.OpenAsync(token).ConfigureAwait(false);
            }
            catch (Exception ex) when (RemoteShardNode.IsTransportFailure(ex, default) && !_abort.IsCancellationRequested)
            {
                throw _node.Unavailable($"cannot connect to {_channel.Name}", ex);
            }

            connection.BeginOperation(Timeout.InfiniteTimeSpan, CancellationToken.None);
            ChannelReader<PendingFrame> queue = _queue.Reader;
            while (true)
            {
                if (_inFlight.Count == 0)
                {
                    // Idle: no deadline until the next submission. No token either, so the wait does not allocate;
                    // nobody is waiting on this stream while nothing is in flight.
                    _abort.CancelAfter(Timeout.InfiniteTimeSpan);
                    if (!await queue.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
                    {
                        break;
                    }

                    _abort.CancelAfter(_timeout);
                }

                // Everything queued goes out before the next ack is awaited: the node works on the first frame
                // while the rest are on the wire.
                while (queue.TryRead(out PendingFrame? frame))
                {
                    _inFlight.Enqueue(frame);
                    await connection.WriteRequestAsync(frame.Opcode, frame.Header, frame.Body, token).ConfigureAwait(false);
                }

                if (_inFlight.Count > 0)
                {
                    await ReadAckAsync(connection, token).ConfigureAwait(false);
                    _abort.CancelAfter(_timeout);
                }
            }

            reusable = true;
        }
        catch (Exception ex)
        {
            Fail(ex);
        }
        finally
        {
            _abort.CancelAfter(Timeout.InfiniteTimeSpan);
            if (connection is not null)
            {
                connection.EndOperation();
                _channel.Release(connection, reusable);
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReadAckAsync(FrameConnection connection, CancellationToken token)
    {
        FramePrefix prefix = await connection.ReadFrameAsync(token).ConfigureAwait(false);
        if (prefix.IsEnd || prefix.Opcode != NodeOpcode.Response || prefix.HeaderLength < ResponseHeader.Size)
        {
            ThrowBadResponse(prefix);
        }

        ResponseHeader response = ResponseHeader.Read(connection.Header(prefix.HeaderLength));
        PendingFrame head = _inFlight.Peek();
        if (response.Status == NodeStatus.Ok)
        {
            if (response.BodyLength != 0)
            {
                ThrowBadResponse(prefix);
            }

            _inFlight.Dequeue();
            head.Complete(null);
            return;
        }

        // A refusal is an answer, not a broken stream: this request fails, the stream carries on.
        if (response.BodyLength > MaxErrorMessage)
        {
            ThrowBadResponse(prefix);
        }

        byte[] message = new byte[response.BodyLength];
        await connection.ReadBodyAsync(message, token).ConfigureAwait(false);
        _inFlight.Dequeue();
        head.Complete(_node.Refused(response.Status, Encoding.UTF8.GetString(message)));
    }

    private void Fail(Exception ex)
    {
        Exception failure = ex switch
        {
            _ when Volatile.Read(ref _callerCancelled) => new OperationCanceledException("A write of this upload was cancelled; the upload is lost.", ex),
            ShardException => ex,
            _ when _abort.IsCancellationRequested => _node.Unavailable($"no answer from {_channel.Name} within {_timeout.TotalSeconds:0.###} s", ex),
            _ when RemoteShardNode.IsTransportFailure(ex, default) => _node.Unavailable($"lost the connection to {_channel.Name}", ex),
            _ => ex,
        };

        lock (_gate)
        {
            _failure = failure;
        }

        _queue.Writer.TryComplete();
        while (_inFlight.TryDequeue(out PendingFrame? frame))
        {
            frame.Complete(Failed());
        }

        while (_queue.Reader.TryRead(out PendingFrame? frame))
        {
            frame.Complete(Failed());
        }
    }

    /// <summary>A fresh exception per caller, so concurrent throws do not share one stack trace.</summary>
    private Exception Failed()
    {
        Exception failure = _failure!;
        return failure switch
        {
            ShardException shard => new ShardException(shard.Failure, shard.NodeId, shard.Message, failure),
            OperationCanceledException => new OperationCanceledException(failure.Message, failure),
            _ => new IOException(failure.Message, failure),
        };
    }

    private void CallerCancelled()
    {
        Volatile.Write(ref _callerCancelled, true);
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
