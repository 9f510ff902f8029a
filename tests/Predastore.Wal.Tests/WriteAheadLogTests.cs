// A shard is readable only once a durable commit covers [0, length) with appended data; reads of any range
// return exactly the committed bytes (checked against a reference array), and uncommitted, abandoned or deleted
// data is never served.
namespace Predastore.Wal.Tests;

public sealed class WriteAheadLogTests
{
    [Theory]
    [InlineData(new[] { 0, 10_000, 20_000, 30_000 }, 30_000)] // a gap: [10 000, 20 000) missing
    [InlineData(new[] { 0, 10_000, 10_000, 25_000 }, 30_000)] // the tail: [25 000, 30 000) missing
    [InlineData(new[] { 5_000, 50_000 }, 50_000)] // the head: [0, 5 000) missing
    [InlineData(new int[0], 1)] // nothing appended
    public async Task CommitAsync_AppendedDataDoesNotCoverLength_ThrowsAndStaysUnreadable(int[] cuts, int commitLength)
    {
        // Arrange: append [cuts[i], cuts[i + 1]) for each pair of cuts
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, MaxRecordPayload = 4096 };
        var random = new Random(41);
        ShardKey key = Keys.Random(random);
        byte[] data = Bytes.Random(random, 50_000);
        await using WriteAheadLog wal = WriteAheadLog.Open(options);
        for (int i = 0; i + 1 < cuts.Length; i += 2)
        {
            await wal.AppendAsync(key, cuts[i], data.AsMemory(cuts[i], cuts[i + 1] - cuts[i])).DefaultTimeout();
        }

        // Act + Assert
        await Assert.ThrowsAsync<InvalidOperationException>(() => wal.CommitAsync(key, commitLength).DefaultTimeout());
        Assert.False(wal.TryGetLength(key, out _));
        await Assert.ThrowsAsync<ShardNotFoundException>(() => wal.ReadAsync(key, 0, new byte[1]).DefaultTimeout());

