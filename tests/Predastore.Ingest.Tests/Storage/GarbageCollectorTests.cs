// Invariant: shards a committed manifest no longer references are reclaimed, except those a read in progress still
// holds a lease on, and a leased entry holds back nothing but itself.
using Microsoft.Extensions.Logging.Abstractions;
using Predastore.Ingest.Pipeline;
using Predastore.Ingest.Storage;
using Predastore.Ingest.Tests.Pipeline;
using Predastore.Metadata;

namespace Predastore.Ingest.Tests.Storage;

public sealed class GarbageCollectorTests
{
    [Fact]
    public async Task Reclaim_OldestEntryLeasedByARead_NewerEntriesStillReclaimed()
    {
        // Arrange: three deleted objects, so three garbage entries, the oldest still being read; one entry per batch
        await using var harness = new ClusterHarness(nodes: 3, 2, 1, 64 * 1024);
        string directory = Directory.CreateTempSubdirectory("predastore-gc-").FullName;
        try
        {
            using MetadataStore metadata = MetadataStore.Open(Path.Combine(directory, "metadata.db"));
            Assert.True(metadata.CreateBucket("bucket", DateTimeOffset.UtcNow));
            var manifests = new List<ObjectManifest>();
            for (int i = 0; i < 3; i++)
            {
                ObjectManifest manifest = await harness.PutAsync("bucket", $"k{i}", new byte[100_000]);
                Assert.True(metadata.PutObject(manifest));
                Assert.NotNull(metadata.DeleteObject("bucket", $"k{i}"));
                manifests.Add(manifest);
            }

            var leases = new ReadLeases();
            using ReadLeases.Lease reading = leases.Acquire(manifests[0].Extents);
            var collector = new GarbageCollector(metadata, harness.Uploads, leases, NullLogger.Instance, batchSize: 1);

            // Act
            await collector.ReclaimAsync();

            // Assert: only the leased entry and its three shards are left
            GarbageEntry left = Assert.Single(metadata.PendingGarbage(10));
            Assert.Equal(expected: manifests[0].Extents[0].DataId, actual: left.Extent.DataId);
            int shards = 0;
            foreach (RecordingNode node in harness.Nodes)
            {
                shards += (await node.ListAsync()).Count;
            }

            Assert.Equal(expected: 3, actual: shards);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
