using System.Diagnostics;

namespace Predastore.Wal;

/// <summary>
/// The data appended for one uncommitted shard: sorted, non-overlapping extents. Where appends overlap (a resent
/// cell), the later one wins, the same rule on the live path and on replay, so recovery rebuilds what was served.
/// </summary>
/// <remarks>
/// Not thread-safe: the owner (the WAL's index lock, or recovery) serialises access.
/// Pooled process-wide, like <see cref="WriteRequest"/>: a returned map keeps its list's capacity, so in steady
/// state (uploads that commit, each taking a map an earlier one returned) an append grows nothing and allocates
/// nothing. The pool never holds more than was once pending at the same time, nor more than
/// <see cref="MaxPooledExtents"/> extents of capacity in all.
/// </remarks>
internal sealed class ExtentMap
{
    // 8 MiB of lists: e.g. 64 uploads' worth of 256 MiB shards in 64 KiB records. Past that, the GC takes them.
    private const int MaxPooledExtents = 256 * 1024;

    // The pooled maps and the total capacity of their lists, both guarded by locking s_pool.
    private static readonly Stack<ExtentMap> s_pool = new();
    private static int s_pooledExtents;

    private readonly List<Extent> _extents = [];

    private ExtentMap()
    {
    }

    public int Count => _extents.Count;

    /// <summary>An empty map, from the pool when it has one.</summary>
    public static ExtentMap Rent()
    {
        lock (s_pool)
        {
            if (s_pool.TryPop(out ExtentMap? map))
            {
                s_pooledExtents -= map._extents.Capacity;
                return map;
            }
        }

        return new ExtentMap();
    }

    /// <summary>
    /// Gives back a map that nothing references any more: its shard was committed, deleted, abandoned or discarded.
    /// </summary>
    public static void Return(ExtentMap map)
    {
        map._extents.Clear();
        int capacity = map._extents.Capacity;
        lock (s_pool)
        {
            if (s_pooledExtents + capacity <= MaxPooledExtents)
            {
                s_pool.Push(map);
                s_pooledExtents += capacity;
            }
        }
    }

    /// <summary>A copy of the extents, for a checkpoint.</summary>
    public Extent[] ToArray() => [.. _extents];

    /// <summary>Restores a map saved by <see cref="ToArray"/> (sorted, non-overlapping).</summary>
    public static ExtentMap FromSorted(Extent[] extents)
    {
        ExtentMap map = Rent();
        map._extents.AddRange(extents);
        return map;
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

    /// <summary>
    /// The extents of a shard of <paramref name="length"/> bytes, the caller having checked the coverage: the one
    /// allocation of a commit, and the shard's index from then on.
    /// </summary>
    public Extent[] ToCommitted(long length)
    {
        Debug.Assert(CoveredPrefix() >= length);
        int count = 0;
        while (count < _extents.Count && _extents[count].ShardOffset < length)
        {
            count++;
        }

        var extents = new Extent[count];
        _extents.CopyTo(0, extents, 0, count);

        // Bytes appended past the committed length are not part of the shard.
        if (count > 0 && extents[^1].End > length)
        {
            extents[^1] = extents[^1].Slice(extents[^1].ShardOffset, length);
        }

        WalInvariants.CheckExtents(extents, length);
        return extents;
    }
}
