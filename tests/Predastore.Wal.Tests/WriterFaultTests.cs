// After a write or an fdatasync fails, the request that hit it and every later one fail until the WAL is
// reopened: data that may not be on disk is never acknowledged, nor is anything written after it. What was
// committed before the failure stays readable, and a reopen recovers.
using System.Collections.Concurrent;

namespace Predastore.Wal.Tests;

public sealed class WriterFaultTests
{
    [Theory]
    [InlineData(0)] // WalFaultPoint.Write
    [InlineData(1)] // WalFaultPoint.Sync
    public async Task AppendAsync_AfterWriterFault_ThisAndEveryLaterWriteFails(int faultPoint)
    {
        // Arrange
        using var directory = new TempDirectory();
        var options = new WalOptions { Directory = directory.Path, MaxRecordPayload = 4096 };
        var random = new Random(51);
        ShardKey before = Keys.Random(random);
        ShardKey failing = Keys.Random(random);
        byte[] beforeData = Bytes.Random(random, 20_000);
        byte[] failingData = Bytes.Random(random, 20_000);
        await using (WriteAheadLog wal = WriteAheadLog.Open(options))
        {
            await wal.WriteShardAsync(before, beforeData);
            int armed = 1;
            wal.FaultInjector = point =>
            {
                if ((int)point == faultPoint && Interlocked.Exchange(ref armed, 0) == 1)
                {
                    throw new IOException("injected fault");
                }
            };

            // Act
            WalException failed = await Assert.ThrowsAsync<WalException>(() => wal.AppendAsync(failing, 0, failingData).DefaultTimeout());

            // Assert: the fault was one-shot, yet nothing is accepted any more
            Assert.IsType<IOException>(failed.InnerException);
            Assert.Equal(expected: 0, actual: armed);
            await Assert.ThrowsAsync<WalException>(() => wal.AppendAsync(failing, 0, failingData).DefaultTimeout());
            await Assert.ThrowsAsync<WalException>(() => wal.CommitAsync(failing, failingData.Length).DefaultTimeout());
            await Assert.ThrowsAsync<WalException>(() => wal.DeleteAsync(before).DefaultTimeout());
            Assert.False(wal.TryGetLength(failing, out _));
            Assert.Equal(expected: beforeData, actual: await wal.ReadAllAsync(before));
        }

        // Assert: a reopen recovers; the earlier shard is intact and writes work again
        await using WriteAheadLog reopened = WriteAheadLog.Open(options);
        Assert.Equal(expected: beforeData, actual: await reopened.ReadAllAsync(before));
        Assert.False(reopened.TryGetLength(failing, out _));
        await reopened.WriteShardAsync(failing, failingData);
        Assert.Equal(expected: failingData, actual: await reopened.ReadAllAsync(failing));
    }

    [Fact]
    public async Task AppendAsync_FaultWhileManyWritesInFlight_EveryOneFails()
    {
        // Arrange: the first write call of the WAL fails, once, while 64 appends race through the queue
        using var directory = new TempDirectory();
        var random = new Random(52);
        await using WriteAheadLog wal = WriteAheadLog.Open(new WalOptions { Directory = directory.Path, MaxRecordPayload = 4096 });
        int writes = 0;
        var outcomes = new ConcurrentQueue<(int Index, bool Succeeded)>();
        wal.FaultInjector = point =>
        {
            if (point == WalFaultPoint.Write && Interlocked.Increment(ref writes) == 1)
            {
                throw new IOException("injected fault");
            }
        };

        // Act
        Task[] appends = [.. Enumerable.Range(0, 64).Select(i => Task.Run(async () =>
        {
            try
            {
                await wal.AppendAsync(Keys.Random(new Random(i)), 0, new byte[1000]).DefaultTimeout();
                outcomes.Enqueue((i, true));
            }
            catch (WalException)
            {
                outcomes.Enqueue((i, false));
            }
        }))];
        await Task.WhenAll(appends).DefaultTimeout();

        // Assert: whichever batch each append landed in, it was in or after the failed one
        Assert.Equal(expected: 64, actual: outcomes.Count);
        Assert.All(outcomes, o => Assert.False(o.Succeeded, $"append {o.Index} succeeded after the writer failed"));
        Assert.Equal(expected: 1, actual: writes);
        await Assert.ThrowsAsync<WalException>(() => wal.AppendAsync(Keys.Random(random), 0, new byte[10]).DefaultTimeout());
    }
}
