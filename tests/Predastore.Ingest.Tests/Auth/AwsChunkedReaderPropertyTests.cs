// Invariant: for any payload, chunking and delivery pattern, the reader returns exactly the payload that a
// reference signer (written here from the SigV4 streaming spec, independent of the reader) framed and signed;
// and its memory use does not grow with the body.
using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Predastore.Ingest.Auth;
using Predastore.Ingest.S3;

namespace Predastore.Ingest.Tests.Auth;

public sealed class AwsChunkedReaderPropertyTests
{
    [Fact]
    public void ReferenceSigner_DocumentedStreamingExample_ReproducesDocumentedBody()
    {
        // Act
        byte[] body = ReferenceChunkSigner.Encode(AuthTestIo.Letters(66560), [65536, 1024], AwsChunkedReaderTests.Seed);

        // Assert
        Assert.Equal(expected: AwsChunkedReaderTests.DocumentedStreamingBody(), actual: body);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public async Task ReadAsync_RandomChunkingAndDelivery_MatchesReferenceModel(int seed)
    {
        // Arrange
        var random = new Random(seed);
        byte[] payload = new byte[random.Next(0, 150_000)];
        random.NextBytes(payload);
        var sizes = new List<int>();
        for (int left = payload.Length; left > 0;)
        {
            int size = Math.Min(left, random.Next(1, 70_000));
            sizes.Add(size);
            left -= size;
        }

        byte[] body = ReferenceChunkSigner.Encode(payload, [.. sizes], AwsChunkedReaderTests.Seed);
        PipeReader pipe = AuthTestIo.Feed(body, segment: random.Next(16, 5000), step: random.Next(1, 9000));
        await using AwsChunkedReader reader = AwsChunkedReaderTests.SignedReader(pipe, payload.Length);

        // Act
        byte[] decoded = await AuthTestIo.ReadAllAsync(reader, random.Next(1, 70_000));

        // Assert
        Assert.Equal(expected: payload, actual: decoded);
    }

    [Fact]
    public async Task ReadAsync_LargerBody_AllocatesNoMore()
    {
        // Arrange: the same 64 KiB chunking at 1 MiB and 8 MiB; the allocations must not scale with the body.
        byte[] small = ReferenceChunkSigner.Encode(new byte[1 << 20], [.. Enumerable.Repeat(65536, 16)], AwsChunkedReaderTests.Seed);
        byte[] large = ReferenceChunkSigner.Encode(new byte[8 << 20], [.. Enumerable.Repeat(65536, 128)], AwsChunkedReaderTests.Seed);
        byte[] buffer = new byte[65536];
        await DrainAsync(small, buffer);

        // Act: the least of three drains each. ArrayPool.Shared is shared with the tests running in parallel, so a rent
        // now and then finds it empty and allocates (5 KiB in one CI run); an allocation that grows with the body
        // shows in every drain.
        long smallBytes = long.MaxValue;
        long largeBytes = long.MaxValue;
        for (int run = 0; run < 3; run++)
        {
            smallBytes = Math.Min(smallBytes, await DrainAsync(small, buffer));
            largeBytes = Math.Min(largeBytes, await DrainAsync(large, buffer));
        }

        // Assert
        Assert.True(largeBytes - smallBytes < 1024, $"1 MiB body: {smallBytes} B allocated, 8 MiB body: {largeBytes} B");
    }

    [Fact]
    public async Task ReadAsync_KestrelReportsTruncatedBody_IsIncompleteBody()
    {
        // Arrange
        await using AwsChunkedReader reader = AwsChunkedReaderTests.SignedReader(new TruncatedBodyReader());

        // Act
        S3Exception error = await Assert.ThrowsAsync<S3Exception>(() => AuthTestIo.ReadAllAsync(reader)).DefaultTimeout();

        // Assert
        Assert.Equal(expected: "IncompleteBody", actual: error.Code);
        Assert.IsType<BadHttpRequestException>(error.InnerException);
    }

    /// <summary>
    /// Reads to the end; returns the bytes this thread allocated. The body is all buffered, so every read takes the
    /// synchronous path (a read that has to wait uses a pooled state machine in Release; Debug builds allocate one).
    /// </summary>
    private static async Task<long> DrainAsync(byte[] body, byte[] buffer)
    {
        PipeReader pipe = AuthTestIo.Feed(body, 65536);
        long before = GC.GetAllocatedBytesForCurrentThread();
        using AwsChunkedReader reader = AwsChunkedReaderTests.SignedReader(pipe, null);
        while (true)
        {
            ValueTask<int> read = reader.ReadAsync(buffer.AsMemory());
            Assert.True(read.IsCompletedSuccessfully);
            if (await read == 0)
            {
                return GC.GetAllocatedBytesForCurrentThread() - before;
            }
        }
    }

    private sealed class TruncatedBodyReader : PipeReader
    {
        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
            ValueTask.FromException<ReadResult>(new BadHttpRequestException("Unexpected end of request content.", 400));

        public override bool TryRead(out ReadResult result)
        {
            result = default;
            return false;
        }

        public override void AdvanceTo(SequencePosition consumed) => throw new NotSupportedException();

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => throw new NotSupportedException();

        public override void CancelPendingRead() => throw new NotSupportedException();

        public override void Complete(Exception? exception = null)
        {
        }
    }
}

/// <summary>
/// The reference model: frames and signs a payload as aws-chunked (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) straight
/// from the spec, with its own key derivation, for the AWS example credentials and scope.
/// </summary>
internal static class ReferenceChunkSigner
{
    public static byte[] Encode(byte[] payload, int[] chunkSizes, string seedSignature)
    {
        byte[] key = Hmac(Hmac(Hmac(Hmac(Encoding.UTF8.GetBytes("AWS4" + AwsExample.SecretKey), "20130524"), AwsExample.Region), "s3"), "aws4_request");
        var output = new ArrayBufferWriter<byte>();
        string previous = seedSignature;
        int offset = 0;
        foreach (int size in chunkSizes.Append(0))
        {
            ReadOnlySpan<byte> chunk = payload.AsSpan(offset, size);
            string stringToSign = "AWS4-HMAC-SHA256-PAYLOAD\n" + AwsExample.AmzDate + "\n" + AwsExample.Scope + "\n" + previous + "\n"
                + AwsExample.EmptySha256 + "\n" + Convert.ToHexStringLower(SHA256.HashData(chunk));
            string signature = Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
            output.Write(Encoding.ASCII.GetBytes($"{size:x};chunk-signature={signature}\r\n"));
            output.Write(chunk);
            output.Write("\r\n"u8);
            previous = signature;
            offset += size;
        }

        return output.WrittenSpan.ToArray();
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));
}
