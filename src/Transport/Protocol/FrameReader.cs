using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Predastore.Transport.Protocol;

/// <summary>
/// The receiving half of a <see cref="FrameConnection"/>. Frame prefixes and headers are parsed out of a small buffer
/// of its own; a body is copied out of that buffer only as far as it reached into it, and the rest is read from the
/// stream straight into the caller's memory, so a cell is never copied through an intermediate buffer.
/// </summary>
/// <remarks>
/// <para>
/// One read at a time. A read that has to wait for the stream goes on from the stream's completion callback, and
/// the reader itself is the awaitable every read returns, so reading a frame allocates nothing. An async method
/// would rent a state-machine box per call from a per-thread cache, and that cache misses whenever the stream
/// completes on another thread than the one that started the read: on a busy connection, most reads. (StreamPipeReader
/// reads through such a method; it and ours kept the node protocol from zero bytes per frame.)
/// </para>
/// <para>
/// The awaiting caller resumes inline on the thread that completed the read, as it would after awaiting the stream
/// itself; so nothing of the reader may be touched once a read is completed: the caller may already be in the next.
/// </para>
/// </remarks>
internal sealed class FrameReader : IValueTaskSource<FramePrefix>, IValueTaskSource
{
    // Holds at least one whole prefix and header. Reads from the stream ask for no more than it holds, so at most
    // this much of a body comes through the buffer; the rest goes straight to the caller.
    private const int BufferSize = 4096;

    private readonly Stream _stream;
    private readonly byte[] _buffer = GC.AllocateArray<byte>(BufferSize, pinned: true);
    private readonly Action _onRead;

    // Received, not yet consumed: _buffer[_start.._end).
    private int _start;
    private int _end;

    // The header of the frame last parsed, in place in _buffer: only the next frame's read moves or overwrites it.
    private int _headerStart;

    // The read that had to wait: the body bytes still missing (empty while the read is a frame's prefix and
    // header), its token, the stream read it waits for, and its completion (continuations run synchronously).
    private Memory<byte> _body;
    private CancellationToken _token;
    private ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter _pending;
    private ManualResetValueTaskSourceCore<FramePrefix> _completion;

    public FrameReader(Stream stream)
    {
        _stream = stream;
        _onRead = OnRead;
    }

    /// <summary>The header of the frame last read by <see cref="ReadFrameAsync"/>.</summary>
    public ReadOnlySpan<byte> Header(int length) => _buffer.AsSpan(_headerStart, length);

    /// <summary>
    /// Reads the next frame's prefix and header. Returns an end prefix when the peer closed the stream cleanly
    /// between frames; a stream that ends inside a frame, or a frame no peer of ours would send, throws.
    /// </summary>
    public ValueTask<FramePrefix> ReadFrameAsync(CancellationToken cancellationToken)
    {
        if (TryParse(out FramePrefix prefix))
        {
            return new ValueTask<FramePrefix>(prefix);
        }

        return new ValueTask<FramePrefix>(this, Begin(default, cancellationToken));
    }

    /// <summary>Reads exactly <c>destination.Length</c> body bytes: what the buffer already holds, then the rest straight from the stream.</summary>
    public ValueTask ReadBodyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        int buffered = Math.Min(_end - _start, destination.Length);
        _buffer.AsSpan(_start, buffered).CopyTo(destination.Span);
        _start += buffered;
        if (buffered == destination.Length)
        {
            return default;
        }

