using System.Diagnostics;

namespace Predastore.Wal;

/// <summary>
/// Bytes [<see cref="ShardOffset"/>, <see cref="End"/>) of a shard, held by one data record: the payload of the
/// record at <see cref="RecordOffset"/> in segment <see cref="SegmentId"/>, starting <see cref="PayloadSkip"/>
/// bytes in. The whole record's size is kept because a read must check the CRC of the whole record.
/// </summary>
internal readonly record struct Extent(
    long ShardOffset,
    int Length,
    int SegmentId,
    long RecordOffset,
    int PayloadLength,
    int PayloadSkip)
{
    public long End => ShardOffset + Length;

    /// <summary>The part of this extent in [<paramref name="start"/>, <paramref name="end"/>) of the shard.</summary>
    public Extent Slice(long start, long end)
    {
        Debug.Assert(start >= ShardOffset && end <= End && start < end);
        return this with
        {
            ShardOffset = start,
            Length = checked((int)(end - start)),
            PayloadSkip = PayloadSkip + checked((int)(start - ShardOffset)),
        };
    }
}
