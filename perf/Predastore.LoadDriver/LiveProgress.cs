using System.Globalization;
using Spectre.Console;

namespace Predastore.LoadDriver;

/// <summary>A live table on a terminal: per operation the last interval's MB/s, ops/s, p50/p99 and errors so far.</summary>
internal static class LiveProgress
{
    public static async Task<LoadReport> RunAsync(LoadRunner runner, CancellationToken stop)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string column in new[] { "operation", "ops", "errors", "MB/s", "ops/s", "p50 ms", "p99 ms", "avg MB/s" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        LoadReport? report = null;
        await AnsiConsole.Live(table).AutoClear(false).StartAsync(async context =>
        {
            Task<LoadReport> run = runner.RunAsync(stop);
            while (!run.IsCompleted)
            {
                Update(table, runner);
                context.Refresh();
                await Task.WhenAny(run, Task.Delay(500, CancellationToken.None)).ConfigureAwait(false);
            }

            Update(table, runner);
            context.Refresh();
            report = await run.ConfigureAwait(false);
        }).ConfigureAwait(false);
        return report!;
    }

    private static void Update(Table table, LoadRunner runner)
    {
        Metrics metrics = runner.Metrics;
        double elapsed = metrics.ElapsedSeconds;
        Dictionary<string, TimelinePoint> last = metrics.Timeline
            .GroupBy(p => p.Operation)
            .ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        table.Rows.Clear();
        foreach (OperationStats op in metrics.Operations)
        {
            OperationSummary s = op.Summary(elapsed);
            if (s.Count + s.Errors == 0)
            {
                continue;
            }

            // While running: the last interval. At the end: the whole run (the last interval is a partial one).
            TimelinePoint? p = last.GetValueOrDefault(op.Name);
            bool done = runner.Phase is "cleanup" or "done";
            table.AddRow(
                op.Name,
                s.Count.ToString(CultureInfo.InvariantCulture),
                s.Errors > 0 ? $"[red]{s.Errors}[/]" : "0",
                F(done ? s.MegabytesPerSecond : p?.MegabytesPerSecond),
                F(done ? s.OpsPerSecond : p?.OpsPerSecond),
                F(done ? s.P50Ms : p?.P50Ms),
                F(done ? s.P99Ms : p?.P99Ms),
                F(s.MegabytesPerSecond));
        }

        table.Caption($"{runner.Phase}, {elapsed:0.0} s, bucket {Markup.Escape(runner.Bucket)}");
    }

    private static string F(double? value) => value is double v ? v.ToString("0.0", CultureInfo.InvariantCulture) : "-";
}
