using System.Globalization;
using Predastore.LoadDriver;
using Spectre.Console;

// predastore load driver: `dotnet run -c Release --project perf/Predastore.LoadDriver -- --help`.
if (args.Any(a => a is "--help" or "-h"))
{
    Console.WriteLine(DriverOptions.Usage);
    return 0;
}

DriverOptions options;
try
{
    options = DriverOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException or UriFormatException)
{
    Console.Error.WriteLine($"predastore-load: {e.Message}");
    Console.Error.WriteLine(DriverOptions.Usage);
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl-C: stop starting operations, then clean up and report. A second one kills the process.
    e.Cancel = !stop.IsCancellationRequested;
    stop.Cancel();
};

bool live = !options.Plain && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
var runner = new LoadRunner(options, live ? null : Console.Out);
LoadReport report;
try
{
    report = live ? await LiveProgress.RunAsync(runner, stop.Token) : await runner.RunAsync(stop.Token);
}
catch (Exception e) when (e is S3RequestException or InvalidOperationException or HttpRequestException)
{
    Console.Error.WriteLine($"predastore-load: {e.Message}");
    return 1;
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{report.Workload}: {report.Clients} clients, sizes {report.Sizes}, {report.DurationSeconds:0.0} s, {report.Operations} ops, {report.MegabytesPerSecond:0.0} MB/s, {report.Errors} errors ({report.VerifyFailures} verification)"));
Console.WriteLine("op        count  errors      MB/s     ops/s    p50 ms    p90 ms    p99 ms    max ms");
foreach (OperationSummary r in report.Results)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{r.Operation,-6} {r.Count,8} {r.Errors,7} {r.MegabytesPerSecond,9:0.0} {r.OpsPerSecond,9:0.0} {r.P50Ms,9:0.00} {r.P90Ms,9:0.00} {r.P99Ms,9:0.00} {r.MaxMs,9:0.00}"));
}

foreach (string message in report.ErrorMessages.Take(5))
{
    Console.WriteLine($"error: {message}");
}

Console.WriteLine($"report: {Path.GetFullPath(options.JsonPath)}, {Path.GetFullPath(options.HtmlPath)}");
return report.Errors == 0 && report.Cleanup.Errors == 0 ? 0 : 1;
