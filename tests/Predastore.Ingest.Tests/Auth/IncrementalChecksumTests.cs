// Invariant: IncrementalChecksum yields the x-amz-checksum-* value S3 expects — base64 of the big-endian CRC or of
// the SHA digest — for the standard check inputs, independent of how the data is split into appends.
using System.Buffers.Binary;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Predastore.Ingest.Auth;
using Predastore.Ingest.S3;

namespace Predastore.Ingest.Tests.Auth;

public sealed class IncrementalChecksumTests
{
    private static readonly byte[] s_checkInput = "123456789"u8.ToArray();

    [Theory]
    [InlineData("CRC32", 0xCBF43926UL)]
    [InlineData("CRC32C", 0xE3069283UL)]
    [InlineData("CRC64NVME", 0xAE8B14860A799888UL)]
    public void GetHeaderValue_CrcCheckInput_IsBase64OfBigEndianCheckValue(string algorithmName, ulong check)
    {
        // Arrange
        using var checksum = new IncrementalChecksum(Algorithm(algorithmName));
        byte[] expected = new byte[checksum.HashSize];
        if (expected.Length == 8)
        {
            BinaryPrimitives.WriteUInt64BigEndian(expected, check);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(expected, (uint)check);
        }

        // Act
        checksum.Append(s_checkInput.AsSpan(0, 4));
        checksum.Append(s_checkInput.AsSpan(4));

        // Assert
        Assert.Equal(expected: Convert.ToBase64String(expected), actual: checksum.GetHeaderValue());
    }

    [Fact]
    public void GetHeaderValue_Crc64NvmeCheckInput_IsDocumentedConstant()
    {
        // Arrange: 0xAE8B14860A799888 big-endian, base64.
        using var checksum = new IncrementalChecksum(ChecksumAlgorithm.Crc64Nvme);

        // Act
        checksum.Append(s_checkInput);

        // Assert
        Assert.Equal(expected: "rosUhgp5mIg=", actual: checksum.GetHeaderValue());
    }

    [Theory]
    [InlineData("SHA1")]
    [InlineData("sha256")]
    public void GetHeaderValue_Sha_IsBase64OfDigest(string algorithmName)
    {
        // Arrange
        ChecksumAlgorithm algorithm = Algorithm(algorithmName);
        using var checksum = new IncrementalChecksum(algorithm);
        byte[] digest = algorithm == ChecksumAlgorithm.Sha1 ? SHA1.HashData(s_checkInput) : SHA256.HashData(s_checkInput);

        // Act
        checksum.Append(s_checkInput);

        // Assert
        Assert.Equal(expected: Convert.ToBase64String(digest), actual: checksum.GetHeaderValue());
    }

    [Fact]
    public void GetHeaderValue_DocumentedTrailerPayload_IsDocumentedCrc32C()
    {
        // Arrange: 66560 × 'a' is the trailing-header example, whose trailer is x-amz-checksum-crc32c:sOO8/Q==.
        using var checksum = new IncrementalChecksum(ChecksumAlgorithm.Crc32C);

        // Act
        checksum.Append(AuthTestIo.Letters(65536));
        checksum.Append(AuthTestIo.Letters(1024));

        // Assert
        Assert.Equal(expected: "sOO8/Q==", actual: checksum.GetHeaderValue());
    }

    [Fact]
    public void Reset_AfterAppend_StartsOver()
    {
        // Arrange
        using var checksum = new IncrementalChecksum(ChecksumAlgorithm.Sha256);
        checksum.Append("junk"u8);

        // Act
        checksum.Reset();
        checksum.Append(s_checkInput);

        // Assert
        Assert.Equal(expected: Convert.ToBase64String(SHA256.HashData(s_checkInput)), actual: checksum.GetHeaderValue());
    }

