// Invariant: an aws-chunked body decodes to exactly the bytes the client framed, whatever the read and segment
// boundaries, after every chunk signature (and the trailer signature) of the AWS documentation's examples has
// been verified; trailers are exposed once the reader has returned end of stream.
using System.IO.Pipelines;
using Predastore.Ingest.Auth;
using Predastore.Ingest.S3;

namespace Predastore.Ingest.Tests.Auth;

public sealed class AwsChunkedReaderTests
{
    internal const string Seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    internal const string Chunk1 = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
    internal const string Chunk2 = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
    internal const string Chunk3 = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";

    internal const string TrailerSeed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
    internal const string TrailerChunk1 = "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2";
    internal const string TrailerChunk2 = "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7";
    internal const string TrailerChunk3 = "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992";
    internal const string TrailerSignature = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435";

    /// <summary>CRC32C of 66560 × 'a', as in the trailing-header example.</summary>
    internal const string Crc32COfExample = "sOO8/Q==";

    /// <summary>The 66560-byte upload of the streaming example: 64 KiB, 1 KiB and the empty final chunk.</summary>
    internal static byte[] DocumentedStreamingBody(string chunk2Signature = Chunk2) => AuthTestIo.Concat(
        AuthTestIo.Ascii($"10000;chunk-signature={Chunk1}\r\n"), AuthTestIo.Letters(65536),
        AuthTestIo.Ascii($"\r\n400;chunk-signature={chunk2Signature}\r\n"), AuthTestIo.Letters(1024),
        AuthTestIo.Ascii($"\r\n0;chunk-signature={Chunk3}\r\n\r\n"));

    /// <summary>The trailing-header example as SDKs send it: trailers right after the final chunk, then a blank line.</summary>
    internal static byte[] DocumentedTrailerBody(string checksum = Crc32COfExample, bool blankLineBeforeTrailers = false) => AuthTestIo.Concat(
        AuthTestIo.Ascii($"10000;chunk-signature={TrailerChunk1}\r\n"), AuthTestIo.Letters(65536),
        AuthTestIo.Ascii($"\r\n400;chunk-signature={TrailerChunk2}\r\n"), AuthTestIo.Letters(1024),
        AuthTestIo.Ascii($"\r\n0;chunk-signature={TrailerChunk3}\r\n" + (blankLineBeforeTrailers ? "\r\n" : string.Empty)
            + $"x-amz-checksum-crc32c:{checksum}\r\nx-amz-trailer-signature:{TrailerSignature}\r\n\r\n"));

    internal static byte[] UnsignedTrailerBody(string checksum) => AuthTestIo.Concat(
        AuthTestIo.Ascii("10000\r\n"), AuthTestIo.Letters(65536),
        AuthTestIo.Ascii("\r\n400\r\n"), AuthTestIo.Letters(1024),
        AuthTestIo.Ascii($"\r\n0\r\nx-amz-checksum-crc32c:{checksum}\r\n\r\n"));

    internal static AwsChunkedReader SignedReader(PipeReader body, long? decodedLength = 66560) =>
        new(body, PayloadMode.StreamingSigned, AwsExample.Context(Seed, PayloadMode.StreamingSigned), decodedLength);

    [Theory]
    [InlineData(4096, int.MaxValue, 16 * 1024)]
    [InlineData(4096, int.MaxValue, 100_000)]
    [InlineData(7, 13, 4096)]
    [InlineData(1, 1, 1000)]
    [InlineData(100, 31, 1)]
    public async Task ReadAsync_DocumentedStreamingExample_DecodesAllChunks(int segment, int step, int bufferSize)
    {
        // Arrange
        await using AwsChunkedReader reader = SignedReader(AuthTestIo.Feed(DocumentedStreamingBody(), segment, step));

        // Act
        byte[] decoded = await AuthTestIo.ReadAllAsync(reader, bufferSize);

        // Assert
        Assert.Equal(expected: AuthTestIo.Letters(66560), actual: decoded);
        Assert.True(reader.IsCompleted);
        Assert.Equal(expected: 66560L, actual: reader.DecodedLength);
        Assert.Empty(reader.Trailers);
    }

    [Fact]
    public async Task ReadAsync_AfterEndOfStream_KeepsReturningZero()
    {
        // Arrange
        await using AwsChunkedReader reader = SignedReader(AuthTestIo.Feed(DocumentedStreamingBody()));
        await AuthTestIo.ReadAllAsync(reader);

        // Act
        int n = await reader.ReadAsync(new byte[16].AsMemory()).DefaultTimeout();

        // Assert
        Assert.Equal(expected: 0, actual: n);
    }

