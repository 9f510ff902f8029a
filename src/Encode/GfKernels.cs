using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Predastore.Encode;

/// <summary>The implementations of <see cref="CodingMatrix"/> application; all produce identical bytes.</summary>
internal enum GfKernel
{
    Scalar,
    Vector128,
    Vector256,
    Vector512,
}

/// <summary>
/// Applies a <see cref="CodingMatrix"/> to shard buffers: output o = XOR over j of coef[o, j] · input j.
/// </summary>
/// <remarks>
/// The vector kernels make one pass over the buffers, one vector step at a time: at each step every input vector is
/// multiplied into register accumulators for the outputs, which are stored once, so outputs are never read and may
/// hold garbage on entry. The bytes left over after the last whole vector go through the scalar kernel, which is
/// also the oracle the tests hold every other kernel to. Outputs must not overlap inputs.
/// A new kernel (GFNI) is an enum member, an <see cref="IGfVectorOps{TVector}"/> struct and, if its coefficients take
/// another form than nibble tables, a table in <see cref="CodingMatrix"/>.
/// </remarks>
internal static unsafe class GfKernels
{
    /// <summary>Enough to pin every shard of the widest code (K + M ≤ 64).</summary>
    public const int MaxBuffers = 64;

    private static readonly GfKernel s_best = SelectBest();

    /// <summary>The widest kernel this CPU runs, chosen once per process.</summary>
    public static GfKernel Best => s_best;

    public static bool IsSupported(GfKernel kernel) => kernel switch
    {
        GfKernel.Scalar => true,
        GfKernel.Vector128 => GfVector128Ops.IsSupported,
        GfKernel.Vector256 => GfVector256Ops.IsSupported,
        GfKernel.Vector512 => GfVector512Ops.IsSupported,
        _ => false,
    };

    /// <summary>Applies the first <paramref name="outputs"/>.Length rows of <paramref name="matrix"/> with <paramref name="kernel"/>.</summary>
    [SkipLocalsInit]
    public static void Apply(
        GfKernel kernel, CodingMatrix matrix, ReadOnlySpan<ReadOnlyMemory<byte>> inputs, ReadOnlySpan<Memory<byte>> outputs)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        if (inputs.Length != matrix.Columns)
        {
            ThrowHelper.ThrowArgument(nameof(inputs), $"The matrix takes {matrix.Columns} inputs.");
        }

        if (outputs.Length > matrix.Rows)
        {
            ThrowHelper.ThrowArgument(nameof(outputs), $"The matrix has only {matrix.Rows} rows.");
        }

        if (!IsSupported(kernel))
        {
            ThrowHelper.ThrowKernelNotSupported(kernel);
        }

        int length = inputs[0].Length;
        for (int j = 1; j < inputs.Length; j++)
        {
            if (inputs[j].Length != length)
            {
                ThrowHelper.ThrowArgument(nameof(inputs), "All cells must have the same length.");
            }
        }

        for (int o = 0; o < outputs.Length; o++)
        {
            if (outputs[o].Length != length)
            {
                ThrowHelper.ThrowArgument(nameof(outputs), "All cells must have the same length.");
            }
        }

        if (length == 0 || outputs.IsEmpty)
        {
            return;
        }

