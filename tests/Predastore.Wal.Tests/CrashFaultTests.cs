// Every acknowledged shard survives a kill -9: a child process runs concurrent uploads (and deletes, with
// checkpoints and, in one variant, compaction running) and is SIGKILLed at a random moment. After reopening,
// every shard whose commit was acknowledged reads back byte-identical, every acknowledged delete holds, nothing
// whose commit never began is visible, and the WAL accepts new writes. The same with a torn tail (the last
// segment cut mid-record after everything acknowledged) and with a bit flipped in that unacknowledged tail.
using System.Buffers.Binary;
using System.Diagnostics;
using Predastore.Wal.CrashHost;

namespace Predastore.Wal.Tests;

public sealed class CrashFaultTests
{
    private const int MaxIterations = 6;
    private static readonly TimeSpan s_budget = TimeSpan.FromSeconds(3);

    public enum TailDamage
    {
        None,
        Truncated,
        BitFlipped,
    }

    [Theory]
    [InlineData(TailDamage.None, true)]
    [InlineData(TailDamage.None, false)]
    [InlineData(TailDamage.Truncated, false)]
    [InlineData(TailDamage.BitFlipped, false)]
    public async Task Open_AfterChildKilledMidWrite_AcknowledgedShardsIntactNothingElseVisible(TailDamage damage, bool compaction)
    {
        var stopwatch = Stopwatch.StartNew();
        int iterations = 0;
        using var directory = new TempDirectory();
        var random = new Random(((int)damage * 10) + (compaction ? 1 : 0));
        var acknowledged = new Dictionary<ShardKey, bool>(); // key → still expected (false once a delete began)
        var deleted = new HashSet<ShardKey>();
        var begun = new HashSet<ShardKey>();
        var gone = new HashSet<ShardKey>(); // begun, never acknowledged, and not there after a reopen: stays gone
        while (iterations < MaxIterations && (iterations < 2 || stopwatch.Elapsed < s_budget))
        {
            iterations++;

            // Arrange + Act: run the child against the same directory, kill it at a random moment
            List<string> lines = await RunChildUntilKilledAsync(directory.Path, random.Next(), compaction, TimeSpan.FromMilliseconds(random.Next(50, 400)));
            foreach (string line in lines)
            {
                ShardKey key = ShardContent.FromHex(line[2..]);
                switch (line[0])
                {
                    case 'C':
                        begun.Add(key);
                        break;
                    case 'A':
                        acknowledged[key] = true;
                        break;
                    case 'D':
                        acknowledged[key] = false;
                        break;
                    case 'X':
                        acknowledged.Remove(key);
                        deleted.Add(key);
                        break;
                }
            }

            if (damage != TailDamage.None)
            {
                DamageUnacknowledgedTail(directory.Path, damage, random, acknowledged.Keys.Concat(deleted).ToHashSet());
            }

            // Assert
            var logger = new ListLogger();
            await using (WriteAheadLog wal = WriteAheadLog.Open(new WalOptions { Directory = directory.Path, SegmentSize = 1024 * 1024, CompactionInterval = TimeSpan.Zero }, logger))
            {
                var visible = wal.ListShards().ToHashSet();
                foreach ((ShardKey key, bool expected) in acknowledged)
                {
                    if (expected)
                    {
                        Assert.True(visible.Contains(key), $"iteration {iterations}: acknowledged shard {key} is missing");
                    }

                    if (visible.Contains(key))
                    {
                        Assert.Equal(expected: ShardContent.For(key), actual: await wal.ReadAllAsync(key));
                    }
                }

                foreach (ShardKey key in visible)
                {
                    Assert.True(begun.Contains(key), $"iteration {iterations}: shard {key} is visible though its commit never began");
                    Assert.False(deleted.Contains(key), $"iteration {iterations}: shard {key} is visible though its delete was acknowledged");
                    Assert.False(gone.Contains(key), $"iteration {iterations}: shard {key} came back after a reopen did not have it");
                    Assert.Equal(expected: ShardContent.For(key), actual: await wal.ReadAllAsync(key));
                }

                Assert.Equal(expected: 0, actual: wal.CorruptionsDetected);
                gone.UnionWith(begun.Where(k => !visible.Contains(k) && !acknowledged.ContainsKey(k) && !deleted.Contains(k)));

                // New writes are accepted.
                ShardKey fresh = ShardContent.NewKey(random);
                byte[] data = ShardContent.For(fresh);
                await wal.WriteShardAsync(fresh, data, chunk: 64 * 1024);
                Assert.Equal(expected: data, actual: await wal.ReadAllAsync(fresh));
                await wal.DeleteAsync(fresh).DefaultTimeout();
            }

        }

        Assert.True(acknowledged.Count > 0, "the child never acknowledged anything");
    }

