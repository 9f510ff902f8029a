using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Predastore.Transport.Protocol;

/// <summary>
/// The sending half of a <see cref="FrameConnection"/>. A frame's prefix and header, with a small body copied behind
/// them, go out in one write from a buffer of its own; a larger body follows in a second write straight from the
/// caller's memory. Nothing is flushed: nothing is buffered between frames, here or in the streams this runs over
/// (NetworkStream, SslStream and QuicStream write through).
/// </summary>
/// <remarks>
/// One write at a time, allocation-free for the reason <see cref="FrameReader"/> gives: a frame with a large body
/// returns the stream's own write of the body once the header went out at once, which is the usual case; when the
/// header has to wait (the send buffer was full), the body's write starts from the header's completion, and the
/// writer itself is what the caller awaits.
/// </remarks>
internal sealed class FrameWriter : IValueTaskSource
{
    // Bodies up to this size are copied behind their header: one write instead of two.
    private const int InlineBodyLimit = 16 * 1024;

    // A request's header is the larger of the two.
    private const int MaxHeadSize = Frame.PrefixSize + RequestHeader.Size;

    private readonly Stream _stream;
    private readonly byte[] _buffer = GC.AllocateArray<byte>(MaxHeadSize + InlineBodyLimit, pinned: true);
    private readonly Action _onHeadWritten;
    private readonly Action _onBodyWritten;

    // The frame whose header had to wait: its body, token, the stream write it waits for, and its completion
    // (continuations run synchronously, as after awaiting the stream itself).
    private ReadOnlyMemory<byte> _body;
    private CancellationToken _token;
    private ConfiguredValueTaskAwaitable.ConfiguredValueTaskAwaiter _pending;
    private ManualResetValueTaskSourceCore<bool> _completion;

    public FrameWriter(Stream stream)
    {
        _stream = stream;
        _onHeadWritten = OnHeadWritten;
        _onBodyWritten = OnBodyWritten;
    }

    public ValueTask WriteRequestAsync(NodeOpcode opcode, RequestHeader header, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        Frame.WritePrefix(_buffer, opcode, RequestHeader.Size);
        header.WriteTo(_buffer.AsSpan(Frame.PrefixSize));
        return WriteAsync(Frame.PrefixSize + RequestHeader.Size, body, cancellationToken);
    }

    public ValueTask WriteResponseAsync(ResponseHeader header, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        Frame.WritePrefix(_buffer, NodeOpcode.Response, ResponseHeader.Size);
        header.WriteTo(_buffer.AsSpan(Frame.PrefixSize));
        return WriteAsync(Frame.PrefixSize + ResponseHeader.Size, body, cancellationToken);
    }

    private ValueTask WriteAsync(int headSize, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        if (body.Length <= InlineBodyLimit)
        {
            body.Span.CopyTo(_buffer.AsSpan(headSize));
            return _stream.WriteAsync(_buffer.AsMemory(0, headSize + body.Length), cancellationToken);
        }

        ConfiguredValueTaskAwaitable.ConfiguredValueTaskAwaiter head = _stream.WriteAsync(_buffer.AsMemory(0, headSize), cancellationToken).ConfigureAwait(false).GetAwaiter();
        if (head.IsCompleted)
        {
            // Throws what the write failed with, as awaiting it would.
            head.GetResult();
            return _stream.WriteAsync(body, cancellationToken);
        }

        _completion.Reset();
        _body = body;
        _token = cancellationToken;
        _pending = head;
        _pending.UnsafeOnCompleted(_onHeadWritten);
        return new ValueTask(this, _completion.Version);
    }

    private void OnHeadWritten()
    {
        try
        {
            _pending.GetResult();
            _pending = _stream.WriteAsync(_body, _token).ConfigureAwait(false).GetAwaiter();
        }
        catch (Exception ex)
        {
            Complete(ex);
            return;
        }

        if (_pending.IsCompleted)
        {
            OnBodyWritten();
        }
        else
        {
            _pending.UnsafeOnCompleted(_onBodyWritten);
        }
    }

    private void OnBodyWritten()
    {
        Exception? error = null;
        try
        {
            _pending.GetResult();
        }
        catch (Exception ex)
        {
            error = ex;
        }

        Complete(error);
    }

    // The caller may be in its next write as soon as this returns: nothing of the frame may be touched after it.
    private void Complete(Exception? error)
    {
        _body = default;
        if (error is null)
        {
            _completion.SetResult(true);
        }
        else
        {
            _completion.SetException(error);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _completion.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);

    public void GetResult(short token) => _completion.GetResult(token);
}
