// Invariant: an aws-chunked body that was altered, cut short, mis-framed or longer/shorter than declared never
// reaches end of stream: the reader throws an S3Exception with S3's code (SignatureDoesNotMatch, IncompleteBody,
// InvalidRequest, MalformedTrailerError) and keeps throwing it.
using System.Text;
using Predastore.Ingest.Auth;
using Predastore.Ingest.S3;

namespace Predastore.Ingest.Tests.Auth;

public sealed class AwsChunkedReaderFaultTests
{
    [Theory]
    [InlineData(100)]
    [InlineData(65536 + 200)]
    public async Task ReadAsync_TamperedChunkData_IsSignatureDoesNotMatch(int offset)
    {
        // Arrange
        byte[] body = AwsChunkedReaderTests.DocumentedStreamingBody();
        body[offset] = (byte)'b';
        await using AwsChunkedReader reader = AwsChunkedReaderTests.SignedReader(AuthTestIo.Feed(body, 4096, 999));

        // Act
        S3Exception error = await Assert.ThrowsAsync<S3Exception>(() => AuthTestIo.ReadAllAsync(reader)).DefaultTimeout();

        // Assert
        Assert.Equal(expected: "SignatureDoesNotMatch", actual: error.Code);
        Assert.Equal(expected: 403, actual: error.StatusCode);
    }

    [Fact]
    public async Task ReadAsync_WrongChunkSignature_IsSignatureDoesNotMatch()
    {
        // Arrange
        string wrong = "1" + AwsChunkedReaderTests.Chunk2[1..];
        await using AwsChunkedReader reader = AwsChunkedReaderTests.SignedReader(
            AuthTestIo.Feed(AwsChunkedReaderTests.DocumentedStreamingBody(wrong)));

        // Act
        S3Exception error = await Assert.ThrowsAsync<S3Exception>(() => AuthTestIo.ReadAllAsync(reader)).DefaultTimeout();

        // Assert
        Assert.Equal(expected: "SignatureDoesNotMatch", actual: error.Code);
    }

    [Fact]
    public async Task ReadAsync_ChunksReordered_IsSignatureDoesNotMatch()
    {
        // Arrange: each signature chains from the previous one, so valid chunks in another order fail.
        byte[] body = AuthTestIo.Concat(
            AuthTestIo.Ascii($"400;chunk-signature={AwsChunkedReaderTests.Chunk2}\r\n"), AuthTestIo.Letters(1024),
            AuthTestIo.Ascii($"\r\n10000;chunk-signature={AwsChunkedReaderTests.Chunk1}\r\n"), AuthTestIo.Letters(65536),
            AuthTestIo.Ascii($"\r\n0;chunk-signature={AwsChunkedReaderTests.Chunk3}\r\n\r\n"));
        await using AwsChunkedReader reader = AwsChunkedReaderTests.SignedReader(AuthTestIo.Feed(body));

        // Act
        S3Exception error = await Assert.ThrowsAsync<S3Exception>(() => AuthTestIo.ReadAllAsync(reader)).DefaultTimeout();

        // Assert
        Assert.Equal(expected: "SignatureDoesNotMatch", actual: error.Code);
    }

    [Theory]
    [InlineData(50)]
    [InlineData(40_000)]
    [InlineData(65536 + 88)]
    public async Task ReadAsync_TruncatedBody_IsIncompleteBody(int length)
    {
        // Arrange
        byte[] body = AwsChunkedReaderTests.DocumentedStreamingBody()[..length];
        await using AwsChunkedReader reader = AwsChunkedReaderTests.SignedReader(AuthTestIo.Feed(body, 4096, 1000));

        // Act
        S3Exception error = await Assert.ThrowsAsync<S3Exception>(() => AuthTestIo.ReadAllAsync(reader)).DefaultTimeout();

        // Assert
        Assert.Equal(expected: "IncompleteBody", actual: error.Code);
        Assert.Equal(expected: 400, actual: error.StatusCode);
    }

