// Invariant: a cluster of real node processes keeps serving through node loss. With up to M nodes killed or hung,
// every GET and range GET returns the right bytes, and a hung node costs a request about one time-out; writes fail
// over to the next healthy node on the ring, the manifest records where the shards went and the extent is queued
// durably for re-placement; with fewer than K healthy nodes a PUT is a 503 and nothing of it is visible; a node
// killed with SIGKILL and restarted rejoins and serves everything it acknowledged.
using System.Diagnostics;
using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using Predastore.Metadata;
using Predastore.Ingest.S3;

namespace Predastore.Cluster.Tests;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ClusterFaultTests
{
    private const string Bucket = "cluster";

    [Fact]
    public async Task Get_OneNodeKilled_WholeAndRangeGetsReturnTheBytes()
    {
        // Arrange
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using AmazonS3Client client = cluster.Client();
        await client.PutBucketAsync(Bucket).WaitAsync(TestData.Timeout);
        byte[] body = TestData.Random(1_500_000, 1);
        await PutAsync(client, "image.img", body);
        int victim = DataNode(cluster, "image.img", shardIndex: 0);

        // Act
        await cluster.KillNodeAsync(victim);
        byte[] whole = await GetAsync(client, "image.img");
        using GetObjectResponse range = await client.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = "image.img", ByteRange = new ByteRange(300_000, 900_123) }).WaitAsync(TestData.Timeout);
        byte[] ranged = await TestData.ReadAllAsync(range.ResponseStream).WaitAsync(TestData.Timeout);

        // Assert
        Assert.True(body.AsSpan().SequenceEqual(whole));
        Assert.True(body.AsSpan(300_000, 600_124).SequenceEqual(ranged));
    }

    [Fact]
    public async Task Get_NodeHungBySigstop_SucceedsWithinAboutOneTimeout()
    {
        // Arrange
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using AmazonS3Client client = cluster.Client();
        await client.PutBucketAsync(Bucket).WaitAsync(TestData.Timeout);
        byte[] body = TestData.Random(2_000_000, 2);
        await PutAsync(client, "hung.img", body);
        int victim = DataNode(cluster, "hung.img", shardIndex: 0);

        // Act: the node's process is stopped: its port still accepts, nothing answers.
        cluster.StopNode(victim);
        try
        {
            var clock = Stopwatch.StartNew();
            byte[] read = await GetAsync(client, "hung.img");
            TimeSpan first = clock.Elapsed;
            clock.Restart();
            byte[] again = await GetAsync(client, "hung.img");
            TimeSpan second = clock.Elapsed;

            // Assert: one request time-out (1 s) for the first GET, then the node is marked down and skipped.
            Assert.True(body.AsSpan().SequenceEqual(read));
            Assert.True(body.AsSpan().SequenceEqual(again));
            Assert.True(first < LocalCluster.RequestTimeout * 4, $"first GET took {first}");
            Assert.True(second < LocalCluster.RequestTimeout, $"second GET took {second}");
        }
        finally
        {
            cluster.ContinueNode(victim);
        }
    }

    [Fact]
    public async Task Put_NodeKilledDuringUpload_FailsCleanlyOrCompletesNeverHalfVisible()
    {
        // Arrange
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using AmazonS3Client client = cluster.Client();
        await client.PutBucketAsync(Bucket).WaitAsync(TestData.Timeout);
        byte[] body = TestData.Random(8_000_000, 3);
        using var gate = new GatedStream(body, pauseAt: 2_000_000);

        // Act: the body stops after 2 MB; a node dies; the body goes on. A presigned PUT streams the body as is.
        string url = client.GetPreSignedURL(new GetPreSignedUrlRequest { BucketName = Bucket, Key = "torn.img", Verb = HttpVerb.PUT, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP });
        using var http = new HttpClient { Timeout = TestData.Timeout };
        using var content = new StreamContent(gate);
        content.Headers.ContentLength = body.Length;
        Task<HttpResponseMessage> put = http.PutAsync(new Uri(url), content);
        await gate.Paused.WaitAsync(TestData.Timeout);
        await cluster.KillNodeAsync(2);
        gate.Resume();
        using HttpResponseMessage response = await put.WaitAsync(TestData.Timeout);

        // Assert
        if (response.IsSuccessStatusCode)
        {
            byte[] stored = await GetAsync(client, "torn.img");
            Assert.True(body.AsSpan().SequenceEqual(stored));
        }
        else
        {
            Assert.Equal(expected: HttpStatusCode.ServiceUnavailable, actual: response.StatusCode);
            AmazonS3Exception missing = await Assert.ThrowsAsync<AmazonS3Exception>(() => client.GetObjectMetadataAsync(Bucket, "torn.img").WaitAsync(TestData.Timeout));
            Assert.Equal(expected: HttpStatusCode.NotFound, actual: missing.StatusCode);
            ListObjectsV2Response listing = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket }).WaitAsync(TestData.Timeout);
            Assert.Empty(listing.S3Objects ?? []);
        }
    }

    [Fact]
    public async Task Put_NodeDown_FailsOverRecordsRealPlacementAndQueuesReplacement()
    {
        // Arrange: 4 nodes so a healthy substitute exists; a node of the key's ring placement is killed.
        await using LocalCluster cluster = await LocalCluster.StartAsync(nodes: 4);
        using AmazonS3Client client = cluster.Client();
        await client.PutBucketAsync(Bucket).WaitAsync(TestData.Timeout);
        byte[] body = TestData.Random(700_000, 4);
        await PutAsync(client, "failover.img", TestData.Random(1000, 5));
        int victim = DataNode(cluster, "failover.img", shardIndex: 0);
        await cluster.KillNodeAsync(victim);

        // Act: the first attempts may hit the dead node and fail (503) until it is marked down.
        PutObjectResponse? stored = null;
        for (int attempt = 0; attempt < 6 && stored is null; attempt++)
        {
            try
            {
                stored = await client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = $"failover.img", InputStream = new MemoryStream(body) }).WaitAsync(TestData.Timeout);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
            }
        }

        // Assert
        Assert.NotNull(stored);
        ObjectManifest manifest = cluster.Gateway.Metadata.GetObject(Bucket, "failover.img")!;
        Extent extent = Assert.Single(manifest.Extents);
        Assert.DoesNotContain(victim, extent.Placement);
        byte[] readBack = await GetAsync(client, "failover.img");
        Assert.True(body.AsSpan().SequenceEqual(readBack));
        IReadOnlyList<ReplacementEntry> queued = cluster.Gateway.Metadata.ListReplacements();
        ReplacementEntry entry = Assert.Single(queued, e => e.DataId == extent.DataId);
        Assert.Contains(victim, entry.Intended);
        Assert.Equal(expected: extent.Placement, actual: entry.Placed);
    }

    [Fact]
    public async Task Put_FewerThanKHealthyNodes_Is503AndNothingVisible()
    {
        // Arrange
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using AmazonS3Client client = cluster.Client();
        await client.PutBucketAsync(Bucket).WaitAsync(TestData.Timeout);
        await cluster.KillNodeAsync(1);
        await cluster.KillNodeAsync(2);

        // Act: every attempt fails, before or after the nodes are marked down.
        var statuses = new List<HttpStatusCode>();
        for (int attempt = 0; attempt < 4; attempt++)
        {
            AmazonS3Exception ex = await Assert.ThrowsAsync<AmazonS3Exception>(() => client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "nope.img", InputStream = new MemoryStream(TestData.Random(300_000, attempt)) }).WaitAsync(TestData.Timeout));
            statuses.Add(ex.StatusCode);
        }

        // Assert
        Assert.All(statuses, s => Assert.Equal(expected: HttpStatusCode.ServiceUnavailable, actual: s));
        AmazonS3Exception missing = await Assert.ThrowsAsync<AmazonS3Exception>(() => client.GetObjectMetadataAsync(Bucket, "nope.img").WaitAsync(TestData.Timeout));
        Assert.Equal(expected: HttpStatusCode.NotFound, actual: missing.StatusCode);
    }

    [Fact]
    public async Task Node_KilledAndRestarted_RejoinsAndServesWhatItAcknowledged()
    {
        // Arrange
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using AmazonS3Client client = cluster.Client();
        await client.PutBucketAsync(Bucket).WaitAsync(TestData.Timeout);
        var bodies = new Dictionary<string, byte[]>();
        for (int i = 0; i < 4; i++)
        {
            bodies[$"kept-{i}"] = TestData.Random(400_000 + (i * 100_003), 10 + i);
            await PutAsync(client, $"kept-{i}", bodies[$"kept-{i}"]);
        }

        // Act: SIGKILL node 1, start it again on its data, then lose another node so node 1's shards are needed.
        await cluster.KillNodeAsync(1);
        await cluster.StartNodeAsync(1);
        await cluster.WaitHealthyAsync(1);
        await cluster.KillNodeAsync(2);

        // Assert
        foreach ((string key, byte[] body) in bodies)
        {
            byte[] read = await GetAsync(client, key);
            Assert.True(body.AsSpan().SequenceEqual(read), key);
        }
    }

    private static int DataNode(LocalCluster cluster, string key, int shardIndex) =>
        cluster.Gateway.Metadata.GetObject(Bucket, key)!.Extents[0].Placement[shardIndex];

    private static async Task PutAsync(AmazonS3Client client, string key, byte[] body) =>
        await client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = new MemoryStream(body) }).WaitAsync(TestData.Timeout);

    private static async Task<byte[]> GetAsync(AmazonS3Client client, string key)
    {
        using GetObjectResponse response = await client.GetObjectAsync(Bucket, key).WaitAsync(TestData.Timeout);
        return await TestData.ReadAllAsync(response.ResponseStream).WaitAsync(TestData.Timeout);
    }

    /// <summary>A body that stops at <c>pauseAt</c> until released: a PUT caught in the middle.</summary>
    private sealed class GatedStream(byte[] body, int pauseAt) : Stream
    {
        private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _position;

        public Task Paused => _paused.Task;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => body.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public void Resume() => _resume.TrySetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= pauseAt)
            {
                _paused.TrySetResult();
                await _resume.Task.WaitAsync(cancellationToken);
            }

            int end = _position < pauseAt ? pauseAt : body.Length;
            int n = Math.Min(buffer.Length, end - _position);
            body.AsSpan(_position, n).CopyTo(buffer.Span);
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
