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

    /// <summary>Reads the body pipe; Kestrel's "unexpected end of request content" becomes S3's IncompleteBody.</summary>
    protected static async ValueTask<ReadResult> ReadBodyAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        try
        {
            ReadResult result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCanceled)
            {
                throw new OperationCanceledException("The body read was canceled.", cancellationToken);
            }

            return result;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status400BadRequest)
        {
            throw AuthErrors.IncompleteBody(inner: e);
        }
    }
}
