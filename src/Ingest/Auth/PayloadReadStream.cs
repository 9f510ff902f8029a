using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Predastore.Ingest.S3;

namespace Predastore.Ingest.Auth;

/// <summary>
/// A forward-only stream over a request body that verifies as it reads. Bytes handed out are unverified
/// until <see cref="ReadAsync(Memory{byte}, CancellationToken)"/> returns 0: only then has the whole body
/// been checked, so callers must not commit anything before seeing end of stream. A verification failure
/// throws <see cref="S3Exception"/>, and every later read throws it again.
/// </summary>
internal abstract class PayloadReadStream : Stream
{
    protected PayloadReadStream(PipeReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        Reader = reader;
    }

    protected PipeReader Reader { get; }

    /// <summary>The verification failure every later read throws again.</summary>
    protected S3Exception? Failure { get; set; }

    /// <summary>True once the whole body has been read and verified.</summary>
    protected abstract bool IsFinished { get; }

    public sealed override bool CanRead => true;

    public sealed override bool CanSeek => false;

    public sealed override bool CanWrite => false;

    public sealed override long Length => throw new NotSupportedException();

    public sealed override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public sealed override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        if (Failure is not null)
        {
            return ValueTask.FromException<int>(Failure);
        }

        if (IsFinished || buffer.IsEmpty)
        {
            return new ValueTask<int>(0);
        }

        // Fast path: what the pipe already holds, without an async state machine. When that is not enough,
        // Consume marked it all examined, so the slow path's ReadAsync waits for new bytes.
        try
        {
            if (Reader.TryRead(out ReadResult result))
            {
                ThrowIfCanceled(result, cancellationToken);
                if (Consume(result, buffer.Span, out int written))
                {
                    return new ValueTask<int>(written);
                }
            }
        }
        catch (BadHttpRequestException e) when (IsIncompleteBody(e))
        {
            Failure = S3Errors.IncompleteBody(inner: e);
            return ValueTask.FromException<int>(Failure);
        }
        catch (S3Exception e)
        {
            return ValueTask.FromException<int>(e);
        }

        return ReadSlowAsync(buffer, cancellationToken);
    }

    /// <summary>
    /// Decodes and verifies what <paramref name="result"/> holds into <paramref name="destination"/> and advances
    /// the reader; true when the read can return (bytes written, or end of body).
    /// </summary>
    protected abstract bool Consume(in ReadResult result, Span<byte> destination, out int written);

    protected virtual void ThrowIfDisposed()
    {
    }

    public sealed override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public sealed override int Read(byte[] buffer, int offset, int count)
    {
        S3ThrowHelper.ThrowNotSupported();
        return 0;
    }

    public sealed override int Read(Span<byte> buffer)
    {
        S3ThrowHelper.ThrowNotSupported();
        return 0;
    }

    public sealed override void Flush()
    {
    }

    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public sealed override void SetLength(long value) => throw new NotSupportedException();

    public sealed override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    // Pooled state machines: a read that has to wait for the network does not allocate.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadSlowAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (BadHttpRequestException e) when (IsIncompleteBody(e))
            {
                Failure = S3Errors.IncompleteBody(inner: e);
                throw Failure;
            }

            ThrowIfCanceled(result, cancellationToken);
            if (Consume(result, buffer.Span, out int written))
            {
                return written;
            }
        }
    }

    /// <summary>
    /// Kestrel reports a body cut short ("Unexpected end of request content") as a 400 BadHttpRequestException;
    /// S3 calls that IncompleteBody.
    /// </summary>
    private static bool IsIncompleteBody(BadHttpRequestException exception) =>
        exception.StatusCode == StatusCodes.Status400BadRequest;

    private static void ThrowIfCanceled(in ReadResult result, CancellationToken cancellationToken)
    {
        if (result.IsCanceled)
        {
            throw new OperationCanceledException("The body read was canceled.", cancellationToken);
        }
    }
}
