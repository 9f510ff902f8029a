// Property: whatever the sequence of append / commit / delete / abandon / read / clean reopen / crash reopen (with
// and without the checkpoint) / compaction, the WAL answers exactly as a simple in-memory model of its contract:
// committed shards read back byte for byte, uncommitted data is never visible and is gone after any reopen, a
// commit that its data does not cover is refused, deleted shards stay deleted (compaction never resurrects one).
namespace Predastore.Wal.Tests;

public sealed class ReferenceModelPropertyTests
{
    private const int KeyCount = 6;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task WriteAheadLog_RandomOperationSequence_MatchesReferenceModel(int seed)
    {
        // Arrange: tiny records and segments, so rolls, checkpoints and compaction happen constantly
        var random = new Random(seed);
        using var root = new TempDirectory();
        string directory = Path.Combine(root.Path, "wal0");
        int generation = 0;
        WalOptions Options(string path) => new()
        {
            Directory = path,
            SegmentSize = 8 * 1024,
            MaxRecordPayload = 512,
            CheckpointInterval = 6 * 1024,
            CompactionLiveFraction = 0.6,
            CompactionInterval = TimeSpan.Zero,
        };
        ShardKey[] keys = [.. Enumerable.Range(0, KeyCount).Select(i => Keys.Random(random, (uint)i))];
        var model = new ReferenceModel();
        var logger = new ListLogger();
        WriteAheadLog wal = WriteAheadLog.Open(Options(directory), logger);
        var trace = new List<string>();
        int compacted = 0;
        try
        {
            for (int step = 0; step < 400; step++)
            {
                ShardKey key = keys[random.Next(KeyCount)];
                int op = random.Next(100);

                // Act
                if (op < 40)
                {
                    long offset = model.NextAppendOffset(key, random);
                    byte[] data = Bytes.Random(random, random.Next(1, 1500));
                    trace.Add($"append {key.ShardIndex} @{offset} +{data.Length}");
                    await wal.AppendAsync(key, offset, data).DefaultTimeout();
                    model.Append(key, offset, data);
                }
                else if (op < 55)
                {
                    long covered = model.Covered(key);
                    long length = random.Next(4) == 0 ? covered + random.Next(1, 100) : random.NextInt64(Math.Max(covered, 0) + 1);
                    trace.Add($"commit {key.ShardIndex} len {length} (covered {covered})");
                    if (length <= covered)
                    {
                        await wal.CommitAsync(key, length).DefaultTimeout();
                        model.Commit(key, length);
                    }
                    else
                    {
                        await Assert.ThrowsAsync<InvalidOperationException>(() => wal.CommitAsync(key, length).DefaultTimeout());
                    }
                }
                else if (op < 62)
                {
                    trace.Add($"delete {key.ShardIndex}");
                    await wal.DeleteAsync(key).DefaultTimeout();
                    model.Delete(key);
                }
                else if (op < 65)
                {
                    trace.Add($"abandon {key.ShardIndex}");
                    wal.Abandon(key);
                    model.Abandon(key);
                }
                else if (op < 85)
                {
                    trace.Add($"read {key.ShardIndex}");
                    await AssertReadsLikeModelAsync(wal, model, key, random);
                }
                else if (op < 89)
                {
                    trace.Add("reopen");
                    await wal.DisposeAsync().DefaultTimeout();
                    wal = WriteAheadLog.Open(Options(directory), logger);
                    model.Reopen();
                }
                else if (op < 95)
                {
                    // A crash: the directory as it is on disk right now, without the clean-close checkpoint, and
                    // sometimes without any checkpoint (full rebuild).
                    bool dropCheckpoint = random.Next(2) == 0;
                    trace.Add($"crash (checkpoint dropped: {dropCheckpoint})");
                    string copy = Path.Combine(root.Path, $"wal{++generation}");
                    CrashCopy(directory, copy);
                    if (dropCheckpoint)
                    {
                        File.Delete(Path.Combine(copy, "index.ckpt"));
                    }

                    await wal.DisposeAsync().DefaultTimeout();
                    directory = copy;
                    wal = WriteAheadLog.Open(Options(directory), logger);
                    model.Reopen();
                }
                else
                {
                    trace.Add("compact");
                    compacted += await wal.CompactAsync().DefaultTimeout();
                }

                // Assert: the set of committed shards and their lengths always match
                Assert.Equal(expected: model.CommittedKeys.ToHashSet(), actual: wal.ListShards().ToHashSet());
                foreach (ShardKey k in keys)
                {
                    bool present = wal.TryGetLength(k, out long length);
                    Assert.Equal(expected: model.TryGetLength(k, out long expectedLength), actual: present);
                    Assert.Equal(expected: expectedLength, actual: length);
                }
            }

            foreach (ShardKey k in keys)
            {
                await AssertReadsLikeModelAsync(wal, model, k, random);
            }

            // The sequence really exercised compaction, checkpoint replay and full rebuilds.
            Assert.True(compacted > 0, "no segment was compacted");
            Assert.True(logger.HasEvent("CheckpointLoaded"), "no open used a checkpoint");
            Assert.True(logger.HasEvent("CheckpointUnusable"), "no open rebuilt without a checkpoint");
            Assert.False(logger.HasEvent("CompactionFailed"));
            Assert.False(logger.HasEvent("RecoveredCommitNotCovered"));
            Assert.False(logger.HasEvent("SegmentRestSkipped"));
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException($"seed {seed}, last steps:\n{string.Join('\n', trace.TakeLast(25))}", ex);
        }
        finally
        {
            await wal.DisposeAsync().DefaultTimeout();
        }
    }