    [Fact]
    public async Task ReadAsync_BodyStopsBeforeFinalChunk_IsIncompleteBody()
    {
        // Arrange: dropping the final chunk would otherwise pass every signature seen so far.
        byte[] body = AwsChunkedReaderTests.DocumentedStreamingBody();
        int finalChunk = Encoding.ASCII.GetString(body).LastIndexOf("0;chunk-signature", StringComparison.Ordinal);
        await using AwsChunkedReader reader = AwsChunkedReaderTests.SignedReader(AuthTestIo.Feed(body[..finalChunk]), decodedLength: null);

        // Act
        S3Exception error = await Assert.ThrowsAsync<S3Exception>(() => AuthTestIo.ReadAllAsync(reader)).DefaultTimeout();

        // Assert
        Assert.Equal(expected: "IncompleteBody", actual: error.Code);
    }

    [Fact]
    public async Task ReadAsync_DecodedLengthLargerThanBody_IsIncompleteBody()
    {
        // Arrange
        await using AwsChunkedReader reader = AwsChunkedReaderTests.SignedReader(
            AuthTestIo.Feed(AwsChunkedReaderTests.DocumentedStreamingBody()), decodedLength: 66561);

        // Act
        S3Exception error = await Assert.ThrowsAsync<S3Exception>(() => AuthTestIo.ReadAllAsync(reader)).DefaultTimeout();

        // Assert
        Assert.Equal(expected: "IncompleteBody", actual: error.Code);
    }

    [Fact]
    public async Task ReadAsync_DecodedLengthSmallerThanBody_IsInvalidRequestBeforeExcessData()
    {
        // Arrange
        await using AwsChunkedReader reader = AwsChunkedReaderTests.SignedReader(
            AuthTestIo.Feed(AwsChunkedReaderTests.DocumentedStreamingBody()), decodedLength: 66559);

        // Act
        S3Exception error = await Assert.ThrowsAsync<S3Exception>(() => AuthTestIo.ReadAllAsync(reader)).DefaultTimeout();

        // Assert
        Assert.Equal(expected: "InvalidRequest", actual: error.Code);
        Assert.True(reader.DecodedLength <= 65536, $"decoded {reader.DecodedLength} bytes before failing");
    }

    [Theory]
    [InlineData("zz;chunk-signature=x\r\n")]
    [InlineData("10000\r\n")]
    [InlineData(";chunk-signature=x\r\n")]
    public async Task ReadAsync_MalformedChunkHeader_IsInvalidRequest(string header)
    {
        // Arrange: a bad size, a missing chunk-signature in a signed body, an empty size.
        byte[] body = AuthTestIo.Concat(AuthTestIo.Ascii(header), AuthTestIo.Letters(100));
        await using AwsChunkedReader reader = AwsChunkedReaderTests.SignedReader(AuthTestIo.Feed(body), decodedLength: null);

        // Act
        S3Exception error = await Assert.ThrowsAsync<S3Exception>(() => AuthTestIo.ReadAllAsync(reader)).DefaultTimeout();

        // Assert
        Assert.Equal(expected: "InvalidRequest", actual: error.Code);
    }

    [Fact]
    public async Task ReadAsync_ChunkDataNotFollowedByCrLf_IsInvalidRequest()
    {
        // Arrange: the header says 0x400 bytes but 1025 follow.
        byte[] body = AwsChunkedReaderTests.DocumentedStreamingBody();
        string text = Encoding.Latin1.GetString(body).Replace("\r\n400;", "\r\n3ff;", StringComparison.Ordinal);
        await using AwsChunkedReader reader = AwsChunkedReaderTests.SignedReader(AuthTestIo.Feed(Encoding.Latin1.GetBytes(text)), null);

        // Act
        S3Exception error = await Assert.ThrowsAsync<S3Exception>(() => AuthTestIo.ReadAllAsync(reader)).DefaultTimeout();

        // Assert
        Assert.Equal(expected: "InvalidRequest", actual: error.Code);
    }

    [Fact]
    public async Task ReadAsync_HeaderLineWithoutEnd_IsInvalidRequest()
    {
        // Arrange: the reader must not buffer an endless header line.
        byte[] body = AuthTestIo.Concat(AuthTestIo.Ascii("10000;chunk-signature="), AuthTestIo.Letters(10_000));
        await using AwsChunkedReader reader = AwsChunkedReaderTests.SignedReader(AuthTestIo.Feed(body, 4096, 1024), null);

        // Act
        S3Exception error = await Assert.ThrowsAsync<S3Exception>(() => AuthTestIo.ReadAllAsync(reader)).DefaultTimeout();

        // Assert
        Assert.Equal(expected: "InvalidRequest", actual: error.Code);
    }

