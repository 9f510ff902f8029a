using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Predastore.LoadDriver;

internal sealed class OperationSummary
{
    public required string Operation { get; init; }

    public long Count { get; init; }

    public long Errors { get; init; }

    public long Bytes { get; init; }

    public double MegabytesPerSecond { get; init; }

    public double OpsPerSecond { get; init; }

    public double MeanMs { get; init; }

    public double P50Ms { get; init; }

    public double P90Ms { get; init; }

    public double P99Ms { get; init; }

    public double MaxMs { get; init; }
}

internal sealed class TimelinePoint
{
    public double Seconds { get; init; }

    public required string Operation { get; init; }

    public long Ops { get; init; }

    public long Errors { get; init; }

    public double MegabytesPerSecond { get; init; }

    public double OpsPerSecond { get; init; }

    public double P50Ms { get; init; }

    public double P99Ms { get; init; }

    public double MaxMs { get; init; }
}

internal sealed class CleanupSummary
{
    public bool Skipped { get; set; }

    public long ObjectsDeleted { get; set; }

    public long UploadsAborted { get; set; }

    public bool BucketDeleted { get; set; }

    public long Errors { get; set; }
}

/// <summary>What the JSON file holds (MB = 10^6 bytes).</summary>
internal sealed class LoadReport
{
    public string Tool { get; init; } = "predastore-load";

    public required string Endpoint { get; init; }

    public required string Bucket { get; init; }

    public required string Workload { get; init; }

    public int Clients { get; init; }

