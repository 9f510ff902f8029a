using BenchmarkDotNet.Attributes;
using Predastore.Encode;

namespace Predastore.Benchmarks.Encode;

/// <summary>
/// Issue 3's comparison: our Reed-Solomon codec (the kernel the CPU selects) against Debian's ISA-L and a plain
/// memory copy, on the same warm buffers in the same run: encode and data-only reconstruction of one lost data shard.
/// </summary>
/// <remarks>
/// GB/s counts data-shard bytes in (K × cell) per operation for every method, memcpy included (it copies each data
/// cell once). <c>perf/codec.sh</c> runs this suite with <see cref="CodecReconstruct2Benchmarks"/> and summarizes.
/// The setup checks that ISA-L and we write identical parity and both rebuild the original data.
/// </remarks>
[CodecColumns]
public class CodecBenchmarks : CodecComparison
{
    [ParamsSource(nameof(Cases))]
    // BenchmarkDotNet's ExecutionValidator runs the setup once without filling parameters: give it a real shape.
    public CodecCase Case { get; set; } = new(4, 2, 64 * 1024);

    public static IEnumerable<CodecCase> Cases() => CodecCase.All();

    [GlobalSetup]
    public void Setup() => Open(Case, GfKernels.Best, lost: 1);

    [Benchmark]
    public void Encode() => Ours.Encode();

    [Benchmark]
    public void EncodeIsaL() => IsaLOrThrow.Encode();

    [Benchmark]
    public void Reconstruct1() => Ours.Reconstruct();

    [Benchmark]
    public void Reconstruct1IsaL() => IsaLOrThrow.Reconstruct();

    [Benchmark]
    public void Memcpy()
    {
        Memory<byte>[] parity = Stripe.Parity;
        ReadOnlyMemory<byte>[] data = Stripe.Data;
        for (int j = 0; j < data.Length; j++)
        {
            data[j].Span.CopyTo(parity[j % parity.Length].Span);
        }
    }
}

/// <summary>Data-only reconstruction of two lost data shards (codes with M ≥ 2), ours against ISA-L.</summary>
[CodecColumns]
public class CodecReconstruct2Benchmarks : CodecComparison
{
    [ParamsSource(nameof(Cases))]
    // BenchmarkDotNet's ExecutionValidator runs the setup once without filling parameters: give it a real shape.
    public CodecCase Case { get; set; } = new(4, 2, 64 * 1024);

    public static IEnumerable<CodecCase> Cases() => CodecCase.All().Where(c => c.ParityShards >= 2);

    [GlobalSetup]
    public void Setup() => Open(Case, GfKernels.Best, lost: 2);

    [Benchmark]
    public void Reconstruct2() => Ours.Reconstruct();

    [Benchmark]
    public void Reconstruct2IsaL() => IsaLOrThrow.Reconstruct();
}

/// <summary>
/// The fallback the issue sets a floor for: on a CPU without GFNI or AVX-512 our AVX2 kernel must beat ISA-L's AVX2
/// kernel. Both are forced here; <c>perf/codec.sh</c> runs this suite with AVX-512 disabled in the runtime
/// (<c>DOTNET_EnableAVX512F=0</c>) so our kernel compiles as on such a CPU (16 ymm registers, no ternary logic).
/// </summary>
[CodecColumns]
public class CodecAvx2Benchmarks : CodecComparison
{
    [ParamsSource(nameof(Cases))]
    public CodecCase Case { get; set; } = new(2, 1, 1024 * 1024);

    public static IEnumerable<CodecCase> Cases() => [new CodecCase(2, 1, 1024 * 1024), new CodecCase(3, 2, 1024 * 1024)];

    [GlobalSetup]
    public void Setup() => Open(Case, GfKernel.Vector256, lost: 1);

    [Benchmark]
    public void EncodeAvx2() => Ours.Encode();

    [Benchmark]
    public void EncodeAvx2IsaL() => IsaLOrThrow.EncodeAvx2();
}

