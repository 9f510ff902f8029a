// Invariant: the upload pipeline holds a bounded number of pooled stripes whatever the object size (backpressure,
// not buffering), returns every buffer it rented, and leaves no shard behind when it fails or is cancelled.
using Predastore.Ingest.Pipeline;
using Predastore.Transport;
using Predastore.Transport.Placement;

namespace Predastore.Ingest.Tests.Pipeline;

public sealed class UploadPipelineTests
{
    private const int BlockSize = 64 * 1024;

    [Fact]
    public async Task Run_SlowNodes_HoldsBoundedStripesAndReturnsThemAll()
    {
        // Arrange: 200 blocks through nodes that take a millisecond per cell.
        await using var harness = new ClusterHarness(nodes: 3, 2, 1, BlockSize);
        long maxOutstanding = 0;
        foreach (RecordingNode node in harness.Nodes)
        {
            node.BeforeWrite = async () =>
            {
                long now = harness.Cluster.Buffers.Outstanding;
                long seen;
                while (now > (seen = Interlocked.Read(ref maxOutstanding)) && Interlocked.CompareExchange(ref maxOutstanding, now, seen) != seen)
                {
                }

                await Task.Delay(1);
            };
        }

        byte[] content = new byte[200 * BlockSize];
        new Random(1).NextBytes(content);

        // Act
        Metadata.ObjectManifest manifest = await harness.PutAsync("bucket", "large", content);

        // Assert: stage capacities (2 + 2 + 4 in flight, one being read, one per running delegate) bound it.
        Assert.InRange(maxOutstanding, 1, 16);
        Assert.Equal(expected: 0, actual: harness.Cluster.Buffers.Outstanding);
        byte[] read = await harness.GetAsync(manifest, 0, content.Length);
        Assert.True(content.AsSpan().SequenceEqual(read));
    }

    [Fact]
    public async Task Run_NodeWriteFails_ThrowsNodeErrorAndLeavesNoShard()
    {
        await using var harness = new ClusterHarness(nodes: 3, 2, 1, BlockSize);
        harness.Nodes[1].FailWrites = true;

        ShardException error = await Assert.ThrowsAsync<ShardException>(() => harness.PutAsync("bucket", "fails", new byte[20 * BlockSize]));

        Assert.Equal(expected: harness.Nodes[1].Id, actual: error.NodeId);
        Assert.Equal(expected: 0, actual: harness.Cluster.Buffers.Outstanding);
        foreach (RecordingNode node in harness.Nodes)
        {
            Assert.Empty(await node.ListAsync());
        }
    }

    [Fact]
    public async Task Run_BodyFailsMidway_RethrowsBodyErrorAndLeavesNoShard()
    {
        await using var harness = new ClusterHarness(nodes: 3, 2, 1, BlockSize);
        byte[] objectHash = ObjectHash.Compute("bucket", "broken");
        var target = new ExtentTarget(objectHash, Guid.NewGuid(), harness.Cluster.Ring.Place(objectHash, 3));

        IOException error = await Assert.ThrowsAsync<IOException>(
            () => harness.Uploads.RunAsync(new FailingStream(10 * BlockSize), target, checksum: null).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(expected: "client went away", actual: error.Message);
        Assert.Equal(expected: 0, actual: harness.Cluster.Buffers.Outstanding);
        foreach (RecordingNode node in harness.Nodes)
        {
            Assert.Empty(await node.ListAsync());
        }
    }

    [Fact]
    public async Task Run_VerifyRejectsTheBody_NoShardEverCommittedEvenWhenDeletesFail()
    {
        // Arrange: the request's checks (length, Content-MD5, checksum) fail once the whole body is stored, and no
        // node can delete anything, so only shards never committed stay invisible
        await using var harness = new ClusterHarness(nodes: 3, 2, 1, BlockSize);
        foreach (RecordingNode node in harness.Nodes)
        {
            node.FailDeletes = true;
        }

        byte[] objectHash = ObjectHash.Compute("bucket", "rejected");
        var target = new ExtentTarget(objectHash, Guid.NewGuid(), harness.Cluster.Ring.Place(objectHash, 3));
        byte[] body = new byte[(3 * BlockSize) + 7];
        new Random(5).NextBytes(body);
        UploadResult? seen = null;

        // Act
        InvalidDataException error = await Assert.ThrowsAsync<InvalidDataException>(
            () => harness.Uploads.RunAsync(new MemoryStream(body), target, checksum: null, verify: stored =>
            {
                seen = stored;
                throw new InvalidDataException("Content-MD5 mismatch (test)");
            }).WaitAsync(TimeSpan.FromSeconds(30)));

        // Assert: the check saw the whole body, and no node holds a committed shard of it
        Assert.Equal(expected: body.Length, actual: seen!.Size);
        Assert.Equal(expected: System.Security.Cryptography.MD5.HashData(body), actual: seen.Md5);
        Assert.Equal(expected: 0, actual: harness.Cluster.Buffers.Outstanding);
        foreach (RecordingNode node in harness.Nodes)
        {
            Assert.Empty(await node.ListAsync());
        }
    }

    [Fact]
    public async Task Run_Cancelled_StopsAndReturnsEverything()
    {
        await using var harness = new ClusterHarness(nodes: 3, 2, 1, BlockSize);
        using var cancel = new CancellationTokenSource();
        harness.Nodes[0].BeforeWrite = () =>
        {
            cancel.Cancel();
            return Task.CompletedTask;
        };
        byte[] objectHash = ObjectHash.Compute("bucket", "cancelled");
        var target = new ExtentTarget(objectHash, Guid.NewGuid(), harness.Cluster.Ring.Place(objectHash, 3));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => harness.Uploads.RunAsync(new MemoryStream(new byte[50 * BlockSize]), target, checksum: null, cancellationToken: cancel.Token).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(expected: 0, actual: harness.Cluster.Buffers.Outstanding);
        foreach (RecordingNode node in harness.Nodes)
        {
            Assert.Empty(await node.ListAsync());
        }
    }

    /// <summary>A body that delivers some bytes and then fails, as a reset connection does.</summary>
    private sealed class FailingStream(int bytesBeforeFailure) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= bytesBeforeFailure)
            {
                throw new IOException("client went away");
            }

            int count = Math.Min(buffer.Length, bytesBeforeFailure - _position);
            _position += count;
            return ValueTask.FromResult(count);
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
