using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace Predastore.Wal;

/// <summary>
/// The index as of one point in the log: every record with a sequence number below <see cref="NextSequence"/> is
/// reflected in it, and every record at or after <see cref="Position"/> in segment order is newer or a verbatim
/// copy made by compaction. Taken by the writer between batches, when all it holds is durable.
/// </summary>
internal sealed class CheckpointSnapshot
{
    public required ulong NextSequence { get; init; }

    /// <summary>The writer's tail when the snapshot was taken: replay scans from here.</summary>
    public required RecordLocation Position { get; init; }

    /// <summary>Every segment then: what recovery would otherwise learn only by scanning it.</summary>
    public required SegmentInfo[] Segments { get; init; }

    public required KeyValuePair<ShardKey, CommittedShard>[] Committed { get; init; }

    /// <summary>Durable data of uploads not yet committed: a commit after the checkpoint needs it.</summary>
    public required KeyValuePair<ShardKey, Extent[]>[] Pending { get; init; }
}

/// <summary>
/// Reads and writes the checkpoint file. Layout (little-endian): magic "PCKP", version, next sequence, position,
/// committed shards (key, length, commit record location, extents), pending shards (key, extents), then a CRC32C
/// of everything before it. Written to a temporary file, synced, renamed over the old one and the directory
/// synced: a crash leaves the old checkpoint or the new one, and a damaged one is detected and ignored.
/// </summary>
/// <summary>A segment as a checkpoint records it.</summary>
internal readonly record struct SegmentInfo(int Id, long UsedLength, ulong MinSequence);

internal static class Checkpoint
{
    public const string FileName = "index.ckpt";
    private const string TempFileName = "index.ckpt.tmp";
    private const string UnusableFileName = "index.ckpt.unusable";
    private const uint Magic = 0x504B4350; // "PCKP"
    private const uint Version = 1;
    private const int ExtentSize = 32;

    public static string PathIn(string directory) => Path.Combine(directory, FileName);

    /// <summary>Writes <paramref name="snapshot"/> durably; returns the file size.</summary>
    public static long Write(string directory, CheckpointSnapshot snapshot)
    {
        string temp = Path.Combine(directory, TempFileName);
        long size;
        using (var writer = new CheckpointWriter(temp))
        {
            writer.U32(Magic);
            writer.U32(Version);
            writer.U64(snapshot.NextSequence);
            writer.I32(snapshot.Position.SegmentId);
            writer.I64(snapshot.Position.Offset);
            writer.I32(snapshot.Segments.Length);
            foreach (SegmentInfo segment in snapshot.Segments)
            {
                writer.I32(segment.Id);
                writer.I64(segment.UsedLength);
                writer.U64(segment.MinSequence);
            }

            writer.I32(snapshot.Committed.Length);
            writer.I32(snapshot.Pending.Length);
            foreach ((ShardKey key, CommittedShard shard) in snapshot.Committed)
            {
                writer.Key(key);
                writer.I64(shard.Length);
                writer.I32(shard.CommitSegmentId);
                writer.I64(shard.CommitOffset);
                writer.Extents(shard.Extents);
            }

            foreach ((ShardKey key, Extent[] extents) in snapshot.Pending)
            {
                writer.Key(key);
                writer.Extents(extents);
            }

            size = writer.Finish();
        }

        File.Move(temp, PathIn(directory), overwrite: true);
        DurableIo.SyncDirectory(directory);
        return size;
    }

    /// <summary>Loads the checkpoint; null (with the reason) when it is missing or fails any check.</summary>
    /// <summary>
    /// Moves a checkpoint that recovery could not use out of the way (to <c>index.ckpt.unusable</c>, for inspection),
    /// durably, before the WAL accepts writes. Records written from now on are numbered from the full replay, not
    /// from the checkpoint; a later open that could read it (the failure was a passing I/O error, or the segment it
    /// missed came back) would take its position and sequence over them and lose acknowledged commits and deletes.
    /// </summary>
    public static void SetAsideUnusable(string directory)
    {
        string path = PathIn(directory);
        if (File.Exists(path))
        {
            File.Move(path, Path.Combine(directory, UnusableFileName), overwrite: true);
            DurableIo.SyncDirectory(directory);
        }
    }

