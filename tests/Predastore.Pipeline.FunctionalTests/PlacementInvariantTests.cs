// Invariants 1, 2 and 8: shards are stored under object hash (SHA-256 of bucket/key) ‖ data id ‖ shard index on
// the nodes the manifest records, so several shards of one object can share a node (2 nodes, RS(2,1)) without
// overwriting each other, and every path finds them with the one hash.
using System.Security.Cryptography;
using System.Text;
using Amazon.S3.Model;
using Predastore.Metadata;
using Predastore.Transport;
using Predastore.Wal;

namespace Predastore.Pipeline.FunctionalTests;

public sealed class PlacementInvariantTests
{
    private const int MiB = 1024 * 1024;

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task PutGet_FewNodes_EveryShardUnderItsOwnKeyOnItsRecordedNode(int nodes)
    {
        // Arrange
        await using TestServer server = await TestServer.StartAsync(nodes);
        await server.Client.PutBucketAsync("few-nodes");
        var contents = new Dictionary<string, byte[]>();
        for (int i = 0; i < 6; i++)
        {
            contents[$"dir{i}/image-{i}.img"] = TestData.Random((i * 700_001) + 1, i);
        }

        // Act
        foreach ((string key, byte[] content) in contents)
        {
            await server.Client.PutObjectAsync(new PutObjectRequest { BucketName = "few-nodes", Key = key, InputStream = new MemoryStream(content) });
        }

        // Assert: round trip, and each shard i is found under SHA-256(bucket/key) ‖ data id ‖ i on placement[i].
        foreach ((string key, byte[] content) in contents)
        {
            using GetObjectResponse get = await server.Client.GetObjectAsync("few-nodes", key);
            Assert.True(TestData.Same(content.AsMemory(), await TestData.ReadAllAsync(get.ResponseStream)), $"{key} differs");

            ObjectManifest manifest = server.Server.Metadata.GetObject("few-nodes", key)!;
            Extent extent = Assert.Single(manifest.Extents);
            byte[] objectHash = SHA256.HashData(Encoding.UTF8.GetBytes("few-nodes/" + key));
            byte[] dataId = extent.DataId.ToByteArray(bigEndian: true);
            Assert.Equal(expected: 3, actual: extent.Placement.Count);
            if (nodes == 2)
            {
                Assert.Equal(expected: 2, actual: extent.Placement.Distinct().Count());
            }

            for (int shard = 0; shard < extent.Placement.Count; shard++)
            {
                var shardKey = new ShardKey(objectHash, dataId, (uint)shard);
                IShardNode holder = server.Server.Cluster.Nodes[extent.Placement[shard]];
                Assert.NotNull(await holder.StatAsync(shardKey));
            }
        }

        // Every node holds exactly the shards the manifests place on it: no shard overwrote another.
        int placedShards = contents.Count * 3;
        int storedShards = 0;
        foreach (IShardNode node in server.Server.Cluster.Nodes.Values)
        {
            IReadOnlyList<ShardKey> held = await node.ListAsync();
            Assert.Equal(expected: held.Count, actual: held.Distinct().Count());
            storedShards += held.Count;
        }

        Assert.Equal(expected: placedShards, actual: storedShards);
    }
}
