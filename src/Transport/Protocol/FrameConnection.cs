using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Predastore.Transport.Protocol;

/// <summary>
/// One stream of the node protocol (a TCP connection, a TLS session or a QUIC stream), either side. Prefixes and
/// headers go through System.IO.Pipelines with pooled segments; bodies (cells) bypass the pipes and move straight
/// between the socket and the caller's pooled buffer, so a cell is never copied through an intermediate buffer.
/// </summary>
/// <remarks>
/// Not thread-safe: one request in flight at a time, which is the protocol's rule. Every operation runs under
/// <see cref="BeginOperation"/>; once an operation fails or times out the connection is dead and must be disposed.
/// </remarks>
internal sealed class FrameConnection : IAsyncDisposable
{
    // Bodies smaller than this are copied into the pipe with their header: one write instead of two.
    private const int InlineBodyLimit = 16 * 1024;

    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;

    // Header bytes of the frame last read; owned by the connection, reused by every frame.
    private readonly byte[] _header = new byte[Frame.MaxHeaderLength];
    private CancellationTokenSource _deadline = new();
    private CancellationTokenRegistration _callerRegistration;
    private int _disposed;

    public FrameConnection(Stream stream)
    {
        _stream = stream;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 4096, leaveOpen: true));
        _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));
        LastUsed = Environment.TickCount64;
    }

    /// <summary>When the connection last finished an operation (for the idle time-out).</summary>
    public long LastUsed { get; private set; }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Exchanges completed on this connection; a pooled one has at least one.</summary>
    public int Exchanges { get; private set; }

    public Stream Stream => _stream;

    /// <summary>The header of the frame last read by <see cref="ReadFrameAsync"/>.</summary>
    public ReadOnlySpan<byte> Header(int length) => _header.AsSpan(0, length);

    /// <summary>
    /// Starts an operation bounded by <paramref name="timeout"/> and by the caller's token. The returned token
    /// cancels when either fires; <see cref="EndOperation"/> disarms it. No allocation unless a time-out fired.
    /// </summary>
    public CancellationToken BeginOperation(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!_deadline.TryReset())
        {
            _deadline.Dispose();
            _deadline = new CancellationTokenSource();
        }

        if (cancellationToken.CanBeCanceled)
        {
            _callerRegistration = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _deadline);
        }

        if (timeout != Timeout.InfiniteTimeSpan)
        {
            _deadline.CancelAfter(timeout);
        }

        return _deadline.Token;
    }

    public void EndOperation()
    {
        _callerRegistration.Dispose();
        _callerRegistration = default;
        _deadline.CancelAfter(Timeout.InfiniteTimeSpan);
        LastUsed = Environment.TickCount64;
        Exchanges++;
    }

    /// <summary>Writes a frame; a large body goes to the stream directly after the prefix and header are flushed.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteRequestAsync(NodeOpcode opcode, RequestHeader header, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        Span<byte> span = _writer.GetSpan(Frame.PrefixSize + RequestHeader.Size);
        Frame.WritePrefix(span, opcode, RequestHeader.Size);
        header.WriteTo(span[Frame.PrefixSize..]);
        _writer.Advance(Frame.PrefixSize + RequestHeader.Size);
        await WriteBodyAndFlushAsync(body, cancellationToken).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteResponseAsync(ResponseHeader header, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        Span<byte> span = _writer.GetSpan(Frame.PrefixSize + ResponseHeader.Size);
        Frame.WritePrefix(span, NodeOpcode.Response, ResponseHeader.Size);
        header.WriteTo(span[Frame.PrefixSize..]);
        _writer.Advance(Frame.PrefixSize + ResponseHeader.Size);
        await WriteBodyAndFlushAsync(body, cancellationToken).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteBodyAndFlushAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        if (body.Length <= InlineBodyLimit)
        {
            if (!body.IsEmpty)
            {
                _writer.Write(body.Span);
            }

            await FlushAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await _stream.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        FlushResult flushed = await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (flushed.IsCanceled)
        {
            ThrowClosed("the write was cancelled");
        }
    }

    /// <summary>
    /// Reads the next frame's prefix and header. Returns false when the peer closed the stream cleanly between
    /// frames; a stream that ends inside a frame, or a frame no peer of ours would send, throws.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<FramePrefix> ReadFrameAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (TryParse(ref buffer, out FramePrefix prefix))
            {
                _reader.AdvanceTo(buffer.Start);
                return prefix;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                if (buffer.IsEmpty)
                {
                    return default;
                }

                ThrowClosed("the stream ended inside a frame");
            }
        }
    }

    private bool TryParse(ref ReadOnlySequence<byte> buffer, out FramePrefix prefix)
    {
        prefix = default;
        if (buffer.Length < Frame.PrefixSize)
        {
            return false;
        }

        Span<byte> head = stackalloc byte[Frame.PrefixSize];
        buffer.Slice(0, Frame.PrefixSize).CopyTo(head);
        var opcode = (NodeOpcode)BinaryPrimitives.ReadUInt32BigEndian(head);
        uint headerLength = BinaryPrimitives.ReadUInt32BigEndian(head[4..]);
        if (headerLength is < 8 or > Frame.MaxHeaderLength)
        {
            ThrowProtocol($"a header of {headerLength} bytes");
        }

        if (buffer.Length < Frame.PrefixSize + headerLength)
        {
            return false;
        }

        buffer.Slice(Frame.PrefixSize, headerLength).CopyTo(_header);
        long bodyLength = BinaryPrimitives.ReadInt64BigEndian(_header);
        if (bodyLength is < 0 or > Frame.MaxBodyLength)
        {
            ThrowProtocol($"a body of {bodyLength} bytes");
        }

        buffer = buffer.Slice(Frame.PrefixSize + headerLength);
        prefix = new FramePrefix(opcode, (int)headerLength, bodyLength);
        return true;
    }

    /// <summary>
    /// Reads exactly <c>destination.Length</c> body bytes: what the pipe already holds, then the rest straight from
    /// the stream into <paramref name="destination"/> (the pipe is empty by then, so nothing is reordered).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReadBodyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (!destination.IsEmpty)
        {
            if (_reader.TryRead(out ReadResult result))
            {
                ReadOnlySequence<byte> buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    int take = (int)Math.Min(buffer.Length, destination.Length);
                    buffer.Slice(0, take).CopyTo(destination.Span);
                    _reader.AdvanceTo(buffer.GetPosition(take));
                    destination = destination[take..];
                    continue;
                }

                _reader.AdvanceTo(buffer.Start);
                if (result.IsCompleted || result.IsCanceled)
                {
                    ThrowClosed("the stream ended inside a body");
                }
            }

            int read = await _stream.ReadAtLeastAsync(destination, destination.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (read < destination.Length)
            {
                ThrowClosed("the stream ended inside a body");
            }

            return;
        }
    }

    /// <summary>Reads and drops a body nobody wants (a request the node refuses before reading it).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SkipBodyAsync(long length, CancellationToken cancellationToken)
    {
        while (length > 0)
        {
            ReadResult result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            long take = Math.Min(result.Buffer.Length, length);
            _reader.AdvanceTo(result.Buffer.GetPosition(take));
            length -= take;
            if (length > 0 && result.IsCompleted)
            {
                ThrowClosed("the stream ended inside a body");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _callerRegistration.Dispose();
        _deadline.Dispose();
        await _reader.CompleteAsync().ConfigureAwait(false);
        try
        {
            await _writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The peer is gone; nothing left to flush to.
        }

        await _stream.DisposeAsync().ConfigureAwait(false);
    }

    [DoesNotReturn]
    private static void ThrowClosed(string why) => throw new IOException($"Node connection closed: {why}.");

    [DoesNotReturn]
    private static void ThrowProtocol(string what) => throw new InvalidDataException($"Node protocol violation: {what}.");
}

/// <summary>What a frame's prefix says; <see cref="HeaderLength"/> bytes of header sit in the connection.</summary>
internal readonly record struct FramePrefix(NodeOpcode Opcode, int HeaderLength, long BodyLength)
{
    public bool IsEnd => HeaderLength == 0;
}
