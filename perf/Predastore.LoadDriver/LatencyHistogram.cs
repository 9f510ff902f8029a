using System.Numerics;

namespace Predastore.LoadDriver;

/// <summary>
/// Latencies in microseconds in log-linear buckets: values below 32 exactly, above that 32 buckets per power of two
/// (at most 3% relative error), up to about 12 days. Not thread-safe: <see cref="OperationStats"/> locks around it.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBits = 5;
    private const int Sub = 1 << SubBits;
    private const int Buckets = Sub + (40 - SubBits) * Sub;

    private readonly long[] _counts = new long[Buckets];

    public long Count { get; private set; }

    public long Max { get; private set; }

    public long Sum { get; private set; }

    public void Record(long micros)
    {
        micros = Math.Max(0, micros);
        _counts[Index(micros)]++;
        Count++;
        Sum += micros;
        Max = Math.Max(Max, micros);
    }

    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < Buckets; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Sum += other.Sum;
        Max = Math.Max(Max, other.Max);
    }

    public void Clear()
    {
        Array.Clear(_counts);
        Count = 0;
        Sum = 0;
        Max = 0;
    }

    /// <summary>The smallest bucket value at or below which <paramref name="percentile"/>% of the samples lie (µs).</summary>
    public long Percentile(double percentile)
    {
        if (Count == 0)
        {
            return 0;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(percentile / 100.0 * Count));
        long seen = 0;
        for (int i = 0; i < Buckets; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(Max, HighestEquivalent(i));
            }
        }

        return Max;
    }

    internal static int Index(long value)
    {
        if (value < Sub)
        {
            return (int)value;
        }

        int exponent = 63 - BitOperations.LeadingZeroCount((ulong)value);
        int shift = exponent - SubBits;
        int index = Sub + (shift * Sub) + (int)((value >> shift) & (Sub - 1));
        return Math.Min(index, Buckets - 1);
    }

    internal static long HighestEquivalent(int index)
    {
        if (index < Sub)
        {
            return index;
        }

        int shift = (index - Sub) / Sub;
        long low = (long)(Sub + ((index - Sub) % Sub)) << shift;
        return low + (1L << shift) - 1;
    }
}
