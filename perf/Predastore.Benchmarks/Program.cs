using BenchmarkDotNet.Running;
using Predastore.Benchmarks;

// One executable for every suite: `dotnet run -c Release --project perf/Predastore.Benchmarks -- --filter '*Upload*'`.
// A `--job` on the command line replaces the default job instead of running beside it.
bool jobGiven = args.Any(a => a is "--job" or "-j");
BenchmarkSwitcher.FromAssembly(typeof(BenchmarkConfig).Assembly).Run(args, new BenchmarkConfig(addDefaultJob: !jobGiven));
