// Invariant: an upload that does not complete (body shorter than declared, client gone mid-body) stores nothing:
// the previous version stays readable, no partial object is visible, its shards are deleted and its buffers
// go back to the pool.
using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace Predastore.Pipeline.FunctionalTests;

public sealed class UploadFaultTests : IAsyncLifetime
{
    private const int MiB = 1024 * 1024;
    private const string Bucket = "faults";
    private TestServer _server = null!;

    private AmazonS3Client Client => _server.Client;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await Client.PutBucketAsync(Bucket);
        await Client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "image", ContentBody = "version one" });
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Put_BodyShorterThanContentLength_PreviousVersionKept()
    {
        int shardsBefore = await _server.CountShardsAsync();

        await RawS3.SendTruncatedPutAsync(_server.Endpoint, Bucket, "image", declaredLength: 3 * MiB, sent: TestData.Random(MiB + 17, 1));

        await AssertPreviousVersionOnlyAsync(shardsBefore);
    }

    [Fact]
    public async Task Put_ClientDisconnectsMidBody_PreviousVersionKept()
    {
        int shardsBefore = await _server.CountShardsAsync();
        string url = Client.GetPreSignedURL(new GetPreSignedUrlRequest { BucketName = Bucket, Key = "image", Verb = HttpVerb.PUT, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP });
        var body = new StallingStream(bytesBeforeStall: 5 * MiB);
        using var http = new HttpClient();
        using var cancel = new CancellationTokenSource();
        var content = new StreamContent(body);
        content.Headers.ContentLength = 64 * MiB;

        Task<HttpResponseMessage> upload = http.PutAsync(url, content, cancel.Token);
        await body.Stalled.WaitAsync(TimeSpan.FromSeconds(30));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => upload);

        await AssertPreviousVersionOnlyAsync(shardsBefore);
    }

    [Fact]
    public async Task Put_DisconnectAfterBlocks_NoPartialObjectUnderNewKey()
    {
        await RawS3.SendTruncatedPutAsync(_server.Endpoint, Bucket, "never-complete", declaredLength: 4 * MiB, sent: TestData.Random((2 * MiB) + 5, 2));

        await TestData.ThrowsS3Async(() => Client.GetObjectAsync(Bucket, "never-complete"), "NoSuchKey", HttpStatusCode.NotFound);
        ListObjectsV2Response list = await Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = "never" });
        Assert.Empty(list.S3Objects ?? []);
    }

    private async Task AssertPreviousVersionOnlyAsync(int shardsBefore)
    {
        // The gateway notices the broken body on its own schedule: wait for its clean-up, with a bound.
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await _server.CountShardsAsync() != shardsBefore || _server.Server.Cluster.Buffers.Outstanding != 0) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        using GetObjectResponse get = await Client.GetObjectAsync(Bucket, "image");
        Assert.Equal(expected: "version one", actual: await new StreamReader(get.ResponseStream).ReadToEndAsync());
        Assert.Equal(expected: shardsBefore, actual: await _server.CountShardsAsync());
        Assert.Equal(expected: 0, actual: _server.Server.Cluster.Buffers.Outstanding);
    }

    /// <summary>Yields random bytes, then waits forever: a client whose upload stops mid-body.</summary>
    private sealed class StallingStream(int bytesBeforeStall) : Stream
    {
        private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _position;

        public Task Stalled => _stalled.Task;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= bytesBeforeStall)
            {
                _stalled.TrySetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            int count = (int)Math.Min(buffer.Length, bytesBeforeStall - _position);
            Random.Shared.NextBytes(buffer.Span[..count]);
            _position += count;
            return count;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
