using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace Predastore.Ingest.Auth;

/// <summary>
/// Body reader for a request that declared the hex SHA-256 of its body in <c>x-amz-content-sha256</c>.
/// Passes the body through unchanged, hashing it, and throws XAmzContentSHA256Mismatch at end of body
/// (before returning 0) when the hash differs.
/// </summary>
internal sealed class SignedPayloadReader : PayloadReadStream
{
    private readonly PipeReader _reader;
    private readonly byte[] _expectedHash;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _length;
    private bool _completed;
    private S3Exception? _failure;

    public SignedPayloadReader(PipeReader reader, string expectedSha256Hex)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(expectedSha256Hex);
        _reader = reader;
        _expectedHash = Convert.FromHexString(expectedSha256Hex);
        if (_expectedHash.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException("Expected a 64-digit hex SHA-256.", nameof(expectedSha256Hex));
        }
    }

    /// <summary>Bytes returned so far.</summary>
    public long BytesRead => _length;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_failure is not null)
        {
            return ValueTask.FromException<int>(_failure);
        }

        if (_completed || buffer.IsEmpty)
        {
            return new ValueTask<int>(0);
        }

        // Fast path: bytes the pipe already holds, without an async state machine.
        try
        {
            if (_reader.TryRead(out ReadResult result))
            {
                ThrowIfCanceled(result, cancellationToken);
                if (Consume(result, buffer.Span, out int n))
                {
                    return new ValueTask<int>(n);
                }
            }
        }
        catch (BadHttpRequestException e) when (IsIncompleteBody(e))
        {
            _failure = AuthErrors.IncompleteBody(inner: e);
            return ValueTask.FromException<int>(_failure);
        }
        catch (S3Exception e)
        {
            return ValueTask.FromException<int>(e);
        }

        return ReadSlowAsync(buffer, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadSlowAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (BadHttpRequestException e) when (IsIncompleteBody(e))
            {
                _failure = AuthErrors.IncompleteBody(inner: e);
                throw _failure;
            }

            ThrowIfCanceled(result, cancellationToken);
            if (Consume(result, buffer.Span, out int n))
            {
                return n;
            }
        }
    }

    /// <summary>Copies and hashes what <paramref name="result"/> holds; true when the read can return.</summary>
    private bool Consume(in ReadResult result, Span<byte> destination, out int n)
    {
        ReadOnlySequence<byte> body = result.Buffer;
        if (!body.IsEmpty)
        {
            n = (int)Math.Min(body.Length, destination.Length);
            body.Slice(0, n).CopyTo(destination);
            _hash.AppendData(destination[..n]);
            _length += n;
            _reader.AdvanceTo(body.GetPosition(n));
            return true;
        }

        n = 0;
        _reader.AdvanceTo(body.End);
        if (result.IsCompleted)
        {
            Complete();
            return true;
        }

        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Complete()
    {
        Span<byte> actual = stackalloc byte[SHA256.HashSizeInBytes];
        _hash.GetHashAndReset(actual);
        if (!actual.SequenceEqual(_expectedHash))
        {
            _failure = AuthErrors.XAmzContentSha256Mismatch();
            throw _failure;
        }

        _completed = true;
    }
}
