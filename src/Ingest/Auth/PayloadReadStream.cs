using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;

namespace Predastore.Ingest.Auth;

/// <summary>
/// A forward-only stream over a request body that verifies as it reads. Bytes handed out are unverified
/// until <see cref="ReadAsync(Memory{byte}, CancellationToken)"/> returns 0: only then has the whole body
/// been checked, so callers must not commit anything before seeing end of stream. A verification failure
/// throws <see cref="S3Exception"/>, and every later read throws it again.
/// </summary>
internal abstract class PayloadReadStream : Stream
{
    public sealed override bool CanRead => true;

    public sealed override bool CanSeek => false;

    public sealed override bool CanWrite => false;

    public sealed override long Length => throw new NotSupportedException();

    public sealed override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

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

    /// <summary>
    /// Kestrel reports a body cut short ("Unexpected end of request content") as a 400 BadHttpRequestException;
    /// S3 calls that IncompleteBody.
    /// </summary>
    protected static bool IsIncompleteBody(BadHttpRequestException exception) =>
        exception.StatusCode == StatusCodes.Status400BadRequest;

    protected static void ThrowIfCanceled(in ReadResult result, CancellationToken cancellationToken)
    {
        if (result.IsCanceled)
        {
            throw new OperationCanceledException("The body read was canceled.", cancellationToken);
        }
    }
}