        byte** pointers = stackalloc byte*[MaxBuffers];
        PinnedBuffers pins = default;
        try
        {
            for (int j = 0; j < inputs.Length; j++)
            {
                pointers[j] = pins.Pin(inputs[j]);
            }

            for (int o = 0; o < outputs.Length; o++)
            {
                pointers[inputs.Length + o] = pins.Pin(outputs[o]);
            }

            Apply(kernel, matrix, pointers, pointers + inputs.Length, outputs.Length, length);
        }
        finally
        {
            pins.Dispose();
        }
    }

    /// <summary>
    /// The unchecked core: <paramref name="inputs"/> holds <see cref="CodingMatrix.Columns"/> pointers and
    /// <paramref name="outputs"/> <paramref name="outputCount"/> pointers (≤ Rows) to buffers of <paramref name="length"/> bytes.
    /// </summary>
    public static void Apply(GfKernel kernel, CodingMatrix matrix, byte** inputs, byte** outputs, int outputCount, int length)
    {
        switch (kernel)
        {
            case GfKernel.Vector512:
                ApplyVector512(matrix, inputs, outputs, outputCount, length);
                break;
            case GfKernel.Vector256:
                ApplyVector256(matrix, inputs, outputs, outputCount, length);
                break;
            case GfKernel.Vector128:
                ApplyVector128(matrix, inputs, outputs, outputCount, length);
                break;
            default:
                ApplyScalar(matrix, inputs, outputs, outputCount, length);
                break;
        }
    }

    public static void ApplyScalar(CodingMatrix matrix, byte** inputs, byte** outputs, int outputCount, int length) =>
        ApplyScalar(matrix, inputs, outputs, outputCount, 0, (nuint)length);

    public static void ApplyVector128(CodingMatrix matrix, byte** inputs, byte** outputs, int outputCount, int length) =>
        ApplyVectors<GfVector128Ops, Vector128<byte>>(matrix, inputs, outputs, outputCount, (nuint)length);

    public static void ApplyVector256(CodingMatrix matrix, byte** inputs, byte** outputs, int outputCount, int length) =>
        ApplyVectors<GfVector256Ops, Vector256<byte>>(matrix, inputs, outputs, outputCount, (nuint)length);

    public static void ApplyVector512(CodingMatrix matrix, byte** inputs, byte** outputs, int outputCount, int length) =>
        ApplyVectors<GfVector512Ops, Vector512<byte>>(matrix, inputs, outputs, outputCount, (nuint)length);

    private static GfKernel SelectBest()
    {
        if (GfVector512Ops.IsSupported)
        {
            return GfKernel.Vector512;
        }

        if (GfVector256Ops.IsSupported)
        {
            return GfKernel.Vector256;
        }

        return GfVector128Ops.IsSupported ? GfKernel.Vector128 : GfKernel.Scalar;
    }

    // Bytes [start, end) of every output, one full product-table row per coefficient.
    private static void ApplyScalar(CodingMatrix matrix, byte** inputs, byte** outputs, int outputCount, nuint start, nuint end)
    {
        int columns = matrix.Columns;
        ReadOnlySpan<byte> coefficients = matrix.Coefficients;
        fixed (byte* mul = GaloisField.MulTable)
        {
            for (int o = 0; o < outputCount; o++)
            {
                byte* output = outputs[o];
                byte* row = mul + (coefficients[o * columns] << 8);
                byte* input = inputs[0];
                for (nuint i = start; i < end; i++)
                {
                    output[i] = row[input[i]];
                }

                for (int j = 1; j < columns; j++)
                {
                    row = mul + (coefficients[(o * columns) + j] << 8);
                    input = inputs[j];
                    for (nuint i = start; i < end; i++)
                    {
                        output[i] ^= row[input[i]];
                    }
                }
            }
        }
    }

    private static void ApplyVectors<TOps, TVector>(
        CodingMatrix matrix, byte** inputs, byte** outputs, int outputCount, nuint length)
        where TOps : struct, IGfVectorOps<TVector>
        where TVector : unmanaged
    {
        nuint width = (nuint)TOps.ByteCount;
        nuint vectorEnd = length - (length % width);
        int columns = matrix.Columns;
        nuint columnStride = (nuint)matrix.Rows * CodingMatrix.NibbleTableSize;
        int fullGroupsEnd = outputCount - (outputCount % OutputGroup4.Count);

        fixed (byte* tables = matrix.NibbleTables)
        {
            for (nuint offset = 0; offset < vectorEnd; offset += width)
            {
                int o = 0;
                for (; o < fullGroupsEnd; o += OutputGroup4.Count)
                {
                    ApplyGroup<TOps, TVector, OutputGroup4>(tables, columnStride, columns, inputs, outputs, o, offset);
                }

                switch (outputCount - o)
                {
                    case 3:
                        ApplyGroup<TOps, TVector, OutputGroup3>(tables, columnStride, columns, inputs, outputs, o, offset);
                        break;
                    case 2:
                        ApplyGroup<TOps, TVector, OutputGroup2>(tables, columnStride, columns, inputs, outputs, o, offset);
                        break;
                    case 1:
                        ApplyGroup<TOps, TVector, OutputGroup1>(tables, columnStride, columns, inputs, outputs, o, offset);
                        break;
                }
            }
        }

        if (vectorEnd < length)
        {
            ApplyScalar(matrix, inputs, outputs, outputCount, vectorEnd, length);
        }
    }

    // One vector of outputs [first, first + TGroup.Count), accumulated in registers over every input and stored once.
    // TGroup.Count is a JIT-time constant, so the unused accumulators and their branches disappear. Four accumulators
    // plus the nibble and table temporaries fit the 16 registers of AVX2 without spilling; a code with more than four
    // outputs runs several groups per vector step, and the later groups find the input vectors in L1.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ApplyGroup<TOps, TVector, TGroup>(
        byte* tables, nuint columnStride, int columns, byte** inputs, byte** outputs, int first, nuint offset)
        where TOps : struct, IGfVectorOps<TVector>
        where TVector : unmanaged
        where TGroup : struct, IOutputGroup
    {
        const int T = CodingMatrix.NibbleTableSize;
        byte* table = tables + ((nuint)first * T);

        // The first input initializes the accumulators, so outputs may hold anything on entry.
        TOps.Split(TOps.Load(inputs[0] + offset), out TVector low, out TVector high);
        TVector acc0 = TOps.Multiply(table, low, high);
        TVector acc1 = TGroup.Count > 1 ? TOps.Multiply(table + T, low, high) : default;
        TVector acc2 = TGroup.Count > 2 ? TOps.Multiply(table + (2 * T), low, high) : default;
        TVector acc3 = TGroup.Count > 3 ? TOps.Multiply(table + (3 * T), low, high) : default;

        for (int j = 1; j < columns; j++)
        {
            table += columnStride;
            TOps.Split(TOps.Load(inputs[j] + offset), out low, out high);
            acc0 = TOps.Xor(acc0, TOps.Multiply(table, low, high));
            if (TGroup.Count > 1)
            {
                acc1 = TOps.Xor(acc1, TOps.Multiply(table + T, low, high));
            }

            if (TGroup.Count > 2)
            {
                acc2 = TOps.Xor(acc2, TOps.Multiply(table + (2 * T), low, high));
            }

            if (TGroup.Count > 3)
            {
                acc3 = TOps.Xor(acc3, TOps.Multiply(table + (3 * T), low, high));
            }
        }

        TOps.Store(outputs[first] + offset, acc0);
        if (TGroup.Count > 1)
        {
            TOps.Store(outputs[first + 1] + offset, acc1);
        }

        if (TGroup.Count > 2)
        {
            TOps.Store(outputs[first + 2] + offset, acc2);
        }

        if (TGroup.Count > 3)
        {
            TOps.Store(outputs[first + 3] + offset, acc3);
        }
    }
}

