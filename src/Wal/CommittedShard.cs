namespace Predastore.Wal;

/// <summary>
/// A readable shard: its length and the extents that hold [0, length), sorted, contiguous, non-overlapping.
/// Immutable, so a reader holding one needs no lock while a re-commit or delete replaces it in the index.
/// </summary>
internal sealed class CommittedShard
{
    public CommittedShard(long length, Extent[] extents)
    {
        WalInvariants.CheckExtents(extents, length);
        Length = length;
        Extents = extents;
    }

    public long Length { get; }

    public Extent[] Extents { get; }

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
}
