// A read scatters each record it touches: the requested bytes straight into the caller's buffer, the header and
// the payload bytes outside the range (which the CRC still covers) into a side buffer. Whatever the range — starting
// or ending inside a record, inside a record that a later append partly replaced, across many records, runs and
// segments — it returns exactly the committed bytes, before and after a reopen.
namespace Predastore.Wal.Tests;

public sealed class ScatterReadTests
{
    [Theory]
    [InlineData(16 * 1024, 1000, 100_000, 6)] // ~14 records a segment: ranges cross many segments
    [InlineData(1024 * 1024, 100, 60_000, 1)] // 600 tiny records in one segment: runs stop at the record cap
    [InlineData(4 * 1024 * 1024, 64 * 1024, (3 * 1024 * 1024) + 12_345, 1)] // runs stop at 1 MiB; the last record is short
    public async Task ReadAsync_RangesStartingAndEndingInsideRecords_MatchReferenceBytes(
        long segmentSize, int recordPayload, int shardLength, int minSegments)
    {
        // Arrange: appends of 2.5 records each (records of every length), then a resent middle range with new
        // bytes, which leaves records whose payload is only partly the shard's
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, SegmentSize = segmentSize, MaxRecordPayload = recordPayload };
        var random = new Random(61);
        ShardKey key = Keys.Random(random);
        byte[] reference = Bytes.Random(random, shardLength);
        byte[] resent = Bytes.Random(random, (3 * recordPayload) + 7);
        int resentAt = (shardLength / 3) + (recordPayload / 2);
        long[] starts =
        [
            0, 1, recordPayload - 1, recordPayload, recordPayload + 1, resentAt - 1, resentAt, resentAt + 1,
            resentAt + resent.Length - 1, shardLength / 2, shardLength - recordPayload - 1, shardLength - 1, shardLength,
        ];
        int[] lengths = [1, 2, recordPayload - 1, recordPayload, recordPayload + 1, (5 * recordPayload / 2) + 3, 300_000, shardLength];

        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            await wal.AppendAllAsync(key, reference, chunk: (5 * recordPayload) / 2);
            await wal.AppendAsync(key, resentAt, resent).DefaultTimeout();
            resent.CopyTo(reference, resentAt);
            await wal.CommitAsync(key, shardLength).DefaultTimeout();
            Assert.InRange(directory.SegmentFiles().Length, minSegments, int.MaxValue);

            // Act + Assert
            await AssertRangesAsync(wal, key, reference, starts, lengths);
        }

        await using WriteAheadLog reopened = WriteAheadLog.Open(options);
        await AssertRangesAsync(reopened, key, reference, starts, lengths);
    }

    private static async Task AssertRangesAsync(WriteAheadLog wal, ShardKey key, byte[] reference, long[] starts, int[] lengths)
    {
        foreach (long start in starts)
        {
            foreach (int length in lengths)
            {
                // One byte of slack on each side: a read must not write outside what it returns.
                byte[] buffer = new byte[length + 2];
                buffer[0] = 0xA5;
                buffer[^1] = 0x5A;
                int read = await wal.ReadAsync(key, start, buffer.AsMemory(1, length)).DefaultTimeout();
                int expected = (int)Math.Min(length, reference.Length - start);
                Assert.Equal(expected: expected, actual: read);
                Assert.True(
                    buffer.AsSpan(1, read).SequenceEqual(reference.AsSpan((int)start, expected)),
                    $"range [{start}, {start + read}) differs from the reference");
                Assert.True(
                    buffer[0] == 0xA5 && buffer[^1] == 0x5A && !buffer.AsSpan(1 + read, length - read).ContainsAnyExcept((byte)0),
                    $"range [{start}, +{length}) wrote outside what it returned");
            }
        }
    }
}