        // A rejected commit does not stop the WAL: fill in the rest and commit again.
        await wal.AppendAsync(key, 0, data).DefaultTimeout();
        await wal.CommitAsync(key, data.Length).DefaultTimeout();
        Assert.Equal(expected: data, actual: await wal.ReadAllAsync(key));
    }

    [Fact]
    public async Task ReadAsync_KeyAppendedButNotCommitted_ThrowsShardNotFound()
    {
        // Arrange
        using var directory = new TempDirectory();
        await using WriteAheadLog wal = WriteAheadLog.Open(new WalOptions { Directory = directory.Path });
        var random = new Random(42);
        ShardKey key = Keys.Random(random);
        await wal.AppendAsync(key, 0, Bytes.Random(random, 1000)).DefaultTimeout();

        // Act + Assert
        ShardNotFoundException notFound = await Assert.ThrowsAsync<ShardNotFoundException>(() => wal.ReadAsync(key, 0, new byte[10]).DefaultTimeout());
        Assert.Equal(expected: key, actual: notFound.Key);
        Assert.False(wal.TryGetLength(key, out _));
        Assert.Empty(wal.ListShards());
    }

    [Fact]
    public async Task ReadAsync_RandomRangesOfShardWrittenOutOfOrder_MatchReferenceBytes()
    {
        // Arrange: chunks of random size, appended in random order, some of them twice
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, MaxRecordPayload = 3000 };
        var random = new Random(43);
        ShardKey key = Keys.Random(random);
        byte[] reference = Bytes.Random(random, 200_003);
        var chunks = new List<(int Offset, int Length)>();
        for (int offset = 0; offset < reference.Length;)
        {
            int length = Math.Min(random.Next(1, 12_000), reference.Length - offset);
            chunks.Add((offset, length));
            offset += length;
        }

        chunks.AddRange(chunks.Where(_ => random.Next(5) == 0).ToList());
        (int Offset, int Length)[] order = [.. chunks.OrderBy(_ => random.Next())];

        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            foreach ((int offset, int length) in order)
            {
                await wal.AppendAsync(key, offset, reference.AsMemory(offset, length)).DefaultTimeout();
            }

            await wal.CommitAsync(key, reference.Length).DefaultTimeout();

            // Act + Assert
            await AssertRandomRangesAsync(wal, key, reference, random, reads: 300);
        }

        await using WriteAheadLog reopened = WriteAheadLog.Open(options);
        await AssertRandomRangesAsync(reopened, key, reference, random, reads: 300);
    }

    [Fact]
    public async Task CommitAsync_OverlappingAppends_LaterBytesWinBeforeAndAfterReopen()
    {
        // Arrange: a resent cell with different bytes overlaps the middle of the first upload
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, MaxRecordPayload = 1000 };
        var random = new Random(44);
        ShardKey key = Keys.Random(random);
        byte[] first = Bytes.Random(random, 10_000);
        byte[] patch = Bytes.Random(random, 3_333);
        byte[] expected = (byte[])first.Clone();
        patch.CopyTo(expected, 4_321);

        // Act
        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            await wal.AppendAsync(key, 0, first).DefaultTimeout();
            await wal.AppendAsync(key, 4_321, patch).DefaultTimeout();
            await wal.CommitAsync(key, expected.Length).DefaultTimeout();

            // Assert
            Assert.Equal(expected: expected, actual: await wal.ReadAllAsync(key));
        }

        await using WriteAheadLog reopened = WriteAheadLog.Open(options);
        Assert.Equal(expected: expected, actual: await reopened.ReadAllAsync(key));
        await AssertRandomRangesAsync(reopened, key, expected, random, reads: 100);
    }

    [Fact]
    public async Task CommitAsync_ShorterThanAppendedData_ShardEndsAtCommittedLength()
    {
        // Arrange
        using var directory = new TempDirectory();
        var random = new Random(45);
        ShardKey key = Keys.Random(random);
        byte[] data = Bytes.Random(random, 10_000);
        await using WriteAheadLog wal = WriteAheadLog.Open(new WalOptions { Directory = directory.Path, MaxRecordPayload = 4096 });
        await wal.AppendAsync(key, 0, data).DefaultTimeout();

        // Act
        await wal.CommitAsync(key, 5_000).DefaultTimeout();

        // Assert
        Assert.True(wal.TryGetLength(key, out long length));
        Assert.Equal(expected: 5_000, actual: length);
        byte[] buffer = new byte[8_000];
        Assert.Equal(expected: 5_000, actual: await wal.ReadAsync(key, 0, buffer).DefaultTimeout());
        Assert.Equal(expected: data.AsSpan(0, 5_000).ToArray(), actual: buffer.AsSpan(0, 5_000).ToArray());
        Assert.Equal(expected: 0, actual: await wal.ReadAsync(key, 5_000, buffer).DefaultTimeout());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => wal.ReadAsync(key, 5_001, buffer).DefaultTimeout());
    }

    [Fact]
    public async Task CommitAsync_ZeroLengthShard_IsReadableAndEmpty()
    {
        // Arrange
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path };
        ShardKey key = Keys.Random(new Random(46));

        // Act
        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            await wal.CommitAsync(key, 0).DefaultTimeout();
        }

        // Assert
        await using WriteAheadLog reopened = WriteAheadLog.Open(options);
        Assert.True(reopened.TryGetLength(key, out long length));
        Assert.Equal(expected: 0, actual: length);
        Assert.Equal(expected: 0, actual: await reopened.ReadAsync(key, 0, new byte[10]).DefaultTimeout());
    }

    [Fact]
    public async Task Abandon_PendingData_CommitNoLongerCovered()
    {
        // Arrange
        using var directory = new TempDirectory();
        await using WriteAheadLog wal = WriteAheadLog.Open(new WalOptions { Directory = directory.Path });
        var random = new Random(47);
        ShardKey key = Keys.Random(random);
        await wal.AppendAsync(key, 0, Bytes.Random(random, 5_000)).DefaultTimeout();

        // Act
        wal.Abandon(key);
        wal.Abandon(Keys.Random(random)); // unknown keys are fine

        // Assert
        await Assert.ThrowsAsync<InvalidOperationException>(() => wal.CommitAsync(key, 5_000).DefaultTimeout());
        Assert.False(wal.TryGetLength(key, out _));
    }

    [Fact]
    public async Task DeleteAsync_CommittedAndPendingData_BothGoneAndAbsentKeyIsNoError()
    {
        // Arrange
        using var directory = new TempDirectory();
        await using WriteAheadLog wal = WriteAheadLog.Open(new WalOptions { Directory = directory.Path });
        var random = new Random(48);
        ShardKey key = Keys.Random(random);
        await wal.WriteShardAsync(key, Bytes.Random(random, 5_000));
        await wal.AppendAsync(key, 0, Bytes.Random(random, 7_000)).DefaultTimeout();

        // Act
        await wal.DeleteAsync(key).DefaultTimeout();
        await wal.DeleteAsync(Keys.Random(random)).DefaultTimeout();

        // Assert
        Assert.False(wal.TryGetLength(key, out _));
        await Assert.ThrowsAsync<InvalidOperationException>(() => wal.CommitAsync(key, 7_000).DefaultTimeout());
    }

    [Fact]
    public async Task AppendAsync_CanceledToken_ThrowsCanceledAndWritesNothing()
    {
        // Arrange
        using var directory = new TempDirectory();
        await using WriteAheadLog wal = WriteAheadLog.Open(new WalOptions { Directory = directory.Path });
        var random = new Random(49);
        ShardKey key = Keys.Random(random);
        using var canceled = new CancellationTokenSource();
        await canceled.CancelAsync();

        // Act + Assert
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wal.AppendAsync(key, 0, new byte[100], canceled.Token).DefaultTimeout());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wal.CommitAsync(key, 0, canceled.Token).DefaultTimeout());
        Assert.Equal(expected: 0, actual: DiskRecord.UsedLength(directory.SegmentFiles()[0]));
    }

    private static async Task AssertRandomRangesAsync(WriteAheadLog wal, ShardKey key, byte[] reference, Random random, int reads)
    {
        for (int i = 0; i < reads; i++)
        {
            int offset = random.Next(reference.Length + 1);
            int length = random.Next(3) switch
            {
                0 => random.Next(1, 16),
                1 => random.Next(1, 10_000),
                _ => random.Next(1, reference.Length + 100),
            };
            byte[] buffer = new byte[length];
            int read = await wal.ReadAsync(key, offset, buffer).DefaultTimeout();
            int expectedLength = Math.Min(length, reference.Length - offset);
            Assert.Equal(expected: expectedLength, actual: read);
            Assert.True(
                buffer.AsSpan(0, read).SequenceEqual(reference.AsSpan(offset, expectedLength)),
                $"range [{offset}, {offset + read}) differs from the reference");
        }
    }
}
