using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Predastore.Ingest.S3;

namespace Predastore.Ingest.Auth;

/// <summary>
/// Body reader for a request that declared the hex SHA-256 of its body in <c>x-amz-content-sha256</c>.
/// Passes the body through unchanged, hashing it, and throws XAmzContentSHA256Mismatch at end of body
/// (before returning 0) when the hash differs.
/// </summary>
internal sealed class SignedPayloadReader : PayloadReadStream
{
    private readonly byte[] _expectedHash;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _length;
    private bool _completed;

    public SignedPayloadReader(PipeReader reader, string expectedSha256Hex)
        : base(reader)
    {
        ArgumentNullException.ThrowIfNull(expectedSha256Hex);
        _expectedHash = Convert.FromHexString(expectedSha256Hex);
        if (_expectedHash.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException("Expected a 64-digit hex SHA-256.", nameof(expectedSha256Hex));
        }
    }

    /// <summary>Bytes returned so far.</summary>
    public long BytesRead => _length;

    protected override bool IsFinished => _completed;

    /// <summary>Copies and hashes what <paramref name="result"/> holds; true when the read can return.</summary>
    protected override bool Consume(in ReadResult result, Span<byte> destination, out int written)
    {
        ReadOnlySequence<byte> body = result.Buffer;
        if (!body.IsEmpty)
        {
            written = (int)Math.Min(body.Length, destination.Length);
            body.Slice(0, written).CopyTo(destination);
            _hash.AppendData(destination[..written]);
            _length += written;
            Reader.AdvanceTo(body.GetPosition(written));
            return true;
        }

        written = 0;
        Reader.AdvanceTo(body.End);
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
            Failure = S3Errors.XAmzContentSha256Mismatch();
            throw Failure;
        }

        _completed = true;
    }
}
