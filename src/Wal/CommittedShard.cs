namespace Predastore.Wal;

/// <summary>
/// A readable shard: its length and the extents that hold [0, length), sorted, contiguous, non-overlapping, and
/// where its commit record is (compaction must keep that record while the shard lives). Immutable, so a reader
/// holding one needs no lock while a re-commit, delete or compaction replaces it in the index.
/// </summary>
internal sealed class CommittedShard
{
    public CommittedShard(long length, Extent[] extents, int commitSegmentId, long commitOffset)
    {
        WalInvariants.CheckExtents(extents, length);
        Length = length;
        Extents = extents;
        CommitSegmentId = commitSegmentId;
        CommitOffset = commitOffset;
    }

    public long Length { get; }

    public Extent[] Extents { get; }

    public int CommitSegmentId { get; }

    public long CommitOffset { get; }

    /// <summary>The index of the extent holding byte <paramref name="shardOffset"/> (which is below <see cref="Length"/>).</summary>
    public int FindExtent(long shardOffset)
    {
        int low = 0;
        int high = Extents.Length - 1;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (Extents[middle].End <= shardOffset)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    /// <summary>
    /// This shard with the records of <paramref name="fromSegment"/> named in <paramref name="moves"/> (old record
    /// offset → new location) moved; null when the shard uses none of them.
    /// </summary>
    public CommittedShard? Relocate(int fromSegment, Dictionary<long, RecordLocation> moves)
    {
        int commitSegment = CommitSegmentId;
        long commitOffset = CommitOffset;
        bool changed = false;
        if (commitSegment == fromSegment && moves.TryGetValue(commitOffset, out RecordLocation commitTo))
        {
            (commitSegment, commitOffset, changed) = (commitTo.SegmentId, commitTo.Offset, true);
        }

        Extent[]? moved = null;
        for (int i = 0; i < Extents.Length; i++)
        {
            Extent extent = Extents[i];
            if (extent.SegmentId == fromSegment && moves.TryGetValue(extent.RecordOffset, out RecordLocation to))
            {
                moved ??= (Extent[])Extents.Clone();
                moved[i] = extent with { SegmentId = to.SegmentId, RecordOffset = to.Offset };
                changed = true;
            }
        }

        return changed ? new CommittedShard(Length, moved ?? Extents, commitSegment, commitOffset) : null;
    }
}

/// <summary>Where a record starts: segment id and byte offset in it.</summary>
internal readonly record struct RecordLocation(int SegmentId, long Offset);