    private static async Task AssertReadsLikeModelAsync(WriteAheadLog wal, ReferenceModel model, ShardKey key, Random random)
    {
        if (!model.TryGetCommitted(key, out byte[] expected))
        {
            await Assert.ThrowsAsync<ShardNotFoundException>(() => wal.ReadAsync(key, 0, new byte[1]).DefaultTimeout());
            return;
        }

        byte[] all = new byte[expected.Length + 10];
        Assert.Equal(expected: expected.Length, actual: await wal.ReadAsync(key, 0, all).DefaultTimeout());
        Assert.True(all.AsSpan(0, expected.Length).SequenceEqual(expected), "whole-shard read differs from the model");
        int offset = random.Next(expected.Length + 1);
        byte[] part = new byte[random.Next(1, 2000)];
        int read = await wal.ReadAsync(key, offset, part).DefaultTimeout();
        Assert.Equal(expected: Math.Min(part.Length, expected.Length - offset), actual: read);
        Assert.True(part.AsSpan(0, read).SequenceEqual(expected.AsSpan(offset, read)), $"range read at {offset} differs from the model");
    }

    /// <summary>Copies a live WAL directory: what a kill -9 at this instant would leave on disk.</summary>
    internal static void CrashCopy(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (string file in Directory.GetFiles(source))
        {
            string name = Path.GetFileName(file);
            if (name is "wal.lock" or "index.ckpt.tmp")
            {
                continue;
            }

            try
            {
                using var input = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var output = new FileStream(Path.Combine(destination, name), FileMode.CreateNew, FileAccess.Write);
                input.CopyTo(output);
            }
            catch (FileNotFoundException)
            {
                // Deleted by compaction between the listing and the copy: as a crash would have seen it.
            }
        }
    }

    /// <summary>The contract, in memory: pending data per shard (later bytes win), committed shards.</summary>
    private sealed class ReferenceModel
    {
        private readonly Dictionary<ShardKey, Dictionary<long, byte>> _pending = [];
        private readonly Dictionary<ShardKey, byte[]> _committed = [];

        public IEnumerable<ShardKey> CommittedKeys => _committed.Keys;

        public long NextAppendOffset(ShardKey key, Random random)
        {
            long covered = Covered(key);
            return random.Next(10) switch
            {
                0 => covered + random.Next(1, 300), // leaves a gap
                1 or 2 => random.NextInt64(covered + 1), // overlaps (a resent cell)
                _ => covered,
            };
        }

        public void Append(ShardKey key, long offset, byte[] data)
        {
            if (!_pending.TryGetValue(key, out Dictionary<long, byte>? bytes))
            {
                _pending[key] = bytes = [];
            }

            for (int i = 0; i < data.Length; i++)
            {
                bytes[offset + i] = data[i];
            }
        }

        public long Covered(ShardKey key)
        {
            if (!_pending.TryGetValue(key, out Dictionary<long, byte>? bytes))
            {
                return 0;
            }

            long covered = 0;
            while (bytes.ContainsKey(covered))
            {
                covered++;
            }

            return covered;
        }

        public void Commit(ShardKey key, long length)
        {
            byte[] shard = new byte[length];
            if (_pending.Remove(key, out Dictionary<long, byte>? bytes))
            {
                for (long i = 0; i < length; i++)
                {
                    shard[i] = bytes[i];
                }
            }

            _committed[key] = shard;
        }

        public void Delete(ShardKey key)
        {
            _pending.Remove(key);
            _committed.Remove(key);
        }

        public void Abandon(ShardKey key) => _pending.Remove(key);

        public void Reopen() => _pending.Clear();

        public bool TryGetLength(ShardKey key, out long length)
        {
            bool found = _committed.TryGetValue(key, out byte[]? shard);
            length = shard?.Length ?? 0;
            return found;
        }

        public bool TryGetCommitted(ShardKey key, out byte[] shard)
        {
            bool found = _committed.TryGetValue(key, out byte[]? value);
            shard = value ?? [];
            return found;
        }
    }
}
