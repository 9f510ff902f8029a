// Deletes write tombstones; compaction copies the live records of mostly-dead sealed segments to the tail,
// repoints the index, checkpoints, and deletes the segment, giving the space back, while reads and writes go on.
// Nothing live is lost, and nothing deleted comes back: not after a reopen from the checkpoint, and not after a
// full rebuild without one (tombstones are kept while older records of their shard may exist elsewhere).
namespace Predastore.Wal.Tests;

public sealed class CompactionTests
{
    private const long SegmentSize = 1024 * 1024;

    [Fact]
    public async Task CompactAsync_MostlyDeletedSegments_GivesSpaceBackAndKeepsLiveShards()
    {
        // Arrange: ~4.5 MiB of shards over 5+ segments, then 80% of them deleted
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, SegmentSize = SegmentSize, CompactionInterval = TimeSpan.Zero };
        var random = new Random(81);
        var live = new Dictionary<ShardKey, byte[]>();
        var deleted = new List<ShardKey>();
        long before;
        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            for (int i = 0; i < 45; i++)
            {
                ShardKey key = Keys.Random(random);
                byte[] data = Bytes.Random(random, 100_000);
                await wal.WriteShardAsync(key, data);
                live[key] = data;
            }

            foreach (ShardKey key in live.Keys.Where((_, i) => i % 5 != 0).ToList())
            {
                await wal.DeleteAsync(key).DefaultTimeout();
                live.Remove(key);
                deleted.Add(key);
            }

            before = DiskBytes(directory);
            int segmentsBefore = directory.SegmentFiles().Length;

            // Act
            int compacted = await wal.CompactAsync().DefaultTimeout();

