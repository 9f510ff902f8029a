using System.Diagnostics;

namespace Predastore.Wal;

/// <summary>
/// Checks compiled into the Validate configuration only (they cost a pass over the extents per commit).
/// </summary>
internal static class WalInvariants
{
    /// <summary>A committed shard's extents cover [0, length) exactly, in order, without overlap.</summary>
    [Conditional("VALIDATE")]
    public static void CheckExtents(Extent[] extents, long length)
    {
        long expected = 0;
        foreach (Extent extent in extents)
        {
            if (extent.ShardOffset != expected || extent.Length <= 0
                || extent.PayloadSkip < 0 || extent.PayloadSkip + extent.Length > extent.PayloadLength)
            {
                throw new InvalidOperationException($"Extent {extent} breaks the cover of a shard of {length} bytes at {expected}.");
            }

            expected = extent.End;
        }

        if (expected != length)
        {
            throw new InvalidOperationException($"Extents cover {expected} bytes of a shard of {length} bytes.");
        }
    }

    /// <summary>Invariant 4: a segment never grows past its limit, headers included.</summary>
    [Conditional("VALIDATE")]
    public static void CheckSegmentLength(long length, long segmentSize)
    {
        if (length > segmentSize)
        {
            throw new InvalidOperationException($"A segment grew to {length} bytes, past its limit of {segmentSize}.");
        }
    }
}
