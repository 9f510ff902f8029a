using System.Collections.Concurrent;

namespace Predastore.Encode;

/// <summary>
/// A systematic Reed-Solomon erasure code over GF(2^8) (polynomial 0x11D): K data cells stay as they are, M parity
/// cells are computed from them, and any K of the K+M cells recover the rest.
/// </summary>
/// <remarks>
/// Thread-safe: one instance serves every upload and read with the same (K, M) concurrently. Encoding allocates
/// nothing; reconstruction allocates only the first time it meets a pattern of present shards.
/// The parity bytes are part of the on-disk format: the encoding matrix (identity over a Cauchy matrix, see
/// <see cref="GfMatrix.SystematicCauchy"/>) must never change.
/// </remarks>
public sealed class ReedSolomon
{
    public const int MaxDataShards = 32;
    public const int MaxParityShards = 16;
    public const int MaxTotalShards = 64;

    // Each plan holds up to M·K·33 bytes; a stripe pattern that keeps changing must not grow the cache without bound.
    private const int MaxCachedPlans = 256;

    private readonly GfKernel _kernel;
    private readonly byte[] _encodingMatrix;
    private readonly CodingMatrix? _parityMatrix;
    private readonly ConcurrentDictionary<ulong, ReconstructPlan> _plans = new();

    public ReedSolomon(int dataShards, int parityShards)
        : this(dataShards, parityShards, GfKernels.Best)
    {
    }

    /// <summary>A code that runs <paramref name="kernel"/> instead of the fastest one the CPU has.</summary>
    // Internal for testing: tests and benchmarks force each kernel.
    internal ReedSolomon(int dataShards, int parityShards, GfKernel kernel)
    {
        if (!GfKernels.IsSupported(kernel))
        {
            ThrowHelper.ThrowKernelNotSupported(kernel);
        }

        _kernel = kernel;
        ArgumentOutOfRangeException.ThrowIfLessThan(dataShards, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dataShards, MaxDataShards);
        ArgumentOutOfRangeException.ThrowIfNegative(parityShards);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(parityShards, MaxParityShards);
        if (dataShards + parityShards > MaxTotalShards)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(parityShards), $"K + M must be at most {MaxTotalShards}.");
        }

        DataShards = dataShards;
        ParityShards = parityShards;
        TotalShards = dataShards + parityShards;
        _encodingMatrix = GfMatrix.SystematicCauchy(dataShards, parityShards);
        if (parityShards > 0)
        {
            _parityMatrix = new CodingMatrix(
                _encodingMatrix.AsSpan(dataShards * dataShards), parityShards, dataShards);
        }
    }

    public int DataShards { get; }

    public int ParityShards { get; }

    public int TotalShards { get; }

    // Internal for testing.
    internal int CachedPlanCount => _plans.Count;

    // Internal for testing.
    internal GfKernel Kernel => _kernel;

    // Internal for testing.
    internal ReadOnlySpan<byte> EncodingMatrix => _encodingMatrix;

    /// <summary>Computes all M parity cells from the K data cells in one pass over the data.</summary>
    /// <param name="data">K cells, all of one length.</param>
    /// <param name="parity">M cells of the same length; overwritten, whatever they held. Must not overlap the data.</param>
    public void Encode(ReadOnlySpan<ReadOnlyMemory<byte>> data, ReadOnlySpan<Memory<byte>> parity)
    {
        if (data.Length != DataShards)
        {
            ThrowHelper.ThrowArgument(nameof(data), $"Expected {DataShards} data cells, got {data.Length}.");
        }

        if (parity.Length != ParityShards)
        {
            ThrowHelper.ThrowArgument(nameof(parity), $"Expected {ParityShards} parity cells, got {parity.Length}.");
        }

        if (_parityMatrix is null)
        {
            // M = 0 writes nothing, but the data cells must still agree on a length.
            CheckSameLength(data);
            return;
        }

        GfKernels.Apply(_kernel, _parityMatrix, data, parity);
    }

    /// <summary>Writes every missing shard (or, with <paramref name="dataOnly"/>, every missing data shard) in place.</summary>
    /// <param name="shards">K+M cells of one length; those not present are overwritten.</param>
    /// <param name="present">Whether each shard holds valid bytes.</param>
    /// <param name="dataOnly">Leave missing parity shards untouched.</param>
    /// <exception cref="InsufficientShardsException">Fewer than K shards are present.</exception>
    public void Reconstruct(ReadOnlySpan<Memory<byte>> shards, ReadOnlySpan<bool> present, bool dataOnly = false)
    {
        if (shards.Length != TotalShards)
        {
            ThrowHelper.ThrowArgument(nameof(shards), $"Expected {TotalShards} shards, got {shards.Length}.");
        }

        if (present.Length != TotalShards)
        {
            ThrowHelper.ThrowArgument(nameof(present), $"Expected {TotalShards} flags, got {present.Length}.");
        }

        int length = shards[0].Length;
        ulong presentMask = 0;
        int presentCount = 0;
        for (int i = 0; i < shards.Length; i++)
        {
            if (shards[i].Length != length)
            {
                ThrowHelper.ThrowArgument(nameof(shards), "All shards must have the same length.");
            }

            if (present[i])
            {
                presentMask |= 1UL << i;
                presentCount++;
            }
        }

        if (presentCount < DataShards)
        {
            ThrowHelper.ThrowInsufficientShards(presentCount, DataShards);
        }

        if (presentCount == TotalShards || length == 0)
        {
            return;
        }

        ReconstructPlan plan = GetPlan(presentMask);
        int outputCount = dataOnly ? plan.MissingDataShards : plan.OutputShards.Length;
        if (outputCount == 0)
        {
            return;
        }

        ReadOnlySpan<ReadOnlyMemory<byte>> cells = GfKernels.AsReadOnly(shards);
        var call = new PinnedCall(_kernel, plan.Matrix, cells, plan.InputShards, cells, plan.OutputShards, outputCount, length);
        call.Run();
    }

    private static void CheckSameLength(ReadOnlySpan<ReadOnlyMemory<byte>> cells)
    {
        for (int i = 1; i < cells.Length; i++)
        {
            if (cells[i].Length != cells[0].Length)
            {
                ThrowHelper.ThrowArgument(nameof(cells), "All cells must have the same length.");
            }
        }
    }

    private ReconstructPlan GetPlan(ulong presentMask)
    {
        if (_plans.TryGetValue(presentMask, out ReconstructPlan? plan))
        {
            return plan;
        }

        // A miss means a new failure pattern, which is rare, so counting (it takes every lock) is affordable here.
        if (_plans.Count >= MaxCachedPlans)
        {
            _plans.Clear();
        }

        return _plans.GetOrAdd(
            presentMask,
            static (mask, self) => ReconstructPlan.Create(self._encodingMatrix, self.DataShards, self.TotalShards, mask),
            this);
    }
}