            // Assert: segments went, the space with them, and every live shard reads the same
            Assert.True(compacted >= 3, $"{compacted} segments compacted");
            // (The copies may have opened one new segment at the tail.)
            Assert.True(directory.SegmentFiles().Length <= segmentsBefore - compacted + 1);
            Assert.True(DiskBytes(directory) < before / 2, $"{before} → {DiskBytes(directory)} bytes on disk");
            await CheckpointTests.AssertShardsAsync(wal, live);
            Assert.Equal(expected: 0, actual: wal.CorruptionsDetected);
        }

        // Assert: the same after a reopen from the checkpoint, and after a full rebuild
        await using (WriteAheadLog reopened = WriteAheadLog.Open(options))
        {
            await CheckpointTests.AssertShardsAsync(reopened, live);
        }

        directory.RemoveCheckpoint();
        var logger = new ListLogger();
        await using WriteAheadLog rebuilt = WriteAheadLog.Open(options, logger);
        Assert.True(logger.HasEvent("CheckpointUnusable"));
        await CheckpointTests.AssertShardsAsync(rebuilt, live);
        Assert.All(deleted, key => Assert.False(rebuilt.TryGetLength(key, out _)));
    }

    [Fact]
    public async Task CompactAsync_WhileUploadsAndReadsContinue_EveryReadCorrectAndNothingLost()
    {
        // Arrange: a background compactor every 10 ms, 4 uploaders that delete two of every three shards they
        // write, and 2 readers reading random ranges of random live shards
        using var directory = new TempDirectory();
        var options = new WalOptions
        {
            Directory = directory.Path,
            SegmentSize = 128 * 1024,
            MaxRecordPayload = 16 * 1024,
            CompactionInterval = TimeSpan.FromMilliseconds(10),
        };
        var live = new System.Collections.Concurrent.ConcurrentDictionary<ShardKey, byte[]>();
        var logger = new ListLogger();
        // Runs for at least a second and until the compactor has deleted three segments (bounded at 15 s).
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await using (WriteAheadLog wal = WriteAheadLog.Open(options, logger))
        {
            // Act
            Task[] uploaders = [.. Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                var random = new Random(w);
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    ShardKey key = Keys.Random(random);
                    byte[] data = Bytes.Random(random, random.Next(1, 60_000));
                    await wal.WriteShardAsync(key, data, chunk: 20_000);
                    if (i % 3 == 0)
                    {
                        live[key] = data;
                    }
                    else
                    {
                        await wal.DeleteAsync(key).DefaultTimeout();
                    }
                }
            }))];
            Task[] readers = [.. Enumerable.Range(0, 2).Select(r => Task.Run(async () =>
            {
                var random = new Random(100 + r);
                while (!stop.IsCancellationRequested)
                {
                    KeyValuePair<ShardKey, byte[]>[] snapshot = live.ToArray(); // atomic, unlike a collection expression
                    if (snapshot.Length == 0)
                    {
                        await Task.Yield();
                        continue;
                    }

                    (ShardKey key, byte[] data) = snapshot[random.Next(snapshot.Length)];
                    int offset = random.Next(data.Length);
                    byte[] buffer = new byte[random.Next(1, 50_000)];
                    int read = await wal.ReadAsync(key, offset, buffer).DefaultTimeout();
                    Assert.Equal(expected: Math.Min(buffer.Length, data.Length - offset), actual: read);
                    Assert.True(buffer.AsSpan(0, read).SequenceEqual(data.AsSpan(offset, read)), "a read during compaction returned wrong bytes");
                }
            }))];
            Task watcher = Task.Run(async () =>
            {
                await Task.Delay(1000);
                while (logger.Entries.Count(e => e.EventId.Name == "SegmentCompacted") < 3 && !stop.IsCancellationRequested)
                {
                    await Task.Delay(20);
                }

                await stop.CancelAsync();
            });
            await Task.WhenAll([.. uploaders, .. readers, watcher]).DefaultTimeout();

            // Assert
            Assert.True(
                logger.HasEvent("SegmentCompacted"),
                $"the background compactor never compacted a segment; {live.Count} live shards, segments {string.Join(", ", directory.SegmentFiles().Select(Path.GetFileName))}; {string.Join(" | ", logger.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Information).Select(e => e.Message).Take(10))}");
            Assert.False(logger.HasEvent("CompactionFailed"), string.Join(" | ", logger.Entries.Where(e => e.EventId.Name == "CompactionFailed").Select(e => e.Message)));
            Assert.Equal(expected: 0, actual: wal.CorruptionsDetected);
            await CheckpointTests.AssertShardsAsync(wal, new Dictionary<ShardKey, byte[]>(live));
        }

        await using WriteAheadLog reopened = WriteAheadLog.Open(new WalOptions { Directory = directory.Path, SegmentSize = 128 * 1024, MaxRecordPayload = 16 * 1024, CompactionInterval = TimeSpan.Zero });
        await CheckpointTests.AssertShardsAsync(reopened, new Dictionary<ShardKey, byte[]>(live));
    }

    [Fact]
    public async Task CompactAsync_WhileACommitIsBeingSynced_KeepsTheSegmentThatHoldsItsData()
    {
        // Arrange: shard A's data fills segment 1 (no chunk of B fits after it); B's data rolls the tail to
        // segment 2, sealing 1. A's commit is then held inside its fdatasync: staged, no longer pending, not yet
        // in the index.
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, SegmentSize = 128 * 1024, MaxRecordPayload = 16 * 1024, CompactionInterval = TimeSpan.Zero };
        var random = new Random(83);
        ShardKey a = Keys.Random(random);
        ShardKey b = Keys.Random(random);
        byte[] dataA = Bytes.Random(random, 120_000);
        byte[] dataB = Bytes.Random(random, 100_000);
        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            await wal.AppendAllAsync(a, dataA, chunk: 16_000);
            await wal.AppendAllAsync(b, dataB, chunk: 16_000);
            Assert.Equal(expected: 2, actual: directory.SegmentFiles().Length);
            using var inSync = new ManualResetEventSlim();
            using var release = new ManualResetEventSlim();
            wal.FaultInjector = point =>
            {
                if (point == WalFaultPoint.Sync)
                {
                    inSync.Set();
                    release.Wait(TestTimeouts.Default);
                }
            };
            Task commit = wal.CommitAsync(a, dataA.Length).AsTask();
            Assert.True(inSync.Wait(TestTimeouts.Default));

            // Act: compaction picks its victims while the commit is in flight, then finishes after it
            Task<int> compaction = wal.CompactAsync();
            wal.FaultInjector = null;
            release.Set();
            await commit.DefaultTimeout();
            int compacted = await compaction.DefaultTimeout();

            // Assert: segment 1 was in use, so it stays (a compaction that deleted it would have thrown above: the
            // commit would have published an index entry pointing into it), and A reads back whole
            Assert.Equal(expected: 0, actual: compacted);
            Assert.Equal(expected: dataA, actual: await wal.ReadAllAsync(a));
        }

        // Assert: and after a reopen
        await using WriteAheadLog reopened = WriteAheadLog.Open(options);
        Assert.Equal(expected: dataA, actual: await reopened.ReadAllAsync(a));
    }

    [Fact]
    public async Task CompactAsync_WhileADeleteIsBeingSynced_KeepsItsTombstoneSoAFullReplayDoesNotReviveTheShard()
    {
        // Arrange: segment 1 holds J (deleted, dead) and K (live), with ~17 KB of room left. Then one batch holds
        // K's delete and an append that does not fit, so K's tombstone lands in segment 1 and the append rolls to
        // segment 2, sealing 1; the batch is held inside its last fdatasync, K still in the index.
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, SegmentSize = 128 * 1024, CompactionInterval = TimeSpan.Zero };
        var random = new Random(91);
        ShardKey j = Keys.Random(random);
        ShardKey k = Keys.Random(random);
        ShardKey z = Keys.Random(random);
        ShardKey l = Keys.Random(random);
        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            await wal.WriteShardAsync(j, Bytes.Random(random, 110_000));
            await wal.DeleteAsync(j).DefaultTimeout();
            await wal.WriteShardAsync(k, Bytes.Random(random, 2_000));
            using var writerHeld = new ManualResetEventSlim();
            using var releaseWriter = new ManualResetEventSlim();
            using var inSync = new ManualResetEventSlim();
            using var releaseSync = new ManualResetEventSlim();
            int phase = 0;
            wal.FaultInjector = point =>
            {
                if (point == WalFaultPoint.Write && phase == 0)
                {
                    // Held here, the writer takes the next two requests as one batch.
                    phase = 1;
                    writerHeld.Set();
                    releaseWriter.Wait(TestTimeouts.Default);
                }
                else if (point == WalFaultPoint.Sync && phase == 1 && directory.SegmentFiles().Length == 2)
                {
                    phase = 2;
                    inSync.Set();
                    releaseSync.Wait(TestTimeouts.Default);
                }
            };
            Task hold = wal.DeleteAsync(z).AsTask();
            Assert.True(writerHeld.Wait(TestTimeouts.Default));
            Task delete = wal.DeleteAsync(k).AsTask();
            Task append = wal.AppendAsync(l, 0, Bytes.Random(random, 30_000)).AsTask();
            releaseWriter.Set();
            Assert.True(inSync.Wait(TestTimeouts.Default));

            // Act: compaction reads the index and decides about segment 1's tombstones on this thread, before its
            // first await; it finishes after the delete is published
            Task<int> compaction = wal.CompactAsync();
            wal.FaultInjector = null;
            releaseSync.Set();
            await Task.WhenAll(hold, delete, append).DefaultTimeout();
            Assert.Equal(expected: 1, actual: await compaction.DefaultTimeout());
            Assert.False(wal.TryGetLength(k, out _));
        }

        // Assert: K stays deleted after a reopen from the checkpoint, and after a full replay without it
        await using (WriteAheadLog reopened = WriteAheadLog.Open(options))
        {
            Assert.False(reopened.TryGetLength(k, out _), "revived by a reopen from the checkpoint");
        }

        directory.RemoveCheckpoint();
        await using WriteAheadLog rebuilt = WriteAheadLog.Open(options);
        Assert.False(rebuilt.TryGetLength(k, out _), "revived by a full replay: its tombstone was dropped while copies older than it were made");
    }

    [Fact]
    public async Task CompactAsync_RecordSplitByALaterOverwrite_IsCountedLiveOnceAndCopiedOnce()
    {
        // Arrange: segment 1 holds D (deleted) and S, whose first record is overwritten in its middle before the
        // commit, so the record backs two extents of S with the overwrite's between them; E rolls to segment 2
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, SegmentSize = 128 * 1024, CompactionInterval = TimeSpan.Zero };
        var random = new Random(92);
        ShardKey d = Keys.Random(random);
        ShardKey s = Keys.Random(random);
        byte[] data = Bytes.Random(random, 30_000);
        byte[] patch = Bytes.Random(random, 5_000);
        var logger = new ListLogger();
        await using (WriteAheadLog wal = WriteAheadLog.Open(options, logger))
        {
            await wal.WriteShardAsync(d, Bytes.Random(random, 90_000), chunk: 45_000);
            await wal.DeleteAsync(d).DefaultTimeout();
            await wal.AppendAsync(s, 0, data).DefaultTimeout();
            await wal.AppendAsync(s, 10_000, patch).DefaultTimeout();
            await wal.CommitAsync(s, data.Length).DefaultTimeout();
            await wal.WriteShardAsync(Keys.Random(random), Bytes.Random(random, 10_000));
            Assert.Equal(expected: 2, actual: directory.SegmentFiles().Length);

            // Act
            int compacted = await wal.CompactAsync().DefaultTimeout();

            // Assert: counted once, S's records leave the segment under the live threshold (counted twice, over);
            // its two data records and its commit are each copied once; S reads back patched
            Assert.Equal(expected: 1, actual: compacted);
            string message = logger.Entries.Single(e => e.EventId.Name == "SegmentCompacted").Message;
            Assert.Contains("copied 3 live records", message);
            patch.CopyTo(data, 10_000);
            Assert.Equal(expected: data, actual: await wal.ReadAllAsync(s));
        }

        await using WriteAheadLog reopened = WriteAheadLog.Open(options);
        Assert.Equal(expected: data, actual: await reopened.ReadAllAsync(s));
    }

    /// <summary>Bytes the segments and the checkpoint hold on disk (segments are preallocated whole).</summary>
    private static long DiskBytes(TempDirectory directory) =>
        Directory.GetFiles(directory.Path).Sum(f => new FileInfo(f).Length);
}