    private static async Task<List<string>> RunChildUntilKilledAsync(string directory, int seed, bool compaction, TimeSpan runAfterFirstAck)
    {
        string host = Path.Combine(AppContext.BaseDirectory, "Predastore.Wal.CrashHost.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(host);
        start.ArgumentList.Add(directory);
        start.ArgumentList.Add(seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add(compaction ? "compact" : "plain");
        using Process child = Process.Start(start) ?? throw new InvalidOperationException("could not start the crash host");
        var lines = new List<string>();
        var firstAck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> errors = child.StandardError.ReadToEndAsync();
        Task reader = Task.Run(async () =>
        {
            while (await child.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (lines)
                {
                    lines.Add(line);
                }

                if (line[0] == 'A')
                {
                    firstAck.TrySetResult();
                }
            }
        });
        try
        {
            await Task.WhenAny(firstAck.Task, child.WaitForExitAsync()).DefaultTimeout();
            if (child.HasExited)
            {
                Assert.Fail($"the crash host exited early: {await errors}");
            }

            await Task.Delay(runAfterFirstAck);
        }
        finally
        {
            // SIGKILL: no finally blocks, no dispose, no clean-close checkpoint in the child.
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync().DefaultTimeout();
        }

        await reader.DefaultTimeout();
        lock (lines)
        {
            return [.. lines];
        }
    }

    /// <summary>
    /// Cuts or flips a bit in the last segment, after every record that an acknowledgement depends on and after
    /// the checkpoint's position (both only vouch for what was durable): the torn write a power cut leaves. If there
    /// is no such record, a half-written one is put there.
    /// </summary>
    private static void DamageUnacknowledgedTail(string directory, TailDamage damage, Random random, HashSet<ShardKey> acknowledged)
    {
        string segment = Directory.GetFiles(directory, "*.seg").Order(StringComparer.Ordinal).Last();
        List<DiskRecord> records = DiskRecord.ReadSegment(segment);
        long used = records.Sum(r => r.Size);
        long safe = records.Where(r => r.Type != 1 && acknowledged.Contains(r.Key)).Select(r => r.Offset + r.Size).DefaultIfEmpty(0).Max();
        string checkpoint = Path.Combine(directory, "index.ckpt");
        if (File.Exists(checkpoint))
        {
            byte[] header = File.ReadAllBytes(checkpoint);
            int segmentId = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(16));
            long position = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(20));
            if (Path.GetFileName(segment) == $"{segmentId:D8}.seg")
            {
                safe = Math.Max(safe, position);
            }
        }

        using var file = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite);
        if (used - safe < 2)
        {
            // Nothing unacknowledged on disk: write the first part of a record that never completed.
            byte[] torn = new byte[DiskRecord.HeaderSize + 500];
            random.NextBytes(torn);
            BinaryPrimitives.WriteUInt32LittleEndian(torn, DiskRecord.Magic);
            file.Position = used;
            file.Write(torn);
            return;
        }

        long at = safe + 1 + random.NextInt64(used - safe - 1);
        if (damage == TailDamage.Truncated)
        {
            file.SetLength(at);
        }
        else
        {
            file.Position = at;
            int value = file.ReadByte();
            file.Position = at;
            file.WriteByte((byte)(value ^ (1 << random.Next(8))));
        }
    }
}
