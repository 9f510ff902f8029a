// Invariant 1: the shard key includes the shard index and the data id. Shards of one object that land on the
// same node, and a new version written next to the old one, never overwrite each other ("shard num mismatch").
namespace Predastore.Wal.Tests;

public sealed class ShardKeyIsolationTests
{
    [Fact]
    public async Task CommitAsync_KeysDifferingOnlyInShardIndexOrDataId_StayDistinct()
    {
        // Arrange: one object hash; shard indexes 0..2 of one data id, and shard 0 of a second data id
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, MaxRecordPayload = 4096 };
        var random = new Random(11);
        ShardKey shard0 = Keys.Random(random, 0);
        ShardKey[] keys =
        [
            shard0,
            Keys.WithIndex(shard0, 1),
            Keys.WithIndex(shard0, 2),
            Keys.WithDataId(shard0, Bytes.Random(random, ShardKey.DataIdSize)),
        ];
        byte[][] contents = [.. keys.Select(_ => Bytes.Random(random, 20_000))];

        // Act: interleave the appends of all four shards
        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            for (int offset = 0; offset < 20_000; offset += 5_000)
            {
                for (int i = 0; i < keys.Length; i++)
                {
                    await wal.AppendAsync(keys[i], offset, contents[i].AsMemory(offset, 5_000)).DefaultTimeout();
                }
            }

            for (int i = 0; i < keys.Length; i++)
            {
                await wal.CommitAsync(keys[i], contents[i].Length).DefaultTimeout();
            }

            // Assert
            Assert.Equal(expected: keys.Length, actual: wal.ListShards().Distinct().Count());
            for (int i = 0; i < keys.Length; i++)
            {
                Assert.Equal(expected: contents[i], actual: await wal.ReadAllAsync(keys[i]));
            }

            // Act: deleting one shard index leaves its siblings alone
            await wal.DeleteAsync(keys[1]).DefaultTimeout();
        }

        await using WriteAheadLog reopened = WriteAheadLog.Open(options);
        Assert.False(reopened.TryGetLength(keys[1], out _));
        foreach (int i in new[] { 0, 2, 3 })
        {
            Assert.Equal(expected: contents[i], actual: await reopened.ReadAllAsync(keys[i]));
        }
    }
}