    [Theory]
    [InlineData("x-amz-checksum-crc32", "CRC32")]
    [InlineData("X-Amz-Checksum-CRC32C", "CRC32C")]
    [InlineData("x-amz-checksum-crc64nvme", "CRC64NVME")]
    [InlineData("x-amz-checksum-sha1", "SHA1")]
    [InlineData(" x-amz-checksum-sha256 ", "SHA256")]
    public void TryParseHeaderName_ChecksumHeader_ReturnsAlgorithm(string name, string algorithmName)
    {
        // Arrange
        ChecksumAlgorithm algorithm = Algorithm(algorithmName);

        // Act
        bool parsed = ChecksumHeaders.TryParseHeaderName(name, out ChecksumAlgorithm actual);

        // Assert
        Assert.True(parsed);
        Assert.Equal(expected: algorithm, actual: actual);
        Assert.Equal(expected: name.Trim().ToLowerInvariant(), actual: ChecksumHeaders.HeaderName(actual));
    }

    [Theory]
    [InlineData("x-amz-checksum-algorithm")]
    [InlineData("x-amz-checksum-type")]
    [InlineData("x-amz-checksum-md5")]
    [InlineData("content-md5")]
    public void TryParseHeaderName_OtherHeader_ReturnsFalse(string name)
    {
        // Act
        bool parsed = ChecksumHeaders.TryParseHeaderName(name, out _);

        // Assert
        Assert.False(parsed);
    }

    [Fact]
    public void TryGetRequestChecksum_TrailerAnnounced_ReturnsAlgorithmWithoutValue()
    {
        // Arrange
        HttpRequest request = AwsExample.Request("PUT", "/b/k",
            ("x-amz-trailer", "x-amz-checksum-crc32c"), ("x-amz-sdk-checksum-algorithm", "CRC32C"));

        // Act
        bool found = ChecksumHeaders.TryGetRequestChecksum(request.Headers, out ChecksumAlgorithm algorithm, out string? value);

        // Assert
        Assert.True(found);
        Assert.Equal(expected: ChecksumAlgorithm.Crc32C, actual: algorithm);
        Assert.Null(value);
    }

    [Fact]
    public void TryGetRequestChecksum_HeaderValue_ReturnsAlgorithmAndValue()
    {
        // Arrange
        HttpRequest request = AwsExample.Request("PUT", "/b/k", ("x-amz-checksum-crc64nvme", "rosUhgp5mIg="));

        // Act
        bool found = ChecksumHeaders.TryGetRequestChecksum(request.Headers, out ChecksumAlgorithm algorithm, out string? value);

        // Assert
        Assert.True(found);
        Assert.Equal(expected: ChecksumAlgorithm.Crc64Nvme, actual: algorithm);
        Assert.Equal(expected: "rosUhgp5mIg=", actual: value);
    }

    [Theory]
    [InlineData("x-amz-checksum-crc32", "notbase64!", null, null)]
    [InlineData("x-amz-checksum-crc32", "AAAAAAAA", null, null)]
    [InlineData("x-amz-checksum-crc32", "AAAAAA==", "x-amz-checksum-sha1", "2jmj7l5rSw0yVb/vlWAYkK/YBwk=")]
    [InlineData("x-amz-checksum-crc32", "AAAAAA==", "x-amz-sdk-checksum-algorithm", "SHA256")]
    public void TryGetRequestChecksum_InvalidOrConflicting_IsInvalidRequest(string name, string value, string? otherName, string? otherValue)
    {
        // Arrange
        HttpRequest request = otherName is null
            ? AwsExample.Request("PUT", "/b/k", (name, value))
            : AwsExample.Request("PUT", "/b/k", (name, value), (otherName, otherValue!));

        // Act
        S3Exception error = Assert.Throws<S3Exception>(() => ChecksumHeaders.TryGetRequestChecksum(request.Headers, out _, out _));

        // Assert
        Assert.Equal(expected: "InvalidRequest", actual: error.Code);
    }

    private static ChecksumAlgorithm Algorithm(string name)
    {
        Assert.True(ChecksumHeaders.TryParseAlgorithmName(name, out ChecksumAlgorithm algorithm), name);
        return algorithm;
    }
}
