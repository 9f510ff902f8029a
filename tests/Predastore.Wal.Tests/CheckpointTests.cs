// Open loads the index from the last checkpoint (written on clean close and every CheckpointInterval bytes) and
// replays only the records after it; a missing or damaged checkpoint is detected and the index rebuilt from every
// segment. Either way the same shards are readable with the same bytes.
namespace Predastore.Wal.Tests;

public sealed class CheckpointTests
{
    [Fact]
    public async Task Open_AfterCleanClose_LoadsCheckpointAndReplaysNothing()
    {
        // Arrange
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, SegmentSize = 1024 * 1024, CompactionInterval = TimeSpan.Zero };
        var random = new Random(71);
        Dictionary<ShardKey, byte[]> shards = await WriteShardsAsync(options, random, count: 12);
        var logger = new ListLogger();

        // Act
        await using WriteAheadLog reopened = WriteAheadLog.Open(options, logger);

        // Assert
        Assert.True(logger.HasEvent("CheckpointLoaded"));
        Assert.Contains(logger.Entries, e => e.EventId.Name == "WalOpened" && e.Message.Contains(" 0 records replayed", StringComparison.Ordinal));
        await AssertShardsAsync(reopened, shards);
    }

    [Fact]
    public async Task Open_CheckpointDamaged_RebuildsFromEverySegment()
    {
        // Arrange
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, SegmentSize = 1024 * 1024, CompactionInterval = TimeSpan.Zero };
        var random = new Random(72);
        Dictionary<ShardKey, byte[]> shards = await WriteShardsAsync(options, random, count: 12);
        RecoveryTests.FlipBit(directory.CheckpointFile, new FileInfo(directory.CheckpointFile).Length / 2);
        var logger = new ListLogger();

        // Act
        await using WriteAheadLog reopened = WriteAheadLog.Open(options, logger);

        // Assert
        Assert.Contains(logger.Entries, e => e.EventId.Name == "CheckpointUnusable" && e.Message.Contains("checksum", StringComparison.Ordinal));
        Assert.False(logger.HasEvent("CheckpointLoaded"));
        await AssertShardsAsync(reopened, shards);
    }

    [Fact]
    public async Task Open_CheckpointUnreadableOnceThenReadable_AcknowledgedWritesAfterThatOpenSurviveACrash()
    {
        // Arrange: compaction removed the newest records on disk (an abandoned upload's), so a full replay numbers
        // new records below the checkpoint's next sequence number
        using var directory = new TempDirectory();
        string live = Path.Combine(directory.Path, "live");
        string crashed = Path.Combine(directory.Path, "crashed");
        var options = new WalOptions { Directory = live, SegmentSize = 1024 * 1024, MaxRecordPayload = 16 * 1024, CompactionInterval = TimeSpan.Zero };
        var random = new Random(73);
        var kept = new List<ShardKey>();
        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            for (int i = 0; i < 10; i++)
            {
                ShardKey key = Keys.Random(random);
                await wal.WriteShardAsync(key, Bytes.Random(random, 100_000));
                if (i < 2)
                {
                    kept.Add(key);
                }
                else
                {
                    await wal.DeleteAsync(key).DefaultTimeout();
                }
            }

            ShardKey abandoned = Keys.Random(random);
            await wal.AppendAllAsync(abandoned, Bytes.Random(random, 900_000));
            wal.Abandon(abandoned);
            await wal.CompactAsync().DefaultTimeout();
            await wal.CompactAsync().DefaultTimeout();
        }

        ulong newestOnDisk = Directory.GetFiles(live, "*.seg").SelectMany(DiskRecord.ReadSegment).Max(r => r.Sequence);
        Assert.True(newestOnDisk + 1 < Checkpoint.TryLoad(live, out _)!.NextSequence, "the set-up did not leave the checkpoint ahead of the disk");

        // Act: one open cannot read the checkpoint (a passing I/O error, here stood in for by a damaged copy), and
        // acknowledges a new shard and a delete; then the process is killed
        string checkpoint = Checkpoint.PathIn(live);
        byte[] good = File.ReadAllBytes(checkpoint);
        RecoveryTests.FlipBit(checkpoint, good.Length / 2);
        ShardKey written = Keys.Random(random);
        byte[] data = Bytes.Random(random, 30_000);
        WriteAheadLog reopened = WriteAheadLog.Open(options);
        await reopened.WriteShardAsync(written, data);
        await reopened.DeleteAsync(kept[0]).DefaultTimeout();
        ReferenceModelPropertyTests.CrashCopy(live, crashed);
        await reopened.DisposeAsync();

        // Assert: the next open, reading whatever checkpoint is there (the good bytes, once the error has passed),
        // has both acknowledged writes
        if (File.Exists(Checkpoint.PathIn(crashed)))
        {
            File.WriteAllBytes(Checkpoint.PathIn(crashed), good);
        }

        await using WriteAheadLog again = WriteAheadLog.Open(new WalOptions { Directory = crashed, SegmentSize = options.SegmentSize, MaxRecordPayload = options.MaxRecordPayload, CompactionInterval = TimeSpan.Zero });
        Assert.Equal(expected: data, actual: await again.ReadAllAsync(written));
        Assert.False(again.TryGetLength(kept[0], out _), "an acknowledged delete was undone");
        Assert.True(again.TryGetLength(kept[1], out _));
    }

    [Fact]
    public async Task Open_CrashAfterPeriodicCheckpoint_ReplaysOnlyRecordsAfterIt()
    {
        // Arrange: checkpoints every 256 KiB; the directory is copied while the WAL runs (a crash at that instant)
        using var directory = new TempDirectory();
        string crashed = Path.Combine(directory.Path, "crashed");
        string live = Path.Combine(directory.Path, "live");
        var random = new Random(73);
        var shards = new Dictionary<ShardKey, byte[]>();
        ShardKey uncommitted = Keys.Random(random);
        WalOptions Options(string path) => new() { Directory = path, SegmentSize = 1024 * 1024, CheckpointInterval = 256 * 1024, CompactionInterval = TimeSpan.Zero };
        await using (WriteAheadLog wal = WriteAheadLog.Open(Options(live)))
        {
            for (int i = 0; i < 30; i++)
            {
                ShardKey key = Keys.Random(random);
                shards[key] = Bytes.Random(random, random.Next(1, 100_000));
                await wal.WriteShardAsync(key, shards[key]);
            }

            await wal.AppendAllAsync(uncommitted, Bytes.Random(random, 50_000));
            await Task.Delay(100); // let the last periodic checkpoint write finish (it runs off the writer thread)
            ReferenceModelPropertyTests.CrashCopy(live, crashed);
        }

        Assert.True(File.Exists(Path.Combine(crashed, "index.ckpt")));
        var logger = new ListLogger();

        // Act
        await using WriteAheadLog reopened = WriteAheadLog.Open(Options(crashed), logger);

        // Assert: far fewer records replayed than written (30 commits and ~170 data records of at most 10 000 bytes)
        Assert.True(logger.HasEvent("CheckpointLoaded"));
        string opened = logger.Entries.Single(e => e.EventId.Name == "WalOpened").Message;
        long replayed = long.Parse(opened.Split(" records replayed")[0].Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(replayed < 60, opened);
        await AssertShardsAsync(reopened, shards);
        Assert.False(reopened.TryGetLength(uncommitted, out _));
    }

    private static async Task<Dictionary<ShardKey, byte[]>> WriteShardsAsync(WalOptions options, Random random, int count)
    {
        var shards = new Dictionary<ShardKey, byte[]>();
        await using WriteAheadLog wal = WriteAheadLog.Open(options);
        for (int i = 0; i < count; i++)
        {
            ShardKey key = Keys.Random(random);
            shards[key] = Bytes.Random(random, random.Next(1, 200_000));
            await wal.WriteShardAsync(key, shards[key]);
        }

        ShardKey deleted = shards.Keys.First();
        await wal.DeleteAsync(deleted).DefaultTimeout();
        shards.Remove(deleted);
        return shards;
    }

    internal static async Task AssertShardsAsync(WriteAheadLog wal, Dictionary<ShardKey, byte[]> shards)
    {
        Assert.Equal(expected: shards.Keys.ToHashSet(), actual: wal.ListShards().ToHashSet());
        foreach ((ShardKey key, byte[] data) in shards)
        {
            Assert.Equal(expected: data, actual: await wal.ReadAllAsync(key));
        }
    }
}
