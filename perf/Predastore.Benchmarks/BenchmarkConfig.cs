using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Validators;

namespace Predastore.Benchmarks;

/// <summary>
/// The shared configuration: allocations measured, workstation non-concurrent GC so collections do not blur
/// the figures, and a benchmark built without optimisations fails instead of reporting nonsense.
/// </summary>
public sealed class BenchmarkConfig : ManualConfig
{
    public BenchmarkConfig(bool addDefaultJob = true)
    {
        if (addDefaultJob)
        {
            AddJob(Job.Default.WithGcServer(false).WithGcConcurrent(false));
        }

        AddDiagnoser(MemoryDiagnoser.Default);
        AddValidator(JitOptimizationsValidator.FailOnError);
        AddValidator(ExecutionValidator.FailOnError);
        WithOptions(ConfigOptions.JoinSummary | ConfigOptions.DisableLogFile);
        UnionRule = ConfigUnionRule.AlwaysUseLocal;
        Add(DefaultConfig.Instance);
    }
}
