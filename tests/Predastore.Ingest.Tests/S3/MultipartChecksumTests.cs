// Invariant: a multipart object's checksum comes from its parts' checksums alone, and equals what the whole
// object's bytes give: FULL_OBJECT CRCs combine exactly; COMPOSITE is the checksum of the part checksums, "-N".
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using Predastore.Ingest.Auth;

namespace Predastore.Ingest.Tests.S3;

public sealed class MultipartChecksumTests
{
    public static TheoryData<int[]> PartSizes => new()
    {
        new[] { 1, 1 },
        new[] { 5, 0, 17 },
        new[] { 1000, 4096, 3 },
        new[] { 65536, 1, 70000, 123457 },
    };

    [Theory]
    [MemberData(nameof(PartSizes))]
    public void FullObject_AnyPartSizes_EqualsCrcOfWholeObject(int[] sizes)
    {
        byte[][] parts = [.. sizes.Select((size, i) => Random(size, i))];
        byte[] whole = [.. parts.SelectMany(p => p)];

        Assert.Equal(
            expected: Base64(Crc32.HashToUInt32(whole)),
            actual: MultipartChecksum.FullObject(ChecksumAlgorithm.Crc32, [.. parts.Select(p => (Base64(Crc32.HashToUInt32(p)), (long)p.Length))]));
        Assert.Equal(
            expected: Base64(Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, whole)),
            actual: MultipartChecksum.FullObject(ChecksumAlgorithm.Crc32C, [.. parts.Select(p => (Base64(Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, p)), (long)p.Length))]));
        Assert.Equal(
            expected: Base64(Crc64.HashToUInt64(Crc64ParameterSet.Nvme, whole)),
            actual: MultipartChecksum.FullObject(ChecksumAlgorithm.Crc64Nvme, [.. parts.Select(p => (Base64(Crc64.HashToUInt64(Crc64ParameterSet.Nvme, p)), (long)p.Length))]));
    }

    [Fact]
    public void Composite_Sha256_IsHashOfPartHashesWithCount()
    {
        byte[][] parts = [Random(100, 1), Random(200, 2), Random(300, 3)];
        byte[] concatenated = [.. parts.SelectMany(SHA256.HashData)];

        string composite = MultipartChecksum.Composite(ChecksumAlgorithm.Sha256, [.. parts.Select(p => Convert.ToBase64String(SHA256.HashData(p)))]);

        Assert.Equal(expected: Convert.ToBase64String(SHA256.HashData(concatenated)) + "-3", actual: composite);
    }

    [Fact]
    public void FullObject_Sha1_Refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MultipartChecksum.FullObject(ChecksumAlgorithm.Sha1, [("AAAA", 1)]));
    }

    private static string Base64(uint crc)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, crc);
        return Convert.ToBase64String(bytes);
    }

    private static string Base64(ulong crc)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, crc);
        return Convert.ToBase64String(bytes);
    }

    private static byte[] Random(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