    public required string Sizes { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public required string Machine { get; init; }

    public double DurationSeconds { get; init; }

    public long PreparedObjects { get; init; }

    public double PrepareSeconds { get; init; }

    public long Operations { get; init; }

    public long Errors { get; init; }

    public long VerifyFailures { get; init; }

    public long Bytes { get; init; }

    public double MegabytesPerSecond { get; init; }

    public required List<OperationSummary> Results { get; init; }

    public required List<string> ErrorMessages { get; init; }

    public required CleanupSummary Cleanup { get; init; }

    public required List<TimelinePoint> Timeline { get; init; }

    public static LoadReport Read(string path) =>
        JsonSerializer.Deserialize(File.ReadAllText(path), ReportJsonContext.Default.LoadReport)
            ?? throw new InvalidDataException($"{path}: empty report");

    public void WriteJson(string path) =>
        File.WriteAllText(path, JsonSerializer.Serialize(this, ReportJsonContext.Default.LoadReport));

    /// <summary>One self-contained page: summary table and two inline SVG charts; nothing is fetched when viewed.</summary>
    public void WriteHtml(string path)
    {
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>predastore load: {E(Workload)} {E(Endpoint)}</title>
            {Style}</head><body>
            <h1>predastore load driver</h1>
            <p><code>{E(Workload)}</code> against <code>{E(Endpoint)}</code>, bucket <code>{E(Bucket)}</code>,
            {Clients} clients, sizes <code>{E(Sizes)}</code>, started {StartedAt:u}, {DurationSeconds:0.0} s.
            Machine: {E(Machine)}.</p>
            <p>{Operations} operations, {Errors} errors ({VerifyFailures} verification failures), {Bytes / 1e6:0.0} MB,
            {MegabytesPerSecond:0.0} MB/s. Prepared {PreparedObjects} objects in {PrepareSeconds:0.0} s.
            Cleanup: {(Cleanup.Skipped ? "skipped" : $"{Cleanup.ObjectsDeleted} objects deleted, {Cleanup.UploadsAborted} uploads aborted, bucket deleted: {Cleanup.BucketDeleted}, {Cleanup.Errors} errors")}.</p>
            <table><tr><th>operation</th><th>count</th><th>errors</th><th>MB/s</th><th>ops/s</th><th>mean ms</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms</th></tr>
            """);
        foreach (OperationSummary r in Results)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(r.Operation)}</td><td>{r.Count}</td><td>{r.Errors}</td><td>{r.MegabytesPerSecond:0.0}</td><td>{r.OpsPerSecond:0.0}</td><td>{r.MeanMs:0.00}</td><td>{r.P50Ms:0.00}</td><td>{r.P90Ms:0.00}</td><td>{r.P99Ms:0.00}</td><td>{r.MaxMs:0.00}</td></tr>\n");
        }

        html.Append("</table>\n");
        string[] active = [.. Results.Where(r => r.Count + r.Errors > 0).Select(r => r.Operation)];
        html.Append("<h2>Throughput over time (MB/s)</h2>\n");
        Chart(html, active, p => p.MegabytesPerSecond, dashed: null);
        html.Append("<h2>Latency over time (ms; solid p50, dashed p99)</h2>\n");
        Chart(html, active, p => p.P50Ms, dashed: p => p.P99Ms);
        if (ErrorMessages.Count > 0)
        {
            html.Append("<h2>First errors</h2><pre>");
            foreach (string e in ErrorMessages)
            {
                html.Append(E(e)).Append('\n');
            }

            html.Append("</pre>\n");
        }

        html.Append("</body></html>\n");
        File.WriteAllText(path, html.ToString());
    }

    private const string Style = """
        <style>
        body{font-family:system-ui,sans-serif;margin:2em;color:#222} table{border-collapse:collapse}
        td,th{border:1px solid #ccc;padding:4px 8px;text-align:right} th:first-child,td:first-child{text-align:left}
        .chart{margin:1.5em 0} .legend span{margin-right:1.5em} code{background:#f4f4f4;padding:1px 4px}
        </style>
        """;

    private static readonly string[] s_colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

    private void Chart(StringBuilder html, string[] operations, Func<TimelinePoint, double> value, Func<TimelinePoint, double>? dashed)
    {
        const int Width = 900, Height = 260, Left = 60, Bottom = 30, Top = 10, Right = 10;
        List<TimelinePoint> points = [.. Timeline.Where(p => operations.Contains(p.Operation))];
        double maxX = Math.Max(1, points.Count > 0 ? points.Max(p => p.Seconds) : 1);
        double maxY = points.Count > 0 ? points.Max(p => Math.Max(value(p), dashed?.Invoke(p) ?? 0)) : 1;
        maxY = maxY <= 0 ? 1 : maxY * 1.05;
        double X(double s) => Left + (s / maxX * (Width - Left - Right));
        double Y(double v) => Height - Bottom - (v / maxY * (Height - Bottom - Top));
        html.Append(CultureInfo.InvariantCulture, $"<div class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\">\n");
        html.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\" stroke=\"#888\"/><line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\" stroke=\"#888\"/>\n");
        for (int i = 0; i <= 4; i++)
        {
            double v = maxY * i / 4;
            html.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 5}\" y=\"{Y(v) + 4:0.#}\" font-size=\"11\" text-anchor=\"end\">{v:0.##}</text><line x1=\"{Left}\" y1=\"{Y(v):0.#}\" x2=\"{Width - Right}\" y2=\"{Y(v):0.#}\" stroke=\"#eee\"/>\n");
            double s = maxX * i / 4;
            html.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(s):0.#}\" y=\"{Height - 10}\" font-size=\"11\" text-anchor=\"middle\">{s:0.#} s</text>\n");
        }

        for (int o = 0; o < operations.Length; o++)
        {
            string color = s_colors[o % s_colors.Length];
            List<TimelinePoint> series = [.. points.Where(p => p.Operation == operations[o])];
            Line(html, series, value, color, X, Y, dash: false);
            if (dashed is not null)
            {
                Line(html, series, dashed, color, X, Y, dash: true);
            }
        }

        html.Append("</svg><div class=\"legend\">");
        for (int o = 0; o < operations.Length; o++)
        {
            html.Append(CultureInfo.InvariantCulture, $"<span style=\"color:{s_colors[o % s_colors.Length]}\">&#9632; {E(operations[o])}</span>");
        }

        html.Append("</div></div>\n");
    }

    private static void Line(StringBuilder html, List<TimelinePoint> series, Func<TimelinePoint, double> value, string color, Func<double, double> x, Func<double, double> y, bool dash)
    {
        if (series.Count == 0)
        {
            return;
        }

        html.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\"{(dash ? " stroke-dasharray=\"5,3\"" : string.Empty)} points=\"");
        foreach (TimelinePoint p in series)
        {
            html.Append(CultureInfo.InvariantCulture, $"{x(p.Seconds):0.#},{y(value(p)):0.#} ");
        }

        html.Append("\"/>\n");
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(LoadReport))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
