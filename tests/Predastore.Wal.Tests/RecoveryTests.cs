// Open rebuilds the index from the segments: a shard is readable after reopen only if its commit record was
// durable; uncommitted data is discarded and tombstoned shards stay gone. A torn or corrupt tail of the last
// segment is truncated (and logged) without touching what came before it, and the WAL accepts new writes.
namespace Predastore.Wal.Tests;

public sealed class RecoveryTests
{
    [Fact]
    public async Task Open_AfterReopen_CommittedReadableUncommittedDiscardedTombstonedGone()
    {
        // Arrange
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, MaxRecordPayload = 8192 };
        var random = new Random(21);
        (ShardKey committed, ShardKey uncommitted, ShardKey deleted, ShardKey recommitted) =
            (Keys.Random(random), Keys.Random(random), Keys.Random(random), Keys.Random(random));
        byte[] committedData = Bytes.Random(random, 50_000);
        byte[] firstVersion = Bytes.Random(random, 30_000);
        byte[] secondVersion = Bytes.Random(random, 20_000);
        var logger = new ListLogger();
        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            await wal.WriteShardAsync(committed, committedData);
            await wal.AppendAllAsync(uncommitted, Bytes.Random(random, 25_000));
            await wal.WriteShardAsync(deleted, Bytes.Random(random, 10_000));
            await wal.DeleteAsync(deleted).DefaultTimeout();
            await wal.WriteShardAsync(recommitted, firstVersion);
            await wal.WriteShardAsync(recommitted, secondVersion);
        }

        // Act
        await using WriteAheadLog reopened = WriteAheadLog.Open(options, logger);

        // Assert
        Assert.Equal(expected: committedData, actual: await reopened.ReadAllAsync(committed));
        Assert.Equal(expected: secondVersion, actual: await reopened.ReadAllAsync(recommitted));
        Assert.False(reopened.TryGetLength(uncommitted, out _));
        Assert.False(reopened.TryGetLength(deleted, out _));
        await Assert.ThrowsAsync<ShardNotFoundException>(() => reopened.ReadAsync(uncommitted, 0, new byte[10]).DefaultTimeout());
        await Assert.ThrowsAsync<ShardNotFoundException>(() => reopened.ReadAsync(deleted, 0, new byte[10]).DefaultTimeout());
        Assert.Equal(expected: new HashSet<ShardKey> { committed, recommitted }, actual: reopened.ListShards().ToHashSet());
        Assert.True(logger.HasEvent("UncommittedShardsDiscarded"));

        // The discarded data cannot be committed after the reopen either.
        await Assert.ThrowsAsync<InvalidOperationException>(() => reopened.CommitAsync(uncommitted, 25_000).DefaultTimeout());
    }

    [Fact]
    public async Task Open_LastSegmentTruncatedMidRecord_DropsThatRecordOnlyAndAcceptsNewWrites()
    {
        // Arrange: a committed shard, then an append whose record is torn by a crash
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, MaxRecordPayload = 8192 };
        var random = new Random(22);
        ShardKey kept = Keys.Random(random);
        ShardKey torn = Keys.Random(random);
        byte[] keptData = Bytes.Random(random, 40_000);
        long goodLength;
        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            await wal.WriteShardAsync(kept, keptData);
            goodLength = DiskRecord.UsedLength(directory.SegmentFiles()[^1]);
            await wal.AppendAsync(torn, 0, Bytes.Random(random, 5_000)).DefaultTimeout();
        }

        directory.RemoveCheckpoint();
        string segment = directory.SegmentFiles()[^1];
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite))
        {
            file.SetLength(goodLength + DiskRecord.HeaderSize + 1_000);
        }

        var logger = new ListLogger();

        // Act
        await using (WriteAheadLog reopened = WriteAheadLog.Open(options, logger))
        {
            // Assert
            Assert.Equal(expected: goodLength, actual: DiskRecord.UsedLength(segment));
            Assert.True(logger.HasEvent("TornTailTruncated"));
            Assert.Equal(expected: keptData, actual: await reopened.ReadAllAsync(kept));
            Assert.False(reopened.TryGetLength(torn, out _));

            byte[] retried = Bytes.Random(random, 5_000);
            await reopened.WriteShardAsync(torn, retried);
            Assert.Equal(expected: retried, actual: await reopened.ReadAllAsync(torn));
        }

        await using WriteAheadLog again = WriteAheadLog.Open(options);
        Assert.Equal(expected: keptData, actual: await again.ReadAllAsync(kept));
        Assert.Equal(expected: 5_000, actual: (await again.ReadAllAsync(torn)).Length);
    }

    [Fact]
    public async Task Open_BitFlipInLastRecord_DropsThatRecordOnlyAndAcceptsNewWrites()
    {
        // Arrange: two committed shards; the last record on disk is the second one's commit, and a bit of it rots
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, MaxRecordPayload = 8192 };
        var random = new Random(23);
        ShardKey kept = Keys.Random(random);
        ShardKey lost = Keys.Random(random);
        byte[] keptData = Bytes.Random(random, 30_000);
        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            await wal.WriteShardAsync(kept, keptData);
            await wal.WriteShardAsync(lost, Bytes.Random(random, 12_000));
        }

        directory.RemoveCheckpoint();
        string segment = directory.SegmentFiles()[^1];
        long length = DiskRecord.UsedLength(segment);
        FlipBit(segment, length - DiskRecord.HeaderSize + 80); // the shard length field of the commit record
        var logger = new ListLogger();

        // Act
        await using (WriteAheadLog reopened = WriteAheadLog.Open(options, logger))
        {
            // Assert: only the commit record went; its shard's data is now uncommitted and discarded
            Assert.Equal(expected: length - DiskRecord.HeaderSize, actual: DiskRecord.UsedLength(segment));
            Assert.Contains(logger.Entries, e => e.EventId.Name == "TornTailTruncated" && e.Message.Contains("ChecksumMismatch", StringComparison.Ordinal));
            Assert.Equal(expected: keptData, actual: await reopened.ReadAllAsync(kept));
            Assert.False(reopened.TryGetLength(lost, out _));

            byte[] newData = Bytes.Random(random, 9_000);
            await reopened.WriteShardAsync(lost, newData);
            Assert.Equal(expected: newData, actual: await reopened.ReadAllAsync(lost));
        }

        await using WriteAheadLog again = WriteAheadLog.Open(options);
        Assert.Equal(expected: keptData, actual: await again.ReadAllAsync(kept));
        Assert.Equal(expected: 9_000, actual: (await again.ReadAllAsync(lost)).Length);
    }

    [Fact]
    public async Task Open_WholeRecordBeyondTornOne_IsNotReplayedAndTailReadsAsZeros()
    {
        // Arrange: a crash persisted a later record of the last batch (B's commit) but not an earlier one (B's first
        // data record's header): the commit is whole and checksummed, yet was never acknowledged
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, SegmentSize = 1024 * 1024, MaxRecordPayload = 8192, CompactionInterval = TimeSpan.Zero };
        var random = new Random(26);
        ShardKey kept = Keys.Random(random);
        ShardKey torn = Keys.Random(random);
        byte[] keptData = Bytes.Random(random, 20_000);
        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            await wal.WriteShardAsync(kept, keptData);
            await wal.WriteShardAsync(torn, Bytes.Random(random, 20_000));
        }

        directory.RemoveCheckpoint();
        string segment = directory.SegmentFiles()[^1];
        long firstOfTorn = DiskRecord.ReadSegment(segment).First(r => r.Key == torn).Offset;
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = firstOfTorn;
            file.Write(new byte[DiskRecord.HeaderSize]);
        }

        var logger = new ListLogger();

        // Act
        await using (WriteAheadLog reopened = WriteAheadLog.Open(options, logger))
        {
            // Assert: the torn shard is gone, the cut is logged, and nothing but zeros follows the last good record
            Assert.True(logger.HasEvent("TornTailTruncated"));
            Assert.False(reopened.TryGetLength(torn, out _));
            Assert.Equal(expected: keptData, actual: await reopened.ReadAllAsync(kept));
            Assert.Equal(expected: firstOfTorn, actual: DiskRecord.UsedLength(segment));
            await reopened.WriteShardAsync(Keys.Random(random), Bytes.Random(random, 5_000));
        }

        // Assert: a later crash cannot bring the stale commit back either
        directory.RemoveCheckpoint();
        await using WriteAheadLog again = WriteAheadLog.Open(options);
        Assert.False(again.TryGetLength(torn, out _));
        Assert.Equal(expected: keptData, actual: await again.ReadAllAsync(kept));
    }

    [Fact]
    public async Task Open_CorruptRecordInEarlierSegment_SkipsRestOfThatSegmentAndDropsOnlyShardsItHeld()
    {
        // Arrange: shard A wholly in segment 1, shard B starting in segment 1 and ending in 2, shard C in 2
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, SegmentSize = 256 * 1024, MaxRecordPayload = 16 * 1024 };
        var random = new Random(24);
        (ShardKey a, ShardKey b, ShardKey c) = (Keys.Random(random), Keys.Random(random), Keys.Random(random));
        byte[] aData = Bytes.Random(random, 100_000);
        byte[] cData = Bytes.Random(random, 50_000);
        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            await wal.WriteShardAsync(a, aData);
            await wal.WriteShardAsync(b, Bytes.Random(random, 200_000));
            await wal.WriteShardAsync(c, cData);
        }

        directory.RemoveCheckpoint();
        string[] segments = directory.SegmentFiles();
        Assert.Equal(expected: 2, actual: segments.Length);
        DiskRecord firstOfB = DiskRecord.ReadSegment(segments[0]).First(r => r.Key == b);
        FlipBit(segments[0], firstOfB.Offset + DiskRecord.HeaderSize + 5);
        long segmentLength = DiskRecord.UsedLength(segments[0]);
        var logger = new ListLogger();

        // Act
        await using WriteAheadLog reopened = WriteAheadLog.Open(options, logger);

        // Assert: segment 1 is left as it was; A and C are intact; B lost data and is not served
        Assert.Equal(expected: segmentLength, actual: DiskRecord.UsedLength(segments[0]));
        Assert.True(logger.HasEvent("SegmentRestSkipped"));
        Assert.True(logger.HasEvent("RecoveredCommitNotCovered"));
        Assert.Equal(expected: aData, actual: await reopened.ReadAllAsync(a));
        Assert.Equal(expected: cData, actual: await reopened.ReadAllAsync(c));
        Assert.False(reopened.TryGetLength(b, out _));
    }

    [Fact]
    public async Task DisposeAsync_WithWritesQueued_DrainsAndSyncsThem()
    {
        // Arrange
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, MaxRecordPayload = 4096 };
        var random = new Random(25);
        ShardKey key = Keys.Random(random);
        byte[] data = Bytes.Random(random, 100_000);
        WriteAheadLog wal = WriteAheadLog.Open(options);

        // Act: queue everything without waiting, then dispose
        var writes = new List<Task>();
        for (int offset = 0; offset < data.Length; offset += 10_000)
        {
            writes.Add(wal.AppendAsync(key, offset, data.AsMemory(offset, 10_000)).AsTask());
        }

        writes.Add(wal.CommitAsync(key, data.Length).AsTask());
        await wal.DisposeAsync().DefaultTimeout();

        // Assert
        await Task.WhenAll(writes).DefaultTimeout();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => wal.AppendAsync(key, 0, data).DefaultTimeout());
        await using WriteAheadLog reopened = WriteAheadLog.Open(options);
        Assert.Equal(expected: data, actual: await reopened.ReadAllAsync(key));
    }

    [Fact]
    public async Task Open_DirectoryAlreadyOpen_ThrowsUntilFirstIsDisposed()
    {
        // Arrange
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path };
        WriteAheadLog first = WriteAheadLog.Open(options);

        // Act + Assert: one exclusive writer per WAL
        Assert.Throws<WalException>(() => WriteAheadLog.Open(options));
        await first.DisposeAsync().DefaultTimeout();
        await using WriteAheadLog second = WriteAheadLog.Open(options);
        Assert.Empty(second.ListShards());
    }

    internal static void FlipBit(string path, long offset)
    {
        // FileShare.ReadWrite: the WAL may have the segment open (bit rot under a running node).
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        file.Position = offset;
        int value = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(value ^ 0x10));
    }
}
