namespace Predastore.Transport.Protocol;

/// <summary>
/// One stream of the node protocol (a TCP connection, a TLS session or a QUIC stream), either side: a
/// <see cref="FrameReader"/> and a <see cref="FrameWriter"/> over the stream, and the deadline of the operation in
/// progress. Bodies (cells) move straight between the stream and the caller's pooled buffer, and a frame allocates
/// nothing in either direction.
/// </summary>
/// <remarks>
/// Not thread-safe: one request in flight at a time, which is the protocol's rule, except that an upload's
/// <see cref="ShardStream"/> writes and reads at once (each half has one user). Every operation runs under
/// <see cref="BeginOperation"/>; once an operation fails or times out the connection is dead and must be disposed.
/// </remarks>
internal sealed class FrameConnection : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly FrameReader _reader;
    private readonly FrameWriter _writer;
    private CancellationTokenSource _deadline = new();
    private CancellationTokenRegistration _callerRegistration;
    private int _disposed;

    public FrameConnection(Stream stream)
    {
        _stream = stream;
        _reader = new FrameReader(stream);
        _writer = new FrameWriter(stream);
        LastUsed = Environment.TickCount64;
    }

    /// <summary>When the connection last finished an operation (for the idle time-out).</summary>
    public long LastUsed { get; private set; }

    /// <summary>Exchanges completed on this connection; a pooled one has at least one.</summary>
    public int Exchanges { get; private set; }

    /// <inheritdoc cref="FrameReader.Header"/>
    public ReadOnlySpan<byte> Header(int length) => _reader.Header(length);

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

    /// <summary>Writes a request frame; a large body goes to the stream directly after the prefix and header.</summary>
    public ValueTask WriteRequestAsync(NodeOpcode opcode, RequestHeader header, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        _writer.WriteRequestAsync(opcode, header, body, cancellationToken);

    public ValueTask WriteResponseAsync(ResponseHeader header, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        _writer.WriteResponseAsync(header, body, cancellationToken);

    /// <inheritdoc cref="FrameReader.ReadFrameAsync"/>
    public ValueTask<FramePrefix> ReadFrameAsync(CancellationToken cancellationToken) => _reader.ReadFrameAsync(cancellationToken);

    /// <inheritdoc cref="FrameReader.ReadBodyAsync"/>
    public ValueTask ReadBodyAsync(Memory<byte> destination, CancellationToken cancellationToken) => _reader.ReadBodyAsync(destination, cancellationToken);

    /// <inheritdoc cref="FrameReader.SkipBodyAsync"/>
    public ValueTask SkipBodyAsync(long length, CancellationToken cancellationToken) => _reader.SkipBodyAsync(length, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _callerRegistration.Dispose();
        _deadline.Dispose();
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>What a frame's prefix says; <see cref="HeaderLength"/> bytes of header sit in the connection.</summary>
internal readonly record struct FramePrefix(NodeOpcode Opcode, int HeaderLength, long BodyLength)
{
    public bool IsEnd => HeaderLength == 0;
}
