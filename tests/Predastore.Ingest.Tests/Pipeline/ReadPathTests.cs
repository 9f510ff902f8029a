// Invariant 6: every read request names the shard index of the cell it wants, and a range GET reads only the
// data cells (and only the bytes) the range covers: no parity, no reconstruction, on the happy path. When a shard
// read fails, just that block is rebuilt from the other shards.
using Predastore.Metadata;
using Predastore.Transport.Placement;

namespace Predastore.Ingest.Tests.Pipeline;

public sealed class ReadPathTests
{
    private const int BlockSize = 64 * 1024;

    [Theory]
    [InlineData(2, 1, 0, 1)]
    [InlineData(2, 1, (32 * 1024) - 1, 2)]
    [InlineData(2, 1, 100_000, 70_000)]
    [InlineData(3, 2, 21_845, 21_846)]
    [InlineData(4, 2, 5, (3 * BlockSize) + 10)]
    public async Task RangeRead_HappyPath_ReadsOnlyCoveredDataCellsByShardIndex(int k, int m, long start, long length)
    {
        // Arrange
        await using var harness = new ClusterHarness(nodes: 3, k, m, BlockSize);
        byte[] content = Random((5 * BlockSize) + 1234, seed: k * 10 + m);
        ObjectManifest manifest = await harness.PutAsync("bucket", "object", content);
        harness.ClearRecords();

        // Act
        byte[] read = await harness.GetAsync(manifest, start, length);

        // Assert
        Assert.True(content.AsSpan((int)start, (int)length).SequenceEqual(read));
        var expected = ExpectedReads(manifest, k, start, length).ToHashSet();
        var actual = harness.Nodes.SelectMany(n => n.Reads).ToList();
        Assert.Equal(expected: expected.Count, actual: actual.Count);
        byte[] objectHash = ObjectHash.Compute("bucket", "object");
        foreach (ShardRead shardRead in actual)
        {
            Assert.True(shardRead.Key.ShardIndex < k, $"parity shard {shardRead.Key.ShardIndex} was read on the happy path");
            Assert.Contains((shardRead.NodeId, (int)shardRead.Key.ShardIndex, shardRead.Offset, shardRead.Length), expected);
            Assert.Equal(expected: manifest.Extents[0].Placement[(int)shardRead.Key.ShardIndex], actual: shardRead.NodeId);
            var hash = new byte[32];
            shardRead.Key.WriteObjectHash(hash);
            Assert.Equal(expected: objectHash, actual: hash);
        }
    }

    [Fact]
    public async Task RangeRead_NodeDown_RebuildsFromRemainingShards()
    {
        await using var harness = new ClusterHarness(nodes: 3, 2, 1, BlockSize);
        byte[] content = Random((3 * BlockSize) + 99, seed: 5);
        ObjectManifest manifest = await harness.PutAsync("bucket", "degraded", content);
        int dataNode = manifest.Extents[0].Placement[0];
        harness.Nodes.Single(n => n.Id == dataNode).FailReads = true;

        byte[] whole = await harness.GetAsync(manifest, 0, content.Length);
        byte[] range = await harness.GetAsync(manifest, BlockSize - 7, 20);

        Assert.True(content.AsSpan().SequenceEqual(whole));
        Assert.True(content.AsSpan(BlockSize - 7, 20).SequenceEqual(range));
        Assert.Equal(expected: 0, actual: harness.Cluster.Buffers.Outstanding);
    }

    [Fact]
    public async Task RangeRead_TwoNodesDownWithOneParity_FailsAndReturnsBuffers()
    {
        await using var harness = new ClusterHarness(nodes: 3, 2, 1, BlockSize);
        ObjectManifest manifest = await harness.PutAsync("bucket", "lost", Random(3 * BlockSize, seed: 6));
        harness.Nodes[0].FailReads = true;
        harness.Nodes[1].FailReads = true;

        await Assert.ThrowsAsync<Transport.ShardException>(() => harness.GetAsync(manifest, 0, 3 * BlockSize));

        Assert.Equal(expected: 0, actual: harness.Cluster.Buffers.Outstanding);
    }

    [Fact]
    public async Task RangeRead_TwoReadAheadBlocksFailWithAnUnexpectedException_EveryBufferReturned()
    {
        // Arrange: two of the blocks read ahead fail with what is not a shard failure (an in-process WAL's
        // ArgumentOutOfRangeException), and the blocks behind them read fine
        await using var harness = new ClusterHarness(nodes: 3, 2, 1, BlockSize);
        ObjectManifest manifest = await harness.PutAsync("bucket", "odd", Random(8 * BlockSize, seed: 7));
        int cell = BlockSize / 2;
        foreach (RecordingNode node in harness.Nodes)
        {
            node.ReadFault = (key, offset) => key.ShardIndex == 0 && offset / cell is 1 or 2 ? new ArgumentOutOfRangeException(nameof(offset)) : null;
        }

        // Act
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => harness.GetAsync(manifest, 0, 8 * BlockSize));

        // Assert: the failure is reported, and no block read ahead kept its buffer
        Assert.Equal(expected: 0, actual: harness.Cluster.Buffers.Outstanding);
    }

    /// <summary>The reference model: which (node, shard index, shard offset, length) a range needs, cell by cell.</summary>
    private static IEnumerable<(int Node, int Shard, long Offset, int Length)> ExpectedReads(ObjectManifest manifest, int k, long start, long length)
    {
        long end = start + length;
        int fullCell = (BlockSize + k - 1) / k;
        for (long block = start / BlockSize; block * BlockSize < end; block++)
        {
            long blockStart = block * BlockSize;
            int blockLength = (int)Math.Min(BlockSize, manifest.Size - blockStart);
            int cell = (blockLength + k - 1) / k;
            for (int i = 0; i < k; i++)
            {
                long cellStart = blockStart + ((long)i * cell);
                long cellEnd = Math.Min(cellStart + cell, blockStart + blockLength);
                long from = Math.Max(start, cellStart);
                long to = Math.Min(end, cellEnd);
                if (from < to)
                {
                    yield return (manifest.Extents[0].Placement[i], i, (block * fullCell) + (from - cellStart), (int)(to - from));
                }
            }
        }
    }

    private static byte[] Random(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
