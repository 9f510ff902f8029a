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
}

/// <summary>
/// Rebuilds the index by replaying every segment in order, with the same rules as the live writer: data is
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
        var committed = new Dictionary<ShardKey, CommittedShard>();
        var pending = new Dictionary<ShardKey, ExtentMap>();
        ulong nextSequence = 0;
        long recordCount = 0;
        long tailLength = 0;
        try
        {
            for (int i = 0; i < ids.Count; i++)
            {
                Segment segment = Segment.OpenExisting(directory, ids[i]);
                segments.Add(segment);
                bool isLast = i == ids.Count - 1;
                long end = ReplaySegment(segment, isLast, committed, pending, ref nextSequence, ref recordCount, logger);
                if (isLast)
                {
                    tailLength = end;
                }
            }

            if (segments.Count == 0)
            {
                segments.Add(Segment.CreateNew(directory, 1));
                DurableIo.SyncDirectory(directory);
                WalLog.SegmentCreated(logger, segments[0].FileName);
            }

            DiscardPending(pending, logger);
            Segment tail = segments[^1];
            WalLog.Opened(
                logger,
                directory,
                segments.Count,
                recordCount,
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

    /// <summary>Replays one segment; returns the end of its last good record.</summary>
    private static long ReplaySegment(
        Segment segment,
        bool isLast,
        Dictionary<ShardKey, CommittedShard> committed,
        Dictionary<ShardKey, ExtentMap> pending,
        ref ulong nextSequence,
        ref long recordCount,
        ILogger logger)
    {
        long length = RandomAccess.GetLength(segment.Handle);
        using var scanner = new SegmentScanner(segment.Handle, length);
        long offset = 0;
        while (offset < length)
        {
            RecordDefect defect = scanner.TryReadRecord(offset, out RecordHeader header);
            if (defect != RecordDefect.None)
            {
                if (isLast)
                {
                    // Only the last segment can hold a torn write: the writer syncs a segment before it creates
                    // the next one. Whatever follows the first bad record was never acknowledged.
                    RandomAccess.SetLength(segment.Handle, offset);
                    segment.FlushData();
                    WalLog.TornTailTruncated(logger, segment.FileName, offset, defect, length - offset);
                }
                else
                {
                    // Damage in a sealed segment is not a crash artefact; keep the bytes for inspection. Shards
                    // that lose data here fail their commit check below and are dropped, never served wrong.
                    WalLog.SegmentRestSkipped(logger, segment.FileName, offset, defect, length - offset);
                }

                return offset;
            }

            Apply(header, segment, offset, committed, pending, logger);
            nextSequence = Math.Max(nextSequence, header.Sequence + 1);
            recordCount++;
            offset += header.RecordSize;
        }

        return offset;
    }

    private static void Apply(
        RecordHeader header,
        Segment segment,
        long offset,
        Dictionary<ShardKey, CommittedShard> committed,
        Dictionary<ShardKey, ExtentMap> pending,
        ILogger logger)
    {
        ShardKey key = header.Key;
        switch (header.Type)
        {
            case RecordType.Data:
                if (!pending.TryGetValue(key, out ExtentMap? map))
                {
                    map = new ExtentMap();
                    pending.Add(key, map);
                }

                map.Insert(new Extent(header.Value, header.PayloadLength, segment.Id, offset, header.PayloadLength, 0));
                break;

            case RecordType.Commit:
                long shardLength = header.Value;
                pending.Remove(key, out ExtentMap? data);
                long covered = data?.CoveredPrefix() ?? 0;
                if (covered >= shardLength)
                {
                    committed[key] = new CommittedShard(shardLength, data?.ToCommitted(shardLength) ?? []);
                }
                else
                {
                    // The writer only writes covered commits, so data was lost (a skipped corrupt region).
                    // Serving an older version under this key would be wrong; drop it and let the gateway
                    // rebuild the shard from the others.
                    committed.Remove(key);
                    WalLog.RecoveredCommitNotCovered(logger, key, shardLength, segment.FileName, offset, covered);
                }

                break;

            case RecordType.Tombstone:
                committed.Remove(key);
                pending.Remove(key);
                break;

            default:
                throw new UnreachableException($"Record type {header.Type} passed the header check.");
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
        }

        WalLog.UncommittedShardsDiscarded(logger, pending.Count, extents);
    }
}
