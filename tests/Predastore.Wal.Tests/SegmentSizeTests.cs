// Invariant 4: a segment's size limit counts record headers as well as payload, and a record never straddles two
// segments. The field report's WAL compared a data-only limit against files that also held headers and rejected
// writes near the limit; here a record that does not fit rolls over, and one that exactly fits stays.
namespace Predastore.Wal.Tests;

public sealed class SegmentSizeTests
{
    private const long Mib = 1024 * 1024;
    private const int HeaderSize = DiskRecord.HeaderSize;

    // 16 records of 65 440 payload bytes plus a 96-byte header are exactly 1 MiB.
    private const int FillPayload = 64 * 1024 - HeaderSize;

    [Fact]
    public async Task AppendAsync_RecordsExactlyFillingSegmentWithHeaders_FitInOneSegment()
    {
        // Arrange
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, SegmentSize = Mib, MaxRecordPayload = 64 * 1024 };
        var random = new Random(1);
        ShardKey key = Keys.Random(random);
        byte[] data = Bytes.Random(random, 16 * FillPayload);

        // Act
        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            await wal.AppendAllAsync(key, data, chunk: FillPayload);

            // Assert: the data fills segment 1 to the byte, headers included
            Assert.Equal(expected: [Mib], actual: directory.SegmentFiles().Select(f => DiskRecord.UsedLength(f)));

            // Act: the commit record no longer fits and opens segment 2
            await wal.CommitAsync(key, data.Length).DefaultTimeout();

            // Assert
            Assert.Equal(expected: [Mib, HeaderSize], actual: directory.SegmentFiles().Select(f => DiskRecord.UsedLength(f)));
            Assert.Equal(expected: data, actual: await wal.ReadAllAsync(key));
        }

        await using WriteAheadLog reopened = WriteAheadLog.Open(options);
        Assert.Equal(expected: data, actual: await reopened.ReadAllAsync(key));
    }

    [Fact]
    public async Task AppendAsync_RecordThatWouldExceedLimit_RollsToNewSegment()
    {
        // Arrange: fill segment 1 to 100 bytes short of its limit
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, SegmentSize = Mib, MaxRecordPayload = 64 * 1024 };
        var random = new Random(2);
        ShardKey key = Keys.Random(random);
        int lastPayload = 64 * 1024 - 100 - HeaderSize;
        byte[] data = Bytes.Random(random, (15 * FillPayload) + lastPayload + 64);
        await using WriteAheadLog wal = WriteAheadLog.Open(options);
        for (int i = 0; i < 15; i++)
        {
            await wal.AppendAsync(key, i * FillPayload, data.AsMemory(i * FillPayload, FillPayload)).DefaultTimeout();
        }

        await wal.AppendAsync(key, 15 * FillPayload, data.AsMemory(15 * FillPayload, lastPayload)).DefaultTimeout();
        Assert.Equal(expected: [Mib - 100], actual: directory.SegmentFiles().Select(f => DiskRecord.UsedLength(f)));

        // Act: a 64-byte payload makes a 160-byte record, which does not fit in the last 100 bytes
        await wal.AppendAsync(key, data.Length - 64, data.AsMemory(data.Length - 64)).DefaultTimeout();
        await wal.CommitAsync(key, data.Length).DefaultTimeout();

        // Assert: it went whole to segment 2; segment 1 kept its 100 free bytes
        string[] segments = directory.SegmentFiles();
        Assert.Equal(expected: [Mib - 100, HeaderSize + 64 + HeaderSize], actual: segments.Select(f => DiskRecord.UsedLength(f)));
        DiskRecord moved = DiskRecord.ReadSegment(segments[1])[0];
        Assert.Equal(expected: data.Length - 64, actual: moved.Value);
        Assert.Equal(expected: 64, actual: moved.Payload.Length);
        Assert.Equal(expected: data, actual: await wal.ReadAllAsync(key));
    }

    [Fact]
    public async Task CommitAsync_CommitRecordExactlyFillsSegment_StaysInSegment()
    {
        // Arrange: data up to exactly one header short of the limit
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, SegmentSize = Mib, MaxRecordPayload = 64 * 1024 };
        var random = new Random(3);
        ShardKey key = Keys.Random(random);
        byte[] data = Bytes.Random(random, (15 * FillPayload) + FillPayload - HeaderSize);
        await using WriteAheadLog wal = WriteAheadLog.Open(options);
        await wal.AppendAllAsync(key, data, chunk: FillPayload);

        // Act
        await wal.CommitAsync(key, data.Length).DefaultTimeout();

        // Assert
        Assert.Equal(expected: [Mib], actual: directory.SegmentFiles().Select(f => DiskRecord.UsedLength(f)));
        Assert.Equal(expected: data, actual: await wal.ReadAllAsync(key));
    }

    [Fact]
    public async Task AppendAsync_ManyPayloadsOfRandomSize_EverySegmentWithinLimitAndRolledOnlyWhenFull()
    {
        // Arrange
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, SegmentSize = Mib, MaxRecordPayload = 64 * 1024 };
        var random = new Random(4);
        var shards = Enumerable.Range(0, 8).Select(i => (Key: Keys.Random(random, (uint)i), Data: Bytes.Random(random, random.Next(1, 700_000)))).ToArray();

        // Act
        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            foreach ((ShardKey key, byte[] data) in shards)
            {
                await wal.WriteShardAsync(key, data, chunk: random.Next(1, 200_000));
            }

            foreach ((ShardKey key, byte[] data) in shards)
            {
                Assert.Equal(expected: data, actual: await wal.ReadAllAsync(key));
            }
        }

        // Assert: each segment holds whole records up to at most the limit, and the record that opened the next
        // segment really would not have fitted
        string[] segments = directory.SegmentFiles();
        Assert.True(segments.Length > 1);
        for (int i = 0; i < segments.Length; i++)
        {
            long length = DiskRecord.UsedLength(segments[i]);
            List<DiskRecord> records = DiskRecord.ReadSegment(segments[i]);
            Assert.True(length <= Mib, $"{segments[i]} is {length} bytes");
            Assert.Equal(expected: length, actual: records.Sum(r => r.Size));
            if (i + 1 < segments.Length)
            {
                long nextRecord = DiskRecord.ReadSegment(segments[i + 1])[0].Size;
                Assert.True(length + nextRecord > Mib, $"{segments[i]} rolled with {Mib - length} bytes free for a {nextRecord}-byte record");
            }
        }
    }

    [Fact]
    public void Open_SegmentSmallerThanHeaderPlusMaxPayload_Throws()
    {
        // Arrange
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, SegmentSize = 64 * 1024, MaxRecordPayload = 64 * 1024 };

        // Act + Assert
        Assert.Throws<ArgumentOutOfRangeException>(() => WriteAheadLog.Open(options));
    }
}
