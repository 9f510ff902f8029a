// Shared fixtures for the WAL tests: temp directories, shard keys, bounded awaits, a log sink and an independent
// reader of the on-disk record format (so format tests do not trust the code under test).
using System.Buffers.Binary;
using System.IO.Hashing;
using Microsoft.Extensions.Logging;

namespace Predastore.Wal.Tests;

internal static class TestTimeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(30);

    public static Task DefaultTimeout(this ValueTask task) => task.AsTask().WaitAsync(Default);

    public static Task<T> DefaultTimeout<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Default);

    public static Task DefaultTimeout(this Task task) => task.WaitAsync(Default);

    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(Default);
}

/// <summary>A fresh directory under the temp path, deleted with everything in it on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "predastore-wal-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string[] SegmentFiles() => [.. Directory.GetFiles(Path, "*.seg").Order(StringComparer.Ordinal)];

    public string CheckpointFile => System.IO.Path.Combine(Path, "index.ckpt");

    /// <summary>
    /// Removes the checkpoint a clean close wrote, leaving the directory as a kill -9 would have (the next open
    /// replays every segment).
    /// </summary>
    public void RemoveCheckpoint() => File.Delete(CheckpointFile);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory must not fail a test.
        }
    }
}

internal static class Keys
{
    public static ShardKey Random(Random random, uint shardIndex = 0)
    {
        Span<byte> hash = stackalloc byte[ShardKey.ObjectHashSize];
        Span<byte> dataId = stackalloc byte[ShardKey.DataIdSize];
        random.NextBytes(hash);
        random.NextBytes(dataId);
        return new ShardKey(hash, dataId, shardIndex);
    }

    public static ShardKey WithIndex(ShardKey key, uint shardIndex)
    {
        Span<byte> bytes = stackalloc byte[ShardKey.Size];
        key.WriteTo(bytes);
        return new ShardKey(bytes[..ShardKey.ObjectHashSize], bytes.Slice(ShardKey.ObjectHashSize, ShardKey.DataIdSize), shardIndex);
    }

    public static ShardKey WithDataId(ShardKey key, byte[] dataId)
    {
        Span<byte> bytes = stackalloc byte[ShardKey.Size];
        key.WriteTo(bytes);
        return new ShardKey(bytes[..ShardKey.ObjectHashSize], dataId, key.ShardIndex);
    }
}

internal static class Bytes
{
    public static byte[] Random(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}

internal static class WalExtensions
{
    public static async Task AppendAllAsync(this WriteAheadLog wal, ShardKey key, byte[] data, int chunk = 10_000)
    {
        for (int offset = 0; offset < data.Length; offset += chunk)
        {
            await wal.AppendAsync(key, offset, data.AsMemory(offset, Math.Min(chunk, data.Length - offset))).DefaultTimeout();
        }
    }

    public static async Task WriteShardAsync(this WriteAheadLog wal, ShardKey key, byte[] data, int chunk = 10_000)
    {
        await wal.AppendAllAsync(key, data, chunk);
        await wal.CommitAsync(key, data.Length).DefaultTimeout();
    }

    public static async Task<byte[]> ReadAllAsync(this WriteAheadLog wal, ShardKey key)
    {
        Assert.True(wal.TryGetLength(key, out long length));
        byte[] result = new byte[length];
        int read = await wal.ReadAsync(key, 0, result).DefaultTimeout();
        Assert.Equal(expected: (int)length, actual: read);
        return result;
    }
}

/// <summary>One record as found on disk, decoded from the documented layout (see RecordHeader).</summary>
internal sealed record DiskRecord(
    string Segment, long Offset, byte Type, ShardKey Key, long Value, ulong Sequence, byte[] Payload, bool ChecksumOk)
{
    public const int HeaderSize = 96;
    public const uint Magic = 0x4C415750;

    public long Size => HeaderSize + Payload.Length;

    /// <summary>The end of the last record of a segment (its preallocated rest is zeros).</summary>
    public static long UsedLength(string path) => ReadSegment(path).Sum(r => r.Size);

    /// <summary>
    /// Parses a segment from offset 0, up to the zeros that follow the last record in a preallocated file. Throws when the file does not decode, record after record, to its exact end:
    /// a header and payload written apart, or two records interleaved, cannot pass.
    /// </summary>
    public static List<DiskRecord> ReadSegment(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        var records = new List<DiskRecord>();
        long offset = 0;
        while (offset < file.Length)
        {
            ReadOnlySpan<byte> header = file.AsSpan((int)offset);
            if (!header[..Math.Min(HeaderSize, header.Length)].ContainsAnyExcept((byte)0))
            {
                // The end of the records: everything after must be zeros too, or something was written astray.
                int stray = header.IndexOfAnyExcept((byte)0);
                if (stray >= 0)
                {
                    throw new InvalidDataException($"{path}: stray bytes at {offset + stray} after the last record at {offset}.");
                }

                break;
            }

            if (header.Length < HeaderSize)
            {
                throw new InvalidDataException($"{path}: {header.Length} stray bytes at {offset}.");
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic)
            {
                throw new InvalidDataException($"{path}: no record magic at {offset}.");
            }

            int payloadLength = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
            if (payloadLength < 0 || offset + HeaderSize + payloadLength > file.Length)
            {
                throw new InvalidDataException($"{path}: impossible payload length {payloadLength} at {offset}.");
            }

            byte[] whole = file.AsSpan((int)offset, HeaderSize + payloadLength).ToArray();
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(whole.AsSpan(8));
            whole.AsSpan(8, 4).Clear();
            bool checksumOk = Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, whole) == stored;
            records.Add(new DiskRecord(
                System.IO.Path.GetFileName(path),
                offset,
                header[5],
                ShardKey.Read(header.Slice(24, ShardKey.Size)),
                BinaryPrimitives.ReadInt64LittleEndian(header[80..]),
                BinaryPrimitives.ReadUInt64LittleEndian(header[16..]),
                whole.AsSpan(HeaderSize).ToArray(),
                checksumOk));
            offset += HeaderSize + payloadLength;
        }

        return records;
    }
}

/// <summary>Collects log events so tests can assert that recovery said what it dropped.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly List<(LogLevel Level, EventId EventId, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, EventId EventId, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public bool HasEvent(string eventName) => Entries.Any(e => e.EventId.Name == eventName);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add((logLevel, eventId, exception is null ? formatter(state, exception) : $"{formatter(state, exception)}: {exception}"));
        }
    }
}