    public static CheckpointSnapshot? TryLoad(string directory, out string? problem)
    {
        string path = PathIn(directory);
        problem = null;
        if (!File.Exists(path))
        {
            problem = "missing";
            return null;
        }

        byte[] file;
        try
        {
            file = File.ReadAllBytes(path);
        }
        catch (IOException ex)
        {
            problem = ex.Message;
            return null;
        }

        if (file.Length < 40 + sizeof(uint)
            || Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, file.AsSpan(0, file.Length - 4)) != BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(file.Length - 4)))
        {
            problem = "checksum mismatch";
            return null;
        }

        try
        {
            var reader = new CheckpointReader(file.AsMemory(0, file.Length - 4));
            if (reader.U32() != Magic || reader.U32() != Version)
            {
                problem = "unknown format";
                return null;
            }

            ulong nextSequence = reader.U64();
            var position = new RecordLocation(reader.I32(), reader.I64());
            var segments = new SegmentInfo[reader.Count()];
            for (int i = 0; i < segments.Length; i++)
            {
                segments[i] = new SegmentInfo(reader.I32(), reader.I64(), reader.U64());
            }

            int committedCount = reader.Count();
            int pendingCount = reader.Count();
            var committed = new KeyValuePair<ShardKey, CommittedShard>[committedCount];
            for (int i = 0; i < committedCount; i++)
            {
                ShardKey key = reader.Key();
                long length = reader.I64();
                int commitSegment = reader.I32();
                long commitOffset = reader.I64();
                Extent[] extents = reader.Extents();
                long covered = 0;
                foreach (Extent extent in extents)
                {
                    if (extent.ShardOffset != covered)
                    {
                        throw new InvalidDataException($"shard {key} has a gap at {covered}");
                    }

                    covered = extent.End;
                }

                if (covered != length || commitSegment <= 0 || commitOffset < 0)
                {
                    throw new InvalidDataException($"shard {key} has {length} bytes but extents to {covered}");
                }

                committed[i] = new(key, new CommittedShard(length, extents, commitSegment, commitOffset));
            }

            var pending = new KeyValuePair<ShardKey, Extent[]>[pendingCount];
            for (int i = 0; i < pendingCount; i++)
            {
                ShardKey key = reader.Key();
                pending[i] = new(key, reader.Extents());
            }

            if (!reader.AtEnd)
            {
                throw new InvalidDataException("trailing bytes");
            }

            return new CheckpointSnapshot { NextSequence = nextSequence, Position = position, Segments = segments, Committed = committed, Pending = pending };
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or IndexOutOfRangeException)
        {
            problem = ex.Message;
            return null;
        }
    }

    /// <summary>Streams the file through one pooled buffer, hashing as it goes.</summary>
    private sealed class CheckpointWriter : IDisposable
    {
        private readonly FileStream _file;
        private readonly Crc32 _crc = new(Crc32ParameterSet.Crc32C);
        private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(1024 * 1024);
        private int _count;
        private long _written;

        public CheckpointWriter(string path)
        {
            _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        }

        public void U32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Take(4), value);

        public void I32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Take(4), value);

        public void U64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Take(8), value);

        public void I64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Take(8), value);

        public void Key(ShardKey key) => key.WriteTo(Take(ShardKey.Size));

        public void Extents(Extent[] extents)
        {
            I32(extents.Length);
            foreach (Extent extent in extents)
            {
                Span<byte> span = Take(ExtentSize);
                BinaryPrimitives.WriteInt64LittleEndian(span, extent.ShardOffset);
                BinaryPrimitives.WriteInt32LittleEndian(span[8..], extent.Length);
                BinaryPrimitives.WriteInt32LittleEndian(span[12..], extent.SegmentId);
                BinaryPrimitives.WriteInt64LittleEndian(span[16..], extent.RecordOffset);
                BinaryPrimitives.WriteInt32LittleEndian(span[24..], extent.PayloadLength);
                BinaryPrimitives.WriteInt32LittleEndian(span[28..], extent.PayloadSkip);
            }
        }

        public long Finish()
        {
            Flush();
            Span<byte> crc = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(crc, _crc.GetCurrentHashAsUInt32());
            _file.Write(crc);
            _file.Flush(flushToDisk: false);
            DurableIo.FlushData(_file.SafeFileHandle);
            return _written + 4;
        }

        public void Dispose()
        {
            _file.Dispose();
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        private Span<byte> Take(int size)
        {
            if (_count + size > _buffer.Length)
            {
                Flush();
            }

            Span<byte> span = _buffer.AsSpan(_count, size);
            _count += size;
            return span;
        }

        private void Flush()
        {
            _crc.Append(_buffer.AsSpan(0, _count));
            _file.Write(_buffer, 0, _count);
            _written += _count;
            _count = 0;
        }
    }

    private struct CheckpointReader(ReadOnlyMemory<byte> data)
    {
        private int _position;

        public readonly bool AtEnd => _position == data.Length;

        public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

        public int I32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

        public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        public ShardKey Key() => ShardKey.Read(Take(ShardKey.Size));

        public int Count()
        {
            int count = I32();
            if (count < 0 || count > data.Length)
            {
                throw new InvalidDataException($"impossible count {count}");
            }

            return count;
        }

        public Extent[] Extents()
        {
            int count = Count();
            var extents = new Extent[count];
            long expected = -1;
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<byte> span = Take(ExtentSize);
                var extent = new Extent(
                    BinaryPrimitives.ReadInt64LittleEndian(span),
                    BinaryPrimitives.ReadInt32LittleEndian(span[8..]),
                    BinaryPrimitives.ReadInt32LittleEndian(span[12..]),
                    BinaryPrimitives.ReadInt64LittleEndian(span[16..]),
                    BinaryPrimitives.ReadInt32LittleEndian(span[24..]),
                    BinaryPrimitives.ReadInt32LittleEndian(span[28..]));
                if (extent.Length <= 0 || extent.PayloadSkip < 0 || extent.PayloadSkip + extent.Length > extent.PayloadLength
                    || extent.ShardOffset < 0 || extent.ShardOffset < expected || extent.SegmentId <= 0 || extent.RecordOffset < 0)
                {
                    throw new InvalidDataException($"impossible extent {extent}");
                }

                expected = extent.End;
                extents[i] = extent;
            }

            return extents;
        }

        private ReadOnlySpan<byte> Take(int size)
        {
            if (_position + size > data.Length)
            {
                throw new InvalidDataException("truncated");
            }

            ReadOnlySpan<byte> span = data.Span.Slice(_position, size);
            _position += size;
            return span;
        }
    }
}
