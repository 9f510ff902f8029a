// In steady state the data path allocates nothing: a warm read completes on the calling thread without allocating
// (one preadv per run of records, pooled side buffers), and an upload that follows a committed one appends without
// growing anything (its extent list comes from the pool with the capacity the last upload gave it).
namespace Predastore.Wal.Tests;

/// <summary>
/// Runs alone: the append test counts the allocations of every thread in the process, and the writer is another
/// thread than the test's.
/// </summary>
[CollectionDefinition(nameof(AllocationTests), DisableParallelization = true)]
public sealed class AllocationTestsCollection
{
}

[Collection(nameof(AllocationTests))]
public sealed class AllocationTests
{
    private const int Mib = 1024 * 1024;

    [Fact]
    public async Task ReadAsync_WarmRangesStartingAndEndingAnywhere_CompleteSynchronouslyAllocatingNothing()
    {
        // Arrange: a 2 MiB shard of 64 KiB records; a first read of each range warms the pools, the JIT and the
        // page cache
        using var directory = new TempDirectory();
        await using WriteAheadLog wal = WriteAheadLog.Open(new WalOptions { Directory = directory.Path, CompactionInterval = TimeSpan.Zero });
        var random = new Random(71);
        ShardKey key = Keys.Random(random);
        await wal.WriteShardAsync(key, Bytes.Random(random, 2 * Mib), chunk: 2 * Mib);
        byte[] buffer = new byte[Mib];
        (long Start, int Length)[] ranges = [(0, Mib), (Mib, Mib), (100, Mib), (70_000, 5), ((2 * Mib) - 10, 10)];
        foreach ((long start, int length) in ranges)
        {
            await wal.ReadAsync(key, start, buffer.AsMemory(0, length)).DefaultTimeout();
        }

        // Act: the reads run on this thread, so this thread's count is all they allocate
        bool allSynchronous = true;
        long bytesRead = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 10; round++)
        {
            foreach ((long start, int length) in ranges)
            {
                ValueTask<int> read = wal.ReadAsync(key, start, buffer.AsMemory(0, length));
                allSynchronous &= read.IsCompletedSuccessfully;
                bytesRead += await read;
            }
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Assert
        Assert.True(allSynchronous);
        Assert.Equal(expected: 10 * ranges.Sum(r => (long)r.Length), actual: bytesRead);
        Assert.Equal(expected: 0, actual: allocated);
    }

    [Fact]
    public async Task AppendAsync_UploadAfterCommittedUpload_AllocatesNothingPerAppend()
    {
        // Arrange: a first upload grows its extent list to 4096 records and commits, which returns it to the pool
        const int Records = 4096;
        using var directory = new TempDirectory();
        await using WriteAheadLog wal = WriteAheadLog.Open(new WalOptions { Directory = directory.Path, CompactionInterval = TimeSpan.Zero });
        var random = new Random(72);
        byte[] payload = Bytes.Random(random, 256);
        var appends = new ValueTask[256];
        ShardKey first = Keys.Random(random);
        await UploadAsync(wal, first, payload, Records, appends).DefaultTimeout();
        await wal.CommitAsync(first, Records * payload.Length).DefaultTimeout();

        // Act: the same under another key, counting what every thread allocates meanwhile
        long before = GC.GetTotalAllocatedBytes(precise: true);
        await UploadAsync(wal, Keys.Random(random), payload, Records, appends).DefaultTimeout();
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        // Assert: growing the list from empty costs 64 B a record (32 B extents, doubling); the bound leaves room
        // for the upload's own task and whatever the test host does meanwhile
        Assert.InRange(allocated, 0, Records * 8L);
    }

    /// <summary>Appends <paramref name="records"/> records, as many in flight as <paramref name="appends"/> holds (one fdatasync covers them).</summary>
    private static async Task UploadAsync(WriteAheadLog wal, ShardKey key, byte[] payload, int records, ValueTask[] appends)
    {
        for (int i = 0; i < records; i += appends.Length)
        {
            for (int j = 0; j < appends.Length; j++)
            {
                appends[j] = wal.AppendAsync(key, (long)(i + j) * payload.Length, payload);
            }

            for (int j = 0; j < appends.Length; j++)
            {
                await appends[j];
            }
        }
    }
}
