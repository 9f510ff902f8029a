namespace Predastore.Benchmarks.Encode;

/// <summary>One stripe shape of the codec suites: RS(K, M) with cells of <see cref="CellBytes"/>.</summary>
/// <remarks>Public, with a short <see cref="ToString"/>: BenchmarkDotNet shows it as the parameter value.</remarks>
public sealed class CodecCase
{
    public CodecCase(int dataShards, int parityShards, int cellBytes)
    {
        DataShards = dataShards;
        ParityShards = parityShards;
        CellBytes = cellBytes;
    }

    public int DataShards { get; }

    public int ParityShards { get; }

    public int CellBytes { get; }

    /// <summary>The bytes every figure is per: the data shards read (encode and reconstruct alike).</summary>
    public long DataBytes => (long)DataShards * CellBytes;

    /// <summary>The ten shapes of issue 3: five codes, 64 KiB and 1 MiB cells.</summary>
    public static IEnumerable<CodecCase> All()
    {
        (int K, int M)[] codes = [(2, 1), (3, 2), (4, 2), (8, 3), (10, 4)];
        foreach ((int k, int m) in codes)
        {
            yield return new CodecCase(k, m, 64 * 1024);
            yield return new CodecCase(k, m, 1024 * 1024);
        }
    }

    public override string ToString() =>
        $"RS({DataShards},{ParityShards})/{(CellBytes >= 1024 * 1024 ? $"{CellBytes >> 20}MiB" : $"{CellBytes >> 10}KiB")}";
}
