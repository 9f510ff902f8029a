// Invariant 5: one exclusive writer per WAL. However many uploads append at once, every record is written whole
// (header and payload back to back, checksummed) and records never interleave, so each shard reads back exactly
// as uploaded, before and after a reopen.
using System.Collections.Concurrent;

namespace Predastore.Wal.Tests;

public sealed class ConcurrentWriterTests
{
    private const int Uploads = 32;
    private const int ShardsPerUpload = 3;

    [Fact]
    public async Task AppendAsync_ManyConcurrentUploads_EveryShardIdenticalAndRecordsNeverInterleave()
    {
        // Arrange
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, SegmentSize = 2 * 1024 * 1024, MaxRecordPayload = 16 * 1024 };
        var reference = new ConcurrentDictionary<ShardKey, byte[]>();

        // Act
        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            Task[] uploads = [.. Enumerable.Range(0, Uploads).Select(seed => Task.Run(() => UploadAsync(wal, seed, reference)))];
            await Task.WhenAll(uploads).DefaultTimeout();

            // Assert: read back while open
            Assert.Equal(expected: Uploads * ShardsPerUpload, actual: wal.ListShards().Count);
            foreach ((ShardKey key, byte[] data) in reference)
            {
                Assert.Equal(expected: data, actual: await wal.ReadAllAsync(key));
            }
        }

        // Assert: read back after reopen
        await using (WriteAheadLog reopened = WriteAheadLog.Open(options))
        {
            Assert.Equal(expected: Uploads * ShardsPerUpload, actual: reopened.ListShards().Count);
            foreach ((ShardKey key, byte[] data) in reference)
            {
                Assert.Equal(expected: data, actual: await reopened.ReadAllAsync(key));
            }
        }

        // Assert: on disk, every segment is a gap-free run of whole, checksummed records, each payload exactly the
        // uploaded bytes at its offset. A header written apart from its payload, or two writers sharing an offset,
        // breaks the decoding, a checksum or a payload comparison.
        string[] segments = directory.SegmentFiles();
        Assert.True(segments.Length > 1, "the test should roll segments while uploads run");
        var dataBytes = new Dictionary<ShardKey, long>();
        var commits = new Dictionary<ShardKey, int>();
        ulong previousSequence = 0;
        bool first = true;
        foreach (string segment in segments)
        {
            Assert.True(DiskRecord.UsedLength(segment) <= options.SegmentSize);
            foreach (DiskRecord record in DiskRecord.ReadSegment(segment))
            {
                Assert.True(record.ChecksumOk, $"{record.Segment} at {record.Offset}: checksum mismatch");
                Assert.True(first || record.Sequence > previousSequence, "sequence numbers grow in file order");
                first = false;
                previousSequence = record.Sequence;
                byte[] data = reference[record.Key];
                if (record.Type == 1)
                {
                    Assert.True(record.Payload.AsSpan().SequenceEqual(data.AsSpan((int)record.Value, record.Payload.Length)),
                        $"{record.Segment} at {record.Offset}: payload differs from shard {record.Key} at {record.Value}");
                    dataBytes[record.Key] = dataBytes.GetValueOrDefault(record.Key) + record.Payload.Length;
                }
                else
                {
                    Assert.Equal(expected: 2, actual: record.Type);
                    Assert.Equal(expected: data.Length, actual: record.Value);
                    commits[record.Key] = commits.GetValueOrDefault(record.Key) + 1;
                }
            }
        }

        foreach ((ShardKey key, byte[] data) in reference)
        {
            Assert.Equal(expected: data.Length, actual: dataBytes[key]);
            Assert.Equal(expected: 1, actual: commits[key]);
        }
    }

    [Fact]
    public async Task AppendAsync_ConcurrentAppendsToOneShardAtDisjointOffsets_ShardAssemblesInOrder()
    {
        // Arrange
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, MaxRecordPayload = 4096 };
        var random = new Random(7);
        ShardKey key = Keys.Random(random);
        byte[] data = Bytes.Random(random, 16 * 10_000);
        await using WriteAheadLog wal = WriteAheadLog.Open(options);

        // Act: 16 writers, each owning one 10 000-byte cell, in reverse order of offset
        Task[] writers = [.. Enumerable.Range(0, 16).Reverse().Select(cell => Task.Run(async () =>
            await wal.AppendAsync(key, cell * 10_000L, data.AsMemory(cell * 10_000, 10_000)).DefaultTimeout()))];
        await Task.WhenAll(writers).DefaultTimeout();
        await wal.CommitAsync(key, data.Length).DefaultTimeout();

        // Assert
        Assert.Equal(expected: data, actual: await wal.ReadAllAsync(key));
    }

    [Fact]
    public async Task AppendAsync_RequestsQueuedDuringSync_ShareOneWriteAndOneSyncAndWaitForIt()
    {
        // Arrange: hold the writer inside its first fdatasync while 63 more appends queue up
        using var directory = new TempDirectory();
        await using WriteAheadLog wal = WriteAheadLog.Open(new WalOptions { Directory = directory.Path });
        var random = new Random(8);
        ShardKey[] keys = [.. Enumerable.Range(0, 64).Select(_ => Keys.Random(random))];
        byte[] payload = Bytes.Random(random, 1000);
        using var inFirstSync = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int writes = 0;
        int syncs = 0;
        wal.FaultInjector = point =>
        {
            if (point == WalFaultPoint.Write)
            {
                Interlocked.Increment(ref writes);
            }
            else if (Interlocked.Increment(ref syncs) == 1)
            {
                inFirstSync.Set();
                release.Wait(TestTimeouts.Default);
            }
        };

        // Act
        Task first = wal.AppendAsync(keys[0], 0, payload).AsTask();
        Assert.True(inFirstSync.Wait(TestTimeouts.Default));
        Task[] rest = [.. keys.Skip(1).Select(key => wal.AppendAsync(key, 0, payload).AsTask())];

        // Assert: nothing is acknowledged before its sync has returned
        await Task.Delay(50);
        Assert.False(first.IsCompleted);
        Assert.DoesNotContain(rest, task => task.IsCompleted);
        release.Set();
        await Task.WhenAll(rest.Prepend(first)).DefaultTimeout();

        // Assert: group commit; the 63 queued appends went out in one gather write covered by one fdatasync
        Assert.Equal(expected: 2, actual: writes);
        Assert.Equal(expected: 2, actual: syncs);
    }

    private static async Task UploadAsync(WriteAheadLog wal, int seed, ConcurrentDictionary<ShardKey, byte[]> reference)
    {
        var random = new Random(seed);
        ShardKey baseKey = Keys.Random(random);
        var shards = new (ShardKey Key, byte[] Data, int Next)[ShardsPerUpload];
        for (int i = 0; i < shards.Length; i++)
        {
            // Shards of one stripe share object hash and data id, as they do when they land on one node.
            shards[i] = (Keys.WithIndex(baseKey, (uint)i), Bytes.Random(random, random.Next(1, 150_000)), 0);
            Assert.True(reference.TryAdd(shards[i].Key, shards[i].Data));
        }

        // Several appends in flight per upload, over its shards in random order, in chunks of random size.
        var inFlight = new List<Task>();
        while (shards.Any(s => s.Next < s.Data.Length))
        {
            int pick = random.Next(shards.Length);
            if (shards[pick].Next == shards[pick].Data.Length)
            {
                continue;
            }

            (ShardKey key, byte[] data, int next) = shards[pick];
            int length = Math.Min(random.Next(1, 40_000), data.Length - next);
            inFlight.Add(wal.AppendAsync(key, next, data.AsMemory(next, length)).AsTask());
            shards[pick].Next = next + length;
            if (inFlight.Count >= random.Next(1, 5))
            {
                await Task.WhenAll(inFlight).DefaultTimeout();
                inFlight.Clear();
            }

            if (random.Next(4) == 0)
            {
                await Task.Yield();
            }
        }

        await Task.WhenAll(inFlight).DefaultTimeout();
        foreach ((ShardKey key, byte[] data, _) in shards)
        {
            await wal.CommitAsync(key, data.Length).DefaultTimeout();
        }
    }
}
