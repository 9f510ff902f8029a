using System.Diagnostics;

namespace Predastore.Wal;

/// <summary>
/// The data appended for one uncommitted shard: sorted, non-overlapping extents. Where appends overlap (a resent
/// cell), the later one wins, the same rule on the live path and on replay, so recovery rebuilds what was served.
/// </summary>
/// <remarks>Not thread-safe: the owner (the WAL's index lock, or recovery) serialises access.</remarks>
internal sealed class ExtentMap
{
    private readonly List<Extent> _extents = [];

    public int Count => _extents.Count;

    /// <summary>A copy of the extents, for a checkpoint.</summary>
    public Extent[] ToArray() => [.. _extents];

    /// <summary>Restores a map saved by <see cref="ToArray"/> (sorted, non-overlapping).</summary>
    public static ExtentMap FromSorted(Extent[] extents)
    {
        var map = new ExtentMap();
        map._extents.AddRange(extents);
        return map;
    }

    /// <summary>True when any extent lives in segment <paramref name="segmentId"/>.</summary>
    public bool UsesSegment(int segmentId)
    {
        foreach (Extent extent in _extents)
        {
            if (extent.SegmentId == segmentId)
            {
                return true;
            }
        }

        return false;
    }

    public void Insert(Extent extent)
    {
        // Uploads append in shard order, so almost every insert lands past the end.
        if (_extents.Count == 0 || _extents[^1].End <= extent.ShardOffset)
        {
            _extents.Add(extent);
            return;
        }

        // Ends are sorted too (no overlaps), so search for the first extent that ends after the new one starts.
        int low = 0;
        int high = _extents.Count;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (_extents[middle].End <= extent.ShardOffset)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        int first = low;
        int last = first;
        Extent? left = null;
        Extent? right = null;
        while (last < _extents.Count && _extents[last].ShardOffset < extent.End)
        {
            Extent old = _extents[last];
            if (old.ShardOffset < extent.ShardOffset)
            {
                left = old.Slice(old.ShardOffset, extent.ShardOffset);
            }

            if (old.End > extent.End)
            {
                right = old.Slice(extent.End, old.End);
            }

            last++;
        }

        _extents.RemoveRange(first, last - first);
        int at = first;
        if (left is { } l)
        {
            _extents.Insert(at++, l);
        }

        _extents.Insert(at++, extent);
        if (right is { } r)
        {
            _extents.Insert(at, r);
        }
    }

    /// <summary>How far from 0 the extents cover the shard without a gap.</summary>
    public long CoveredPrefix()
    {
        long covered = 0;
        foreach (Extent extent in _extents)
        {
            if (extent.ShardOffset > covered)
            {
                break;
            }

            covered = Math.Max(covered, extent.End);
        }

        return covered;
    }

    /// <summary>The extents of a shard of <paramref name="length"/> bytes; the caller checked the coverage.</summary>
    public Extent[] ToCommitted(long length)
    {
        Debug.Assert(CoveredPrefix() >= length);
        var result = new List<Extent>(_extents.Count);
        foreach (Extent extent in _extents)
        {
            if (extent.ShardOffset >= length)
            {
                break;
            }

            // Bytes appended past the committed length are not part of the shard.
            result.Add(extent.End > length ? extent.Slice(extent.ShardOffset, length) : extent);
        }

        Extent[] extents = [.. result];
        WalInvariants.CheckExtents(extents, length);
        return extents;
    }
}