    [Theory]
    [InlineData(false, 4096, int.MaxValue)]
    [InlineData(true, 4096, int.MaxValue)]
    [InlineData(false, 3, 5)]
    [InlineData(true, 3, 5)]
    public async Task ReadAsync_DocumentedSignedTrailerExample_VerifiesTrailerSignature(bool blankLineBeforeTrailers, int segment, int step)
    {
        // Arrange: the documentation's example has a blank line between the final chunk and the trailers; SDKs do not.
        byte[] body = DocumentedTrailerBody(blankLineBeforeTrailers: blankLineBeforeTrailers);
        await using var reader = new AwsChunkedReader(AuthTestIo.Feed(body, segment, step), PayloadMode.StreamingSignedTrailer,
            AwsExample.Context(TrailerSeed, PayloadMode.StreamingSignedTrailer), 66560, ["x-amz-checksum-crc32c"]);

        // Act
        byte[] decoded = await AuthTestIo.ReadAllAsync(reader);

        // Assert
        Assert.Equal(expected: AuthTestIo.Letters(66560), actual: decoded);
        Assert.True(reader.TryGetTrailer("x-amz-checksum-crc32c", out string crc));
        Assert.Equal(expected: Crc32COfExample, actual: crc);
        Assert.Single(reader.Trailers);
    }

    [Fact]
    public async Task ReadAsync_UnsignedTrailerWithRightCrc32C_ChecksumMatchesTrailer()
    {
        // Arrange
        await using var reader = new AwsChunkedReader(AuthTestIo.Feed(UnsignedTrailerBody(Crc32COfExample), 1000, 777),
            PayloadMode.StreamingUnsignedTrailer, context: null, 66560, ["x-amz-checksum-crc32c"]);
        using var checksum = new IncrementalChecksum(ChecksumAlgorithm.Crc32C);

        // Act
        byte[] decoded = await AuthTestIo.ReadAllAsync(reader, 5000);
        checksum.Append(decoded);

        // Assert
        Assert.True(reader.TryGetTrailer("x-amz-checksum-crc32c", out string sent));
        Assert.Equal(expected: Crc32COfExample, actual: checksum.GetHeaderValue());
        Assert.True(checksum.Matches(sent));
    }

    [Fact]
    public async Task ReadAsync_UnsignedTrailerWithWrongCrc32C_ChecksumMismatchIsBadDigest()
    {
        // Arrange: nothing signs an unsigned trailer, so the body decodes and the checksum comparison must catch it.
        await using var reader = new AwsChunkedReader(AuthTestIo.Feed(UnsignedTrailerBody("AAAAAA=="), 1000, 777),
            PayloadMode.StreamingUnsignedTrailer, context: null, 66560, ["x-amz-checksum-crc32c"]);
        using var checksum = new IncrementalChecksum(ChecksumAlgorithm.Crc32C);

        // Act
        checksum.Append(await AuthTestIo.ReadAllAsync(reader));
        Assert.True(reader.TryGetTrailer("x-amz-checksum-crc32c", out string sent));
        S3Exception error = Assert.Throws<S3Exception>(() => checksum.ThrowIfMismatch(sent));

        // Assert
        Assert.False(checksum.Matches(sent));
        Assert.Equal(expected: "BadDigest", actual: error.Code);
        Assert.Equal(expected: 400, actual: error.StatusCode);
    }

    [Fact]
    public async Task ReadAsync_UnsignedTrailerModeWithoutTrailers_Completes()
    {
        // Arrange
        byte[] body = AuthTestIo.Concat(AuthTestIo.Ascii("3\r\n"), AuthTestIo.Ascii("abc"), AuthTestIo.Ascii("\r\n0\r\n\r\n"));
        await using var reader = new AwsChunkedReader(AuthTestIo.Feed(body, 2, 3), PayloadMode.StreamingUnsignedTrailer, context: null);

        // Act
        byte[] decoded = await AuthTestIo.ReadAllAsync(reader);

        // Assert
        Assert.Equal(expected: AuthTestIo.Ascii("abc"), actual: decoded);
        Assert.Empty(reader.Trailers);
    }

    [Fact]
    public async Task ReadAsync_FinalChunkWithoutClosingBlankLine_IsTolerated()
    {
        // Arrange: nothing signed follows the final chunk, so a missing last CRLF loses nothing.
        byte[] body = DocumentedStreamingBody();
        await using AwsChunkedReader reader = SignedReader(AuthTestIo.Feed(body[..^2]));

        // Act
        byte[] decoded = await AuthTestIo.ReadAllAsync(reader);

        // Assert
        Assert.Equal(expected: 66560, actual: decoded.Length);
    }
}