        return new ValueTask(this, Begin(destination[buffered..], cancellationToken));
    }

    /// <summary>Reads and drops a body nobody wants (a request the node refuses before reading it).</summary>
    public async ValueTask SkipBodyAsync(long length, CancellationToken cancellationToken)
    {
        byte[] scratch = ArrayPool<byte>.Shared.Rent((int)Math.Min(length, 64 * 1024));
        try
        {
            while (length > 0)
            {
                int take = (int)Math.Min(length, scratch.Length);
                await ReadBodyAsync(scratch.AsMemory(0, take), cancellationToken).ConfigureAwait(false);
                length -= take;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private bool TryParse(out FramePrefix prefix)
    {
        prefix = default;
        ReadOnlySpan<byte> received = _buffer.AsSpan(_start, _end - _start);
        if (received.Length < Frame.PrefixSize)
        {
            return false;
        }

        var opcode = (NodeOpcode)BinaryPrimitives.ReadUInt32BigEndian(received);
        uint headerLength = BinaryPrimitives.ReadUInt32BigEndian(received[4..]);
        if (headerLength is < 8 or > Frame.MaxHeaderLength)
        {
            ThrowProtocol($"a header of {headerLength} bytes");
        }

        if (received.Length < Frame.PrefixSize + headerLength)
        {
            return false;
        }

        long bodyLength = BinaryPrimitives.ReadInt64BigEndian(received[Frame.PrefixSize..]);
        if (bodyLength is < 0 or > Frame.MaxBodyLength)
        {
            ThrowProtocol($"a body of {bodyLength} bytes");
        }

        _headerStart = _start + Frame.PrefixSize;
        _start = _headerStart + (int)headerLength;
        prefix = new FramePrefix(opcode, (int)headerLength, bodyLength);
        return true;
    }

    /// <summary>Starts a read that needs the stream; returns the version to await (it may have completed already).</summary>
    private short Begin(Memory<byte> body, CancellationToken cancellationToken)
    {
        _completion.Reset();
        _body = body;
        _token = cancellationToken;
        ReadMore();
        return _completion.Version;
    }

    /// <summary>Reads from the stream until the current read is complete, or until the stream has to wait.</summary>
    private void ReadMore()
    {
        while (true)
        {
            try
            {
                _pending = _stream.ReadAsync(_body.IsEmpty ? FreeSpace() : _body, _token).ConfigureAwait(false).GetAwaiter();
            }
            catch (Exception ex)
            {
                _completion.SetException(ex);
                return;
            }

            if (!_pending.IsCompleted)
            {
                _pending.UnsafeOnCompleted(_onRead);
                return;
            }

            if (Received())
            {
                return;
            }
        }
    }

    private void OnRead()
    {
        if (!Received())
        {
            ReadMore();
        }
    }

    /// <summary>Takes the result of the stream read; true when the current read is over, completed or failed.</summary>
    private bool Received()
    {
        FramePrefix prefix = default;
        try
        {
            int count = _pending.GetResult();
            if (!_body.IsEmpty)
            {
                if (count == 0)
                {
                    ThrowClosed("the stream ended inside a body");
                }

                _body = _body[count..];
                if (!_body.IsEmpty)
                {
                    return false;
                }
            }
            else if (count == 0)
            {
                // An end between frames is the peer closing: an end prefix. Inside a frame it is a broken stream.
                if (_end > _start)
                {
                    ThrowClosed("the stream ended inside a frame");
                }
            }
            else
            {
                _end += count;
                if (!TryParse(out prefix))
                {
                    return false;
                }
            }
        }
        catch (Exception ex)
        {
            _completion.SetException(ex);
            return true;
        }

        _completion.SetResult(prefix);
        return true;
    }

    /// <summary>Room for the next stream read, after moving the part of a frame already received to the front.</summary>
    private Memory<byte> FreeSpace()
    {
        int received = _end - _start;
        _buffer.AsSpan(_start, received).CopyTo(_buffer);
        _start = 0;
        _end = received;
        return _buffer.AsMemory(_end);
    }

    public ValueTaskSourceStatus GetStatus(short token) => _completion.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);

    FramePrefix IValueTaskSource<FramePrefix>.GetResult(short token) => _completion.GetResult(token);

    void IValueTaskSource.GetResult(short token) => _completion.GetResult(token);

    [DoesNotReturn]
    private static void ThrowClosed(string why) => throw new IOException($"Node connection closed: {why}.");

    [DoesNotReturn]
    private static void ThrowProtocol(string what) => throw new InvalidDataException($"Node protocol violation: {what}.");
}
