// A full disk fails writes cleanly: the append that cannot be stored fails with an IOException whose HResult
// carries ENOSPC (28), which ShardServer maps to S3 InsufficientStorage; nothing half-written is acknowledged; every
// later write fails the same way; and the node keeps serving reads of what it has, before and after a reopen.
using System.Diagnostics;

namespace Predastore.Wal.Tests;

public sealed class DiskFullFaultTests
{
    private const int Enospc = 28;

    [Fact]
    public async Task AppendAsync_DiskFull_FailsWithEnospcAndReadsStillServed()
    {
        // Arrange: an 8 MiB tmpfs, 1 MiB segments
        using var directory = new TempDirectory();
        if (!TryMountTmpfs(directory.Path, "8m", out string? reason))
        {
            Console.WriteLine($"SKIPPED {nameof(AppendAsync_DiskFull_FailsWithEnospcAndReadsStillServed)}: {reason}");
            return;
        }

        try
        {
            var options = new WalOptions { Directory = directory.Path, SegmentSize = 1024 * 1024, MaxRecordPayload = 64 * 1024, CompactionInterval = TimeSpan.Zero };
            var random = new Random(61);
            var stored = new Dictionary<ShardKey, byte[]>();
            IOException? full = null;
            await using (WriteAheadLog wal = WriteAheadLog.Open(options))
            {
                // Act: write 300 KB shards until the disk is full
                for (int i = 0; i < 100 && full is null; i++)
                {
                    ShardKey key = Keys.Random(random);
                    byte[] data = Bytes.Random(random, 300_000);
                    try
                    {
                        await wal.WriteShardAsync(key, data, chunk: 64 * 1024);
                        stored[key] = data;
                    }
                    catch (IOException ex)
                    {
                        full = ex;
                    }
                }

                // Assert: the failure says "disk full" the way ShardServer reads it, and sticks
                Assert.NotNull(full);
                Assert.Equal(expected: Enospc, actual: full.HResult & 0xFFFF);
                Assert.True(stored.Count > 5, $"only {stored.Count} shards fitted");
                IOException again = await Assert.ThrowsAnyAsync<IOException>(() => wal.AppendAsync(Keys.Random(random), 0, new byte[10]).DefaultTimeout());
                Assert.Equal(expected: Enospc, actual: again.HResult & 0xFFFF);

                // Reads go on.
                foreach ((ShardKey key, byte[] data) in stored)
                {
                    Assert.Equal(expected: data, actual: await wal.ReadAllAsync(key));
                }
            }

            // Assert: a reopen on the still-full disk serves everything that was acknowledged
            await using WriteAheadLog reopened = WriteAheadLog.Open(options);
            Assert.Equal(expected: stored.Keys.ToHashSet(), actual: reopened.ListShards().ToHashSet());
            foreach ((ShardKey key, byte[] data) in stored)
            {
                Assert.Equal(expected: data, actual: await reopened.ReadAllAsync(key));
            }
        }
        finally
        {
            Unmount(directory.Path);
        }
    }

    private static bool TryMountTmpfs(string path, string size, out string? reason)
    {
        if (!OperatingSystem.IsLinux())
        {
            reason = "tmpfs needs Linux";
            return false;
        }

        (int exit, string output) = Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", path);
        reason = exit == 0 ? null : $"mount -t tmpfs is not permitted here ({output.Trim()})";
        return exit == 0;
    }

    private static void Unmount(string path) => Run("umount", path);

    private static (int Exit, string Output) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using Process process = Process.Start(start)!;
            string output = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, ex.Message);
        }
    }
}