/// <summary>How many outputs one pass of the vector loop holds in registers, as a JIT-time constant.</summary>
internal interface IOutputGroup
{
    static abstract int Count { get; }
}

internal readonly struct OutputGroup1 : IOutputGroup
{
    public static int Count => 1;
}

internal readonly struct OutputGroup2 : IOutputGroup
{
    public static int Count => 2;
}

internal readonly struct OutputGroup3 : IOutputGroup
{
    public static int Count => 3;
}

internal readonly struct OutputGroup4 : IOutputGroup
{
    public static int Count => 4;
}

/// <summary>Pins up to <see cref="GfKernels.MaxBuffers"/> buffers for one kernel call; disposed in a finally.</summary>
/// <remarks>
/// The kernels hold a pointer per shard at once, which a span cannot express. Pinning an array takes a GC handle,
/// not a heap allocation. Mutable struct: keep it in a local, never in a <c>using</c> (that would pin into a copy).
/// </remarks>
internal unsafe struct PinnedBuffers
{
    private HandleArray _handles;
    private int _count;

    public byte* Pin(ReadOnlyMemory<byte> memory)
    {
        _handles[_count] = memory.Pin();
        return (byte*)_handles[_count++].Pointer;
    }

    public void Dispose()
    {
        for (int i = 0; i < _count; i++)
        {
            _handles[i].Dispose();
        }

        _count = 0;
    }

    [InlineArray(GfKernels.MaxBuffers)]
    private struct HandleArray
    {
        private MemoryHandle _element0;
    }
}
