using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Predastore.Benchmarks.Encode;

/// <summary>
/// Adds the codec figures to a suite's summary: GB/s of data shards in (from the median), and ratios to memcpy,
/// ISA-L and the anchor figures, each taken from benchmarks of the same run on the same buffers.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class CodecColumnsAttribute : Attribute, IConfigSource
{
    public IConfig Config { get; } = ManualConfig.CreateEmpty()
        .AddColumn(
            new CodecColumn(CodecColumnKind.GigabytesPerSecond),
            new CodecColumn(CodecColumnKind.VersusMemcpy),
            new CodecColumn(CodecColumnKind.VersusIsaL),
            new CodecColumn(CodecColumnKind.VersusAnchor),
            new CodecColumn(CodecColumnKind.VersusScalar));
}

internal enum CodecColumnKind
{
    GigabytesPerSecond,
    VersusMemcpy,
    VersusIsaL,
    VersusAnchor,
    VersusScalar,
}

/// <summary>One figure per benchmark; a ratio is "ours ÷ theirs" in GB/s, so above 1 means faster than them.</summary>
internal sealed class CodecColumn : IColumn
{
    private readonly CodecColumnKind _kind;

    public CodecColumn(CodecColumnKind kind) => _kind = kind;

    public string Id => $"{nameof(CodecColumn)}.{_kind}";

    public string ColumnName => _kind switch
    {
        CodecColumnKind.GigabytesPerSecond => "GB/s",
        CodecColumnKind.VersusMemcpy => "÷memcpy",
        CodecColumnKind.VersusIsaL => "÷ISA-L",
        CodecColumnKind.VersusAnchor => "÷anchor",
        _ => "÷scalar",
    };

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => (int)_kind;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => _kind switch
    {
        CodecColumnKind.GigabytesPerSecond => "10^9 bytes of data shards in per second, from the median",
        CodecColumnKind.VersusMemcpy => "GB/s ÷ GB/s of Span.CopyTo over the same data bytes, same run",
        CodecColumnKind.VersusIsaL => "GB/s ÷ GB/s of Debian's ISA-L (libisal2) doing the same operation, same run",
        CodecColumnKind.VersusAnchor => "GB/s ÷ the best of ISA-L 2.32 and klauspost/reedsolomon 1.12 (GFNI) on Zen 5, issue 3",
        _ => "GB/s ÷ GB/s of the scalar kernel, same run",
    };

    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(b => GetCase(b) is not null && Matters(summary, b));

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? figure = Figure(summary, benchmarkCase);
        return figure is null ? "-" : figure.Value.ToString(_kind == CodecColumnKind.GigabytesPerSecond ? "F1" : "F2", style.CultureInfo);
    }

    public override string ToString() => ColumnName;

    /// <summary>GB/s of data shards in, from the median; null when the benchmark did not run.</summary>
    internal static double? GigabytesPerSecond(Summary summary, BenchmarkCase benchmarkCase)
    {
        CodecCase? shape = GetCase(benchmarkCase);
        double? median = summary[benchmarkCase]?.ResultStatistics?.Median;
        return shape is null || median is null or <= 0 ? null : shape.DataBytes / median.Value;
    }

    private static CodecCase? GetCase(BenchmarkCase benchmarkCase) =>
        benchmarkCase.Parameters.Items.Select(p => p.Value).OfType<CodecCase>().FirstOrDefault();

    private static string MethodName(BenchmarkCase benchmarkCase) => benchmarkCase.Descriptor.WorkloadMethod.Name;

    private static bool IsOurs(string method) => method != "Memcpy" && !method.EndsWith("IsaL", StringComparison.Ordinal);

    private bool Matters(Summary summary, BenchmarkCase benchmarkCase) => _kind switch
    {
        CodecColumnKind.GigabytesPerSecond => true,
        CodecColumnKind.VersusScalar => Kernel(benchmarkCase) is not null,
        CodecColumnKind.VersusAnchor => Kernel(benchmarkCase) is null && GetCase(benchmarkCase) is { } shape
            && CodecAnchors.Find(shape, MethodName(benchmarkCase)) is not null,
        _ => Kernel(benchmarkCase) is null,
    };

    private static string? Kernel(BenchmarkCase benchmarkCase) =>
        benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Kernel")?.Value?.ToString();

    private double? Figure(Summary summary, BenchmarkCase benchmarkCase)
    {
        double? ours = GigabytesPerSecond(summary, benchmarkCase);
        CodecCase? shape = GetCase(benchmarkCase);
        if (ours is null || shape is null)
        {
            return null;
        }

        string method = MethodName(benchmarkCase);
        switch (_kind)
        {
            case CodecColumnKind.GigabytesPerSecond:
                return ours;
            case CodecColumnKind.VersusAnchor:
                double? anchor = Kernel(benchmarkCase) is null ? CodecAnchors.Find(shape, method) : null;
                return anchor is null ? null : ours / anchor;
            case CodecColumnKind.VersusMemcpy:
                return Ratio(ours.Value, Find(summary, shape, "Memcpy", null));
            case CodecColumnKind.VersusIsaL:
                return IsOurs(method) ? Ratio(ours.Value, Find(summary, shape, method + "IsaL", null)) : null;
            default:
                string? kernel = Kernel(benchmarkCase);
                return kernel is null ? null : Ratio(ours.Value, Find(summary, shape, method, "Scalar"));
        }

        double? Ratio(double value, BenchmarkCase? reference)
        {
            double? theirs = reference is null ? null : GigabytesPerSecond(summary, reference);
            return theirs is null ? null : value / theirs;
        }
    }

    // The same shape and method in any suite of the run (the summaries are joined), optionally with a given kernel.
    private static BenchmarkCase? Find(Summary summary, CodecCase shape, string method, string? kernel) =>
        summary.BenchmarksCases.FirstOrDefault(b =>
            MethodName(b) == method
            && GetCase(b)?.ToString() == shape.ToString()
            && Kernel(b) == kernel);
}

/// <summary>The reference figures (GB/s): the best of ISA-L 2.32 and klauspost/reedsolomon 1.12, GFNI, Zen 5.</summary>
internal static class CodecAnchors
{
    private static readonly Dictionary<string, (double Encode, double Reconstruct1, double? Reconstruct2)> s_figures = new()
    {
        ["RS(2,1)/64KiB"] = (143.6, 135.7, null),
        ["RS(2,1)/1MiB"] = (74.7, 74.2, null),
        ["RS(3,2)/64KiB"] = (114.4, 151.0, 105.6),
        ["RS(3,2)/1MiB"] = (70.8, 82.2, 70.9),
        ["RS(4,2)/64KiB"] = (125.5, 141.3, 116.4),
        ["RS(4,2)/1MiB"] = (77.2, 94.0, 77.7),
        ["RS(8,3)/64KiB"] = (137.0, 187.2, 149.1),
        ["RS(8,3)/1MiB"] = (92.7, 113.3, 100.4),
        ["RS(10,4)/64KiB"] = (97.8, 175.6, 144.2),
        ["RS(10,4)/1MiB"] = (82.5, 112.9, 105.0),
    };

    public static double? Find(CodecCase shape, string method) =>
        s_figures.TryGetValue(shape.ToString(), out var row)
            ? method switch
            {
                "Encode" => row.Encode,
                "Reconstruct1" => row.Reconstruct1,
                "Reconstruct2" => row.Reconstruct2,
                _ => null,
            }
            : null;
}
