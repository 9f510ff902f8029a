using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using Predastore.Ingest.S3;

namespace Predastore.Ingest.Auth;

/// <summary>
/// Computes one S3 flexible checksum over data appended piece by piece. <see cref="GetHeaderValue"/> gives the
/// x-amz-checksum-* value: base64 of the big-endian CRC (System.IO.Hashing's <c>Hash()</c> bytes are
/// little-endian, so the CRCs go through <c>GetCurrentHashAsUInt32/64</c>), or base64 of the SHA digest.
/// </summary>
internal sealed class IncrementalChecksum : IDisposable
{
    private readonly Crc32? _crc32;
    private readonly Crc64? _crc64;
    private readonly IncrementalHash? _sha;
    private bool _disposed;

    public IncrementalChecksum(ChecksumAlgorithm algorithm)
    {
        Algorithm = algorithm;
        switch (algorithm)
        {
            case ChecksumAlgorithm.Crc32:
                _crc32 = new Crc32(Crc32ParameterSet.Crc32);
                break;
            case ChecksumAlgorithm.Crc32C:
                _crc32 = new Crc32(Crc32ParameterSet.Crc32C);
                break;
            case ChecksumAlgorithm.Crc64Nvme:
                _crc64 = new Crc64(Crc64ParameterSet.Nvme);
                break;
            case ChecksumAlgorithm.Sha1:
                _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
                break;
            case ChecksumAlgorithm.Sha256:
                _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, null);
        }
    }

    public ChecksumAlgorithm Algorithm { get; }

    /// <summary>Size of the raw checksum in bytes.</summary>
    public int HashSize => ChecksumHeaders.HashSize(Algorithm);

    public void Append(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_crc32 is not null)
        {
            _crc32.Append(data);
        }
        else if (_crc64 is not null)
        {
            _crc64.Append(data);
        }
        else
        {
            _sha!.AppendData(data);
        }
    }

    /// <summary>Writes the checksum of everything appended so far (big-endian for CRCs) without resetting.</summary>
    public int GetCurrentHash(Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_crc32 is not null)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, _crc32.GetCurrentHashAsUInt32());
            return sizeof(uint);
        }

        if (_crc64 is not null)
        {
            BinaryPrimitives.WriteUInt64BigEndian(destination, _crc64.GetCurrentHashAsUInt64());
            return sizeof(ulong);
        }

        return _sha!.GetCurrentHash(destination);
    }

    /// <summary>The x-amz-checksum-* header value of everything appended so far.</summary>
    public string GetHeaderValue()
    {
        Span<byte> hash = stackalloc byte[ChecksumHeaders.MaxHashSize];
        int n = GetCurrentHash(hash);
        return Convert.ToBase64String(hash[..n]);
    }

    /// <summary>True when <paramref name="headerValue"/> (base64, as sent by the client) equals the current checksum.</summary>
    public bool Matches(string headerValue)
    {
        ArgumentNullException.ThrowIfNull(headerValue);
        Span<byte> expected = stackalloc byte[ChecksumHeaders.MaxHashSize];
        if (!Convert.TryFromBase64String(headerValue, expected, out int expectedLength) || expectedLength != HashSize)
        {
            return false;
        }

        Span<byte> actual = stackalloc byte[ChecksumHeaders.MaxHashSize];
        int n = GetCurrentHash(actual);
        return actual[..n].SequenceEqual(expected[..expectedLength]);
    }

    /// <summary>Throws BadDigest when <paramref name="headerValue"/> is not the current checksum.</summary>
    public void ThrowIfMismatch(string headerValue)
    {
        if (!Matches(headerValue))
        {
            S3ThrowHelper.Throw(S3Errors.BadDigest(ChecksumHeaders.AlgorithmName(Algorithm)));
        }
    }

    public void Reset()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _crc32?.Reset();
        _crc64?.Reset();
        if (_sha is not null)
        {
            Span<byte> discard = stackalloc byte[ChecksumHeaders.MaxHashSize];
            _sha.GetHashAndReset(discard);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _sha?.Dispose();
    }
}
