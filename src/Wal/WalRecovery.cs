using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Predastore.Wal;

/// <summary>What <see cref="WalRecovery"/> hands to a new <see cref="WriteAheadLog"/>.</summary>
internal sealed class RecoveredState
{
    public required List<Segment> Segments { get; init; }

    public required Dictionary<ShardKey, CommittedShard> Committed { get; init; }

    /// <summary>The last segment, which new records are appended to.</summary>
    public required Segment Tail { get; init; }

    public required long TailLength { get; init; }

    public required ulong NextSequence { get; init; }

    /// <summary>True when the tail segment has its space reserved (false where fallocate is unavailable).</summary>
    public required bool Preallocated { get; init; }
}

/// <summary>
/// Rebuilds the index: loads the checkpoint when it is sound and replays the records after it, or replays every
/// segment when it is missing or damaged. Replay applies records in sequence order (compaction copies records
/// verbatim into newer segments, so segment order is not write order), with the live writer's rules: data is
/// pending, a commit that covers [0, length) makes the pending data the shard, a tombstone removes both.
/// </summary>
internal static class WalRecovery
{
    public static RecoveredState Recover(WalOptions options, ILogger logger)
    {
        long started = Stopwatch.GetTimestamp();
        string directory = options.Directory;
        var ids = new List<int>();
        foreach (string path in Directory.EnumerateFiles(directory, "*.seg"))
        {
            if (Segment.TryParseId(Path.GetFileName(path), out int id))
            {
                ids.Add(id);
            }
        }

        ids.Sort();
        var segments = new List<Segment>(ids.Count + 1);
        try
        {
            foreach (int id in ids)
            {
                segments.Add(Segment.OpenExisting(directory, id));
            }

            CheckpointSnapshot? checkpoint = LoadCheckpoint(directory, segments, logger);
            var committed = new Dictionary<ShardKey, CommittedShard>();
            var pending = new Dictionary<ShardKey, ExtentMap>();
            RecordLocation start = segments.Count > 0 ? new RecordLocation(segments[0].Id, 0) : default;
            ulong checkpointSequence = 0;
            Dictionary<int, SegmentInfo> known = [];
            if (checkpoint is not null)
            {
                foreach ((ShardKey key, CommittedShard shard) in checkpoint.Committed)
                {
                    committed[key] = shard;
                }

                foreach ((ShardKey key, Extent[] extents) in checkpoint.Pending)
                {
                    pending[key] = ExtentMap.FromSorted(extents);
                }

                foreach (SegmentInfo info in checkpoint.Segments)
                {
                    known[info.Id] = info;
                }

                start = checkpoint.Position;
                checkpointSequence = checkpoint.NextSequence;
            }

            // Scan what the checkpoint does not cover; segments wholly before it only need their figures.
            var records = new List<ScannedRecord>();
            ulong nextSequence = checkpointSequence;
            long tailLength = 0;
            for (int i = 0; i < segments.Count; i++)
            {
                Segment segment = segments[i];
                bool isLast = i == segments.Count - 1;
                if (segment.Id < start.SegmentId && known.TryGetValue(segment.Id, out SegmentInfo info))
                {
                    segment.UsedLength = info.UsedLength;
                    segment.NoteSequence(info.MinSequence);
                    continue;
                }

                long from = 0;
                if (segment.Id == start.SegmentId && known.TryGetValue(segment.Id, out SegmentInfo startInfo))
                {
                    segment.NoteSequence(startInfo.MinSequence);
                    from = start.Offset;
                }

                long end = ScanSegment(segment, from, isLast, checkpointSequence, records, ref nextSequence, logger);
                segment.UsedLength = end;
                if (isLast)
                {
                    tailLength = end;
                }
            }

            bool preallocated;
            if (segments.Count == 0)
            {
                segments.Add(Segment.CreateNew(directory, 1));
                preallocated = options.PreallocateSegments && segments[0].Preallocate(options.SegmentSize);
                DurableIo.SyncDirectory(directory);
                WalLog.SegmentCreated(logger, segments[0].FileName);
            }
            else
            {
                preallocated = PrepareTail(segments[^1], options.PreallocateSegments ? options.SegmentSize : 0, logger);
            }

            Replay(records, committed, pending, logger);
            DiscardPending(pending, logger);
            Segment tail = segments[^1];
            WalLog.Opened(
                logger,
                directory,
                segments.Count,
                records.Count,
                committed.Count,
                tail.FileName,
                tailLength,
                (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return new RecoveredState
            {
                Segments = segments,
                Committed = committed,
                Tail = tail,
                TailLength = tailLength,
                NextSequence = nextSequence,
                Preallocated = preallocated,
            };
        }
        catch
        {
            foreach (Segment segment in segments)
            {
                segment.Dispose();
            }

            throw;
        }
    }

    /// <summary>The checkpoint, when it is sound and every segment it points into still exists.</summary>
    private static CheckpointSnapshot? LoadCheckpoint(string directory, List<Segment> segments, ILogger logger)
    {
        CheckpointSnapshot? checkpoint = Checkpoint.TryLoad(directory, out string? problem);
        if (checkpoint is not null)
        {
            var present = segments.Select(s => s.Id).ToHashSet();
            int missing = FindMissingSegment(checkpoint, present);
            if (missing != 0)
            {
                problem = $"it refers to segment {Segment.FileNameOf(missing)}, which does not exist";
                checkpoint = null;
            }
        }

        if (checkpoint is null)
        {
            if (segments.Count > 0)
            {
                WalLog.CheckpointUnusable(logger, problem ?? "unknown");
            }

            Checkpoint.SetAsideUnusable(directory);
        }
        else
        {
            WalLog.CheckpointLoaded(logger, checkpoint.Committed.Length, Segment.FileNameOf(checkpoint.Position.SegmentId), checkpoint.Position.Offset);
        }

        return checkpoint;
    }

    private static int FindMissingSegment(CheckpointSnapshot checkpoint, HashSet<int> present)
    {
        if (!present.Contains(checkpoint.Position.SegmentId))
        {
            return checkpoint.Position.SegmentId;
        }

        foreach ((ShardKey _, CommittedShard shard) in checkpoint.Committed)
        {
            if (!present.Contains(shard.CommitSegmentId))
            {
                return shard.CommitSegmentId;
            }

            foreach (Extent extent in shard.Extents)
            {
                if (!present.Contains(extent.SegmentId))
                {
                    return extent.SegmentId;
                }
            }
        }

        foreach ((ShardKey _, Extent[] extents) in checkpoint.Pending)
        {
            foreach (Extent extent in extents)
            {
                if (!present.Contains(extent.SegmentId))
                {
                    return extent.SegmentId;
                }
            }
        }

        return 0;
    }

    /// <summary>
    /// Scans one segment from <paramref name="from"/>, collecting records at or after
    /// <paramref name="checkpointSequence"/>; returns the end of its last good record.
    /// </summary>
    private static long ScanSegment(
        Segment segment,
        long from,
        bool isLast,
        ulong checkpointSequence,
        List<ScannedRecord> records,
        ref ulong nextSequence,
        ILogger logger)
    {
        long length = RandomAccess.GetLength(segment.Handle);
        using var scanner = new SegmentScanner(segment.Handle, length);
        long offset = from;
        RecordDefect defect = RecordDefect.EndOfData;
        while (offset < length)
        {
            defect = scanner.TryReadRecord(offset, out RecordHeader header);
            if (defect != RecordDefect.None)
            {
                break;
            }

            segment.NoteSequence(header.Sequence);
            if (header.Sequence >= checkpointSequence)
            {
                records.Add(new ScannedRecord(header, segment.Id, offset));
                nextSequence = Math.Max(nextSequence, header.Sequence + 1);
            }

            offset += header.RecordSize;
            defect = RecordDefect.EndOfData;
        }

        if (isLast)
        {
            // Only the last segment can hold a torn write: the writer syncs a segment before it creates the next
            // one. Whatever follows the last good record was never acknowledged; PrepareTail cuts it off.
            long dropped = scanner.NonZeroBytesFrom(offset);
            if (dropped > 0)
            {
                WalLog.TornTailTruncated(logger, segment.FileName, offset, defect == RecordDefect.EndOfData ? RecordDefect.BadMagic : defect, dropped);
            }
        }
        else if (defect != RecordDefect.EndOfData)
        {
            // Damage in a sealed segment is not a crash artefact; keep the bytes for inspection. Shards that lose
            // data here fail their commit check in replay and are dropped, never served wrong.
            WalLog.SegmentRestSkipped(logger, segment.FileName, offset, defect, length - offset);
        }

        return offset;
    }

    /// <summary>Cuts the tail segment after its last record and reserves its space again.</summary>
    private static bool PrepareTail(Segment tail, long segmentSize, ILogger logger)
    {
        try
        {
            RandomAccess.SetLength(tail.Handle, tail.UsedLength);
            bool preallocated = tail.Preallocate(segmentSize);
            tail.FlushData();
            return preallocated;
        }
        catch (IOException ex) when ((ex.HResult & 0xFFFF) == DurableIo.Enospc)
        {
            // A full disk must not stop the node from serving reads: open without the reservation; the next write
            // that needs space fails with ENOSPC.
            WalLog.PreallocationFailed(logger, tail.FileName, ex);
            tail.FlushData();
            return false;
        }
    }

    private static void Replay(
        List<ScannedRecord> records,
        Dictionary<ShardKey, CommittedShard> committed,
        Dictionary<ShardKey, ExtentMap> pending,
        ILogger logger)
    {
        // Sequence order is write order. The same sequence number twice is a record and its compaction copy
        // (identical bytes); the copy in the newer segment wins, as the live index would have it.
        records.Sort(static (a, b) =>
        {
            int bySequence = a.Sequence.CompareTo(b.Sequence);
            return bySequence != 0 ? bySequence : b.SegmentId.CompareTo(a.SegmentId);
        });

        // A commit whose data did not survive matters only if it is still the shard's last word at the end.
        Dictionary<ShardKey, ScannedRecord> uncovered = [];
        ulong previous = ulong.MaxValue;
        foreach (ScannedRecord record in records)
        {
            if (record.Sequence == previous)
            {
                continue;
            }

            previous = record.Sequence;
            ShardKey key = record.Key;
            switch (record.Type)
            {
                case RecordType.Data:
                    if (!pending.TryGetValue(key, out ExtentMap? map))
                    {
                        map = ExtentMap.Rent();
                        pending.Add(key, map);
                    }

                    map.Insert(new Extent(record.Value, record.PayloadLength, record.SegmentId, record.Offset, record.PayloadLength, 0));
                    break;

                case RecordType.Commit:
                    long shardLength = record.Value;
                    pending.Remove(key, out ExtentMap? data);
                    long covered = data?.CoveredPrefix() ?? 0;
                    if (covered >= shardLength)
                    {
                        committed[key] = new CommittedShard(shardLength, data?.ToCommitted(shardLength) ?? [], record.SegmentId, record.Offset);
                        uncovered.Remove(key);
                    }
                    else
                    {
                        // The writer only writes covered commits, so data was lost (a skipped corrupt region).
                        // Serving an older version under this key would be wrong; drop it and let the gateway
                        // rebuild the shard from the others.
                        committed.Remove(key);
                        uncovered[key] = record with { PayloadLength = checked((int)Math.Min(covered, int.MaxValue)) };
                    }

                    if (data is not null)
                    {
                        ExtentMap.Return(data);
                    }

                    break;

                case RecordType.Tombstone:
                    committed.Remove(key);
                    if (pending.Remove(key, out ExtentMap? dropped))
                    {
                        ExtentMap.Return(dropped);
                    }

                    uncovered.Remove(key);
                    break;

                default:
                    throw new UnreachableException($"Record type {record.Type} passed the header check.");
            }
        }

        foreach ((ShardKey key, ScannedRecord commit) in uncovered)
        {
            WalLog.RecoveredCommitNotCovered(logger, key, commit.Value, Segment.FileNameOf(commit.SegmentId), commit.Offset, commit.PayloadLength);
        }
    }

    private static void DiscardPending(Dictionary<ShardKey, ExtentMap> pending, ILogger logger)
    {
        if (pending.Count == 0)
        {
            return;
        }

        long extents = 0;
        foreach ((ShardKey key, ExtentMap map) in pending)
        {
            extents += map.Count;
            WalLog.UncommittedShardDiscarded(logger, key, map.Count);
            ExtentMap.Return(map);
        }

        WalLog.UncommittedShardsDiscarded(logger, pending.Count, extents);
        pending.Clear();
    }

    /// <summary>What replay needs of one record; the payload stays on disk.</summary>
    private readonly record struct ScannedRecord(ulong Sequence, RecordType Type, ShardKey Key, long Value, int PayloadLength, int SegmentId, long Offset)
    {
        public ScannedRecord(RecordHeader header, int segmentId, long offset)
            : this(header.Sequence, header.Type, header.Key, header.Value, header.PayloadLength, segmentId, offset)
        {
        }
    }
}