    [Fact]
    public async Task ReadAsync_DataAfterTerminator_IsInvalidRequest()
    {
        // Arrange
        byte[] body = AuthTestIo.Concat(AwsChunkedReaderTests.DocumentedStreamingBody(), AuthTestIo.Ascii("junk"));
        await using AwsChunkedReader reader = AwsChunkedReaderTests.SignedReader(AuthTestIo.Feed(body));

        // Act
        S3Exception error = await Assert.ThrowsAsync<S3Exception>(() => AuthTestIo.ReadAllAsync(reader)).DefaultTimeout();

        // Assert
        Assert.Equal(expected: "InvalidRequest", actual: error.Code);
    }

    [Fact]
    public async Task ReadAsync_TamperedSignedTrailer_IsSignatureDoesNotMatch()
    {
        // Arrange
        byte[] body = AwsChunkedReaderTests.DocumentedTrailerBody(checksum: "sOO8/A==");
        await using var reader = new AwsChunkedReader(AuthTestIo.Feed(body), PayloadMode.StreamingSignedTrailer,
            AwsExample.Context(AwsChunkedReaderTests.TrailerSeed, PayloadMode.StreamingSignedTrailer), 66560, ["x-amz-checksum-crc32c"]);

        // Act
        S3Exception error = await Assert.ThrowsAsync<S3Exception>(() => AuthTestIo.ReadAllAsync(reader)).DefaultTimeout();

        // Assert
        Assert.Equal(expected: "SignatureDoesNotMatch", actual: error.Code);
    }

    [Fact]
    public async Task ReadAsync_SignedTrailerWithoutSignature_IsMalformedTrailer()
    {
        // Arrange
        string text = Encoding.Latin1.GetString(AwsChunkedReaderTests.DocumentedTrailerBody());
        text = text.Replace($"x-amz-trailer-signature:{AwsChunkedReaderTests.TrailerSignature}\r\n", string.Empty, StringComparison.Ordinal);
        await using var reader = new AwsChunkedReader(AuthTestIo.Feed(Encoding.Latin1.GetBytes(text)), PayloadMode.StreamingSignedTrailer,
            AwsExample.Context(AwsChunkedReaderTests.TrailerSeed, PayloadMode.StreamingSignedTrailer), 66560, ["x-amz-checksum-crc32c"]);

        // Act
        S3Exception error = await Assert.ThrowsAsync<S3Exception>(() => AuthTestIo.ReadAllAsync(reader)).DefaultTimeout();

        // Assert
        Assert.Equal(expected: "MalformedTrailerError", actual: error.Code);
    }

    [Fact]
    public async Task ReadAsync_AnnouncedTrailerMissing_IsMalformedTrailer()
    {
        // Arrange: x-amz-trailer promised a checksum; the body ends without it.
        byte[] body = AuthTestIo.Concat(AuthTestIo.Ascii("3\r\nabc\r\n0\r\n\r\n"));
        await using var reader = new AwsChunkedReader(AuthTestIo.Feed(body), PayloadMode.StreamingUnsignedTrailer, null, 3, ["x-amz-checksum-crc32c"]);

        // Act
        S3Exception error = await Assert.ThrowsAsync<S3Exception>(() => AuthTestIo.ReadAllAsync(reader)).DefaultTimeout();

        // Assert
        Assert.Equal(expected: "MalformedTrailerError", actual: error.Code);
    }

    [Fact]
    public async Task ReadAsync_AfterFailure_ThrowsSameErrorAgain()
    {
        // Arrange
        byte[] body = AwsChunkedReaderTests.DocumentedStreamingBody();
        body[10_000] = (byte)'b';
        await using AwsChunkedReader reader = AwsChunkedReaderTests.SignedReader(AuthTestIo.Feed(body));
        S3Exception first = await Assert.ThrowsAsync<S3Exception>(() => AuthTestIo.ReadAllAsync(reader)).DefaultTimeout();

        // Act
        S3Exception second = await Assert.ThrowsAsync<S3Exception>(() => reader.ReadAsync(new byte[10].AsMemory()).AsTask()).DefaultTimeout();

        // Assert
        Assert.Same(first, second);
    }
}
