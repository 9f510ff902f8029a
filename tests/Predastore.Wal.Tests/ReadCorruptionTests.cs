// Every read verifies the CRC of each record it touches, and only those: a flipped byte on disk fails the reads
// that cover its record (ShardCorruptException, counted), while reads of the same shard that avoid that record
// still succeed, so the gateway reconstructs one block, not the whole shard. That holds wherever the flip is in a
// record read in part: its header, the payload before or after the requested bytes, or the requested bytes.
namespace Predastore.Wal.Tests;

public sealed class ReadCorruptionTests
{
    private const int RecordPayload = 4096;
    private const int RecordSize = DiskRecord.HeaderSize + RecordPayload;

    [Fact]
    public async Task ReadAsync_ByteFlippedInCommittedRecord_ThrowsCorruptOnlyForRangesTouchingThatRecord()
    {
        // Arrange: 16 records of 4 KiB; rot one byte of record 5's payload under the running WAL
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, MaxRecordPayload = RecordPayload };
        var random = new Random(31);
        ShardKey key = Keys.Random(random);
        byte[] data = Bytes.Random(random, 16 * RecordPayload);
        await using WriteAheadLog wal = WriteAheadLog.Open(options);
        await wal.WriteShardAsync(key, data, chunk: data.Length);
        RecoveryTests.FlipBit(directory.SegmentFiles()[0], (5L * RecordSize) + DiskRecord.HeaderSize + 10);

        // Act + Assert: a read across record 5 fails and is counted
        var buffer = new byte[3 * RecordPayload];
        ShardCorruptException corrupt = await Assert.ThrowsAsync<ShardCorruptException>(
            () => wal.ReadAsync(key, 4L * RecordPayload, buffer).DefaultTimeout());
        Assert.Equal(expected: key, actual: corrupt.Key);
        Assert.Equal(expected: 1, actual: wal.CorruptionsDetected);

        // One byte inside record 5, even far from the flipped one, fails too: the whole record is checked.
        await Assert.ThrowsAsync<ShardCorruptException>(() => wal.ReadAsync(key, (5L * RecordPayload) + 4000, new byte[1]).DefaultTimeout());
        Assert.Equal(expected: 2, actual: wal.CorruptionsDetected);

        // Reads that end right before record 5, or start right after it, succeed with the right bytes.
        byte[] before = new byte[5 * RecordPayload];
        Assert.Equal(expected: before.Length, actual: await wal.ReadAsync(key, 0, before).DefaultTimeout());
        Assert.Equal(expected: data.AsSpan(0, before.Length).ToArray(), actual: before);
        byte[] after = new byte[10 * RecordPayload];
        Assert.Equal(expected: after.Length, actual: await wal.ReadAsync(key, 6L * RecordPayload, after).DefaultTimeout());
        Assert.Equal(expected: data.AsSpan(6 * RecordPayload).ToArray(), actual: after);
        Assert.Equal(expected: 2, actual: wal.CorruptionsDetected);
    }

    [Theory]
    [InlineData(5, 40)] // header: the shard key
    [InlineData(5, 90)] // header: a reserved byte that only the CRC covers
    [InlineData(5, DiskRecord.HeaderSize + 500)] // payload before the requested bytes of a read inside the record
    [InlineData(5, DiskRecord.HeaderSize + 2000)] // a requested byte
    [InlineData(5, DiskRecord.HeaderSize + 3500)] // payload after the requested bytes
    [InlineData(4, DiskRecord.HeaderSize + 100)] // before the start of a read that starts inside the record
    [InlineData(6, DiskRecord.HeaderSize + 3000)] // after the end of a read that ends inside the record
    public async Task ReadAsync_BitFlippedAnywhereInRecordReadInPart_ThrowsCorruptForRangesTouchingIt(int record, int offsetInRecord)
    {
        // Arrange: 8 records of 4 KiB; rot one bit of one record under the running WAL
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, MaxRecordPayload = RecordPayload };
        var random = new Random(33);
        ShardKey key = Keys.Random(random);
        byte[] data = Bytes.Random(random, 8 * RecordPayload);
        await using WriteAheadLog wal = WriteAheadLog.Open(options);
        await wal.WriteShardAsync(key, data, chunk: data.Length);
        RecoveryTests.FlipBit(directory.SegmentFiles()[0], (record * (long)RecordSize) + offsetInRecord);
        (int Start, int Length)[] ranges =
        [
            ((5 * RecordPayload) + 1000, 2000), // inside record 5
            ((5 * RecordPayload) + 2000, 1),
            ((4 * RecordPayload) + 3000, (2 * RecordPayload) - 2000), // from inside record 4 to inside record 6
            ((4 * RecordPayload) + 1000, RecordPayload - 1000), // inside record 4 to its end
            (6 * RecordPayload, 1), // the first byte of record 6
            (0, 4 * RecordPayload),
            (7 * RecordPayload, RecordPayload),
        ];

        // Act + Assert
        long corruptions = 0;
        foreach ((int start, int length) in ranges)
        {
            byte[] buffer = new byte[length];
            if (start < (record + 1) * RecordPayload && start + length > record * RecordPayload)
            {
                await Assert.ThrowsAsync<ShardCorruptException>(() => wal.ReadAsync(key, start, buffer).DefaultTimeout());
                Assert.Equal(expected: ++corruptions, actual: wal.CorruptionsDetected);
            }
            else
            {
                Assert.Equal(expected: length, actual: await wal.ReadAsync(key, start, buffer).DefaultTimeout());
                Assert.Equal(expected: data.AsSpan(start, length).ToArray(), actual: buffer);
            }
        }

        Assert.InRange(corruptions, 1L, ranges.Length - 1L);
    }

    [Fact]
    public async Task ReadAsync_HeaderOfCommittedRecordDamaged_ThrowsCorrupt()
    {
        // Arrange: rot the shard-offset field of record 2's header, which the payload CRC alone would not see
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, MaxRecordPayload = RecordPayload };
        var random = new Random(32);
        ShardKey key = Keys.Random(random);
        byte[] data = Bytes.Random(random, 4 * RecordPayload);
        await using WriteAheadLog wal = WriteAheadLog.Open(options);
        await wal.WriteShardAsync(key, data, chunk: data.Length);
        RecoveryTests.FlipBit(directory.SegmentFiles()[0], (2L * RecordSize) + 80);

        // Act + Assert
        await Assert.ThrowsAsync<ShardCorruptException>(() => wal.ReadAsync(key, 2L * RecordPayload, new byte[100]).DefaultTimeout());
        Assert.Equal(expected: 1, actual: wal.CorruptionsDetected);
        Assert.Equal(expected: 100, actual: await wal.ReadAsync(key, 3L * RecordPayload, new byte[100]).DefaultTimeout());
    }
}