/// <summary>
/// What every suite comparing us with ISA-L holds: one stripe of warm buffers, our codec and ISA-L on it, both checked
/// (identical parity, the lost data rebuilt) before anything is timed.
/// </summary>
public abstract class CodecComparison : IDisposable
{
    private CodecStripe? _stripe;
    private OurCodec? _ours;
    private IsaLCodec? _isaL;

    private protected CodecStripe Stripe => _stripe!;

    private protected OurCodec Ours => _ours!;

    private protected IsaLCodec IsaLOrThrow => _isaL ?? throw new InvalidOperationException(IsaL.Missing);

    [GlobalCleanup]
    public void Dispose()
    {
        _isaL?.Dispose();
        _stripe?.Dispose();
        GC.SuppressFinalize(this);
    }

    private protected void Open(CodecCase shape, GfKernel kernel, int lost)
    {
        _stripe = new CodecStripe(shape);
        _ours = new OurCodec(_stripe, new ReedSolomon(shape.DataShards, shape.ParityShards, kernel));
        _isaL = CodecSetup.CreateIsaL(_stripe);
        CodecSetup.Check(_stripe, _ours, _isaL, lost);
    }
}

/// <summary>
/// Each kernel on its own (forced), the scalar oracle as the reference: how much each instruction set buys.
/// </summary>
[CodecColumns]
public class GfKernelBenchmarks : IDisposable
{
    private CodecStripe _stripe = null!;
    private OurCodec _ours = null!;

    [ParamsSource(nameof(Cases))]
    // BenchmarkDotNet's ExecutionValidator runs the setup once without filling parameters: give it a real shape.
    public CodecCase Case { get; set; } = new(4, 2, 64 * 1024);

    [ParamsSource(nameof(Kernels))]
    public string Kernel { get; set; } = nameof(GfKernel.Scalar);

    public static IEnumerable<CodecCase> Cases() => [new CodecCase(4, 2, 64 * 1024), new CodecCase(10, 4, 64 * 1024)];

    public static IEnumerable<string> Kernels() =>
        Enum.GetValues<GfKernel>().Where(GfKernels.IsSupported).Select(k => k.ToString());

    [GlobalSetup]
    public void Setup()
    {
        _stripe = new CodecStripe(Case);
        _ours = new OurCodec(_stripe, new ReedSolomon(Case.DataShards, Case.ParityShards, Enum.Parse<GfKernel>(Kernel)));
        _ours.PrepareReconstruct(1);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _stripe.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark]
    public void Encode() => _ours.Encode();

    [Benchmark]
    public void Reconstruct1() => _ours.Reconstruct();
}

internal static class CodecSetup
{
    /// <summary>ISA-L for the stripe, or null (and a clear message on the console) when libisal2 is missing.</summary>
    public static IsaLCodec? CreateIsaL(CodecStripe stripe)
    {
        if (IsaL.Missing is { } missing)
        {
            Console.WriteLine($"// {missing}");
            return null;
        }

        return new IsaLCodec(stripe);
    }

    /// <summary>Identical parity from both libraries, and both rebuild the lost data, before anything is timed.</summary>
    public static void Check(CodecStripe stripe, OurCodec ours, IsaLCodec? isaL, int lost)
    {
        ours.Encode();
        byte[][] parity = [.. stripe.Parity.Select(p => p.ToArray())];
        byte[][] data = stripe.SnapshotData();
        if (isaL is not null)
        {
            isaL.Encode();
            for (int p = 0; p < parity.Length; p++)
            {
                if (!parity[p].AsSpan().SequenceEqual(stripe.Parity[p].Span))
                {
                    throw new InvalidOperationException($"ISA-L and Predastore disagree on parity {p} of {stripe.Shape}.");
                }
            }

            isaL.PrepareReconstruct(lost);
            Erase(stripe, lost);
            isaL.Reconstruct();
            stripe.CheckData(data, "ISA-L reconstruct");
        }

        Erase(stripe, lost);
        ours.PrepareReconstruct(lost);
        stripe.CheckData(data, "Predastore reconstruct");
    }

    private static void Erase(CodecStripe stripe, int lost)
    {
        for (int i = 0; i < lost; i++)
        {
            stripe.Shards[i].Span.Fill(0xEE);
        }
    }
}
