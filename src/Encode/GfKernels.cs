using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Predastore.Encode;

/// <summary>The implementations of <see cref="CodingMatrix"/> application; all produce identical bytes.</summary>
/// <remarks>Ordered by preference: <see cref="GfKernels.Best"/> is the last one the CPU supports.</remarks>
internal enum GfKernel
{
    Scalar,
    Vector128,
    Vector256,
    Vector512,
    Gfni256,
    Gfni512,
}

/// <summary>
/// Applies a <see cref="CodingMatrix"/> to shard buffers: output o = XOR over j of coef[o, j] · input j.
/// </summary>
/// <remarks>
/// The vector kernels make one pass over the buffers, one step (one or two vectors of every input) at a time: at each
/// step every input vector is multiplied into register accumulators for the outputs, which are stored once, so
/// outputs are never read and may hold garbage on entry. Because every output byte is a function of the input bytes
/// at the same offset alone, the bytes left over after the last whole vector are covered by one more vector step
/// that ends at the last byte and overlaps the previous one: it rewrites the overlap with the same values. Buffers
/// shorter than one vector go through the scalar kernel, which is also the oracle the tests hold every other kernel
/// to. Outputs must not overlap inputs.
/// A new kernel is an enum member and an <see cref="IGfVectorOps{TVector}"/> struct; if its coefficients take
/// another form, a <see cref="GfTableKind"/> and a table in <see cref="CodingMatrix"/>.
/// </remarks>
internal static unsafe class GfKernels
{
    /// <summary>Enough to pin every shard of the widest code (K + M ≤ 64).</summary>
    public const int MaxBuffers = 64;

    private static readonly GfKernel s_best = SelectBest();

    /// <summary>The fastest kernel this CPU runs, chosen once per process.</summary>
    public static GfKernel Best => s_best;

    public static bool IsSupported(GfKernel kernel) => kernel switch
    {
        GfKernel.Scalar => true,
        GfKernel.Vector128 => GfVector128Ops.IsSupported,
        GfKernel.Vector256 => GfVector256Ops.IsSupported,
        GfKernel.Vector512 => GfVector512Ops.IsSupported,
        GfKernel.Gfni256 => GfGfni256Ops.IsSupported,
        GfKernel.Gfni512 => GfGfni512Ops.IsSupported,
        _ => false,
    };

    /// <summary>Applies the first <paramref name="outputs"/>.Length rows of <paramref name="matrix"/> with <paramref name="kernel"/>.</summary>
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

        var call = new PinnedCall(kernel, matrix, inputs, default, AsReadOnly(outputs), default, outputs.Length, length);
        call.Run();
    }

    /// <summary>
    /// The unchecked core: <paramref name="inputs"/> holds <see cref="CodingMatrix.Columns"/> pointers and
    /// <paramref name="outputs"/> <paramref name="outputCount"/> pointers (≤ Rows) to buffers of <paramref name="length"/> bytes.
    /// </summary>
    public static void Apply(GfKernel kernel, CodingMatrix matrix, byte** inputs, byte** outputs, int outputCount, int length)
    {
        switch (kernel)
        {
            case GfKernel.Gfni512:
                ApplyVectors<GfGfni512Ops, Vector512<byte>>(matrix, inputs, outputs, outputCount, (nuint)length);
                break;
            case GfKernel.Gfni256:
                ApplyVectors<GfGfni256Ops, Vector256<byte>>(matrix, inputs, outputs, outputCount, (nuint)length);
                break;
            case GfKernel.Vector512:
                ApplyVectors<GfVector512Ops, Vector512<byte>>(matrix, inputs, outputs, outputCount, (nuint)length);
                break;
            case GfKernel.Vector256:
                ApplyVectors<GfVector256Ops, Vector256<byte>>(matrix, inputs, outputs, outputCount, (nuint)length);
                break;
            case GfKernel.Vector128:
                ApplyVectors<GfVector128Ops, Vector128<byte>>(matrix, inputs, outputs, outputCount, (nuint)length);
                break;
            default:
                ApplyScalar(matrix, inputs, outputs, outputCount, 0, (nuint)length);
                break;
        }
    }

    /// <summary>A span of writable cells seen as read-only ones, without copying.</summary>
    /// <remarks>
    /// <see cref="Memory{T}"/> and <see cref="ReadOnlyMemory{T}"/> have the same fields in the same order; the runtime's
    /// own conversion between them is the same reinterpretation.
    /// </remarks>
    public static ReadOnlySpan<ReadOnlyMemory<byte>> AsReadOnly(ReadOnlySpan<Memory<byte>> cells) =>
        MemoryMarshal.CreateReadOnlySpan(
            ref Unsafe.As<Memory<byte>, ReadOnlyMemory<byte>>(ref MemoryMarshal.GetReference(cells)), cells.Length);

    private static GfKernel SelectBest()
    {
        GfKernel best = GfKernel.Scalar;
        foreach (GfKernel kernel in Enum.GetValues<GfKernel>())
        {
            if (IsSupported(kernel))
            {
                best = kernel;
            }
        }

        return best;
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
        if (length < width)
        {
            ApplyScalar(matrix, inputs, outputs, outputCount, 0, length);
            return;
        }

        fixed (byte* tables = matrix.Tables(TOps.TableKind, out int tableSize))
        {
            var loop = new KernelLoop(tables, (nuint)tableSize, matrix.Rows, matrix.Columns, inputs, outputs);

            // Up to four outputs (every parity count in common use, and every 1- or 2-shard reconstruction) run in one
            // register group, so the loop for that group size is the whole kernel. Wider ones interleave groups.
            switch (outputCount)
            {
                case 1:
                    RunGroup<TOps, TVector, OutputGroup1>(loop, length);
                    break;
                case 2:
                    RunGroup<TOps, TVector, OutputGroup2>(loop, length);
                    break;
                case 3:
                    RunGroup<TOps, TVector, OutputGroup3>(loop, length);
                    break;
                case 4:
                    RunGroup<TOps, TVector, OutputGroup4>(loop, length);
                    break;
                default:
                    RunGroups<TOps, TVector>(loop, outputCount, length);
                    break;
            }
        }
    }

    // Every vector of outputs [0, TGroup.Count): two-vector steps, then one-vector steps, then an overlapping last step.
    private static void RunGroup<TOps, TVector, TGroup>(in KernelLoop loop, nuint length)
        where TOps : struct, IGfVectorOps<TVector>
        where TVector : unmanaged
        where TGroup : struct, IOutputGroup
    {
        nuint width = (nuint)TOps.ByteCount;
        nuint offset = 0;

        // One or two outputs leave room for the two-vector step's second set of accumulators even in 16 registers.
        if (TOps.Unroll > 1 || TGroup.Count <= 2)
        {
            for (; offset + (2 * width) <= length; offset += 2 * width)
            {
                ApplyGroup2<TOps, TVector, TGroup>(loop, 0, offset);
            }
        }

        for (; offset + width <= length; offset += width)
        {
            ApplyGroup<TOps, TVector, TGroup>(loop, 0, offset);
        }

        if (offset < length)
        {
            ApplyGroup<TOps, TVector, TGroup>(loop, 0, length - width);
        }
    }

    // More than four outputs: each step runs every group of four (and the remainder group), so the inputs are read
    // from memory once and the later groups find them in L1.
    private static void RunGroups<TOps, TVector>(in KernelLoop loop, int outputCount, nuint length)
        where TOps : struct, IGfVectorOps<TVector>
        where TVector : unmanaged
    {
        nuint width = (nuint)TOps.ByteCount;
        nuint offset = 0;
        if (TOps.Unroll > 1)
        {
            for (; offset + (2 * width) <= length; offset += 2 * width)
            {
                Step2<TOps, TVector>(loop, outputCount, offset);
            }
        }

        for (; offset + width <= length; offset += width)
        {
            Step<TOps, TVector>(loop, outputCount, offset);
        }

        if (offset < length)
        {
            Step<TOps, TVector>(loop, outputCount, length - width);
        }
    }

    private static void Step<TOps, TVector>(in KernelLoop loop, int outputCount, nuint offset)
        where TOps : struct, IGfVectorOps<TVector>
        where TVector : unmanaged
    {
        int o = 0;
        for (; o + OutputGroup4.Count <= outputCount; o += OutputGroup4.Count)
        {
            ApplyGroup<TOps, TVector, OutputGroup4>(loop, o, offset);
        }

        switch (outputCount - o)
        {
            case 3:
                ApplyGroup<TOps, TVector, OutputGroup3>(loop, o, offset);
                break;
            case 2:
                ApplyGroup<TOps, TVector, OutputGroup2>(loop, o, offset);
                break;
            case 1:
                ApplyGroup<TOps, TVector, OutputGroup1>(loop, o, offset);
                break;
        }
    }

    private static void Step2<TOps, TVector>(in KernelLoop loop, int outputCount, nuint offset)
        where TOps : struct, IGfVectorOps<TVector>
        where TVector : unmanaged
    {
        int o = 0;
        for (; o + OutputGroup4.Count <= outputCount; o += OutputGroup4.Count)
        {
            ApplyGroup2<TOps, TVector, OutputGroup4>(loop, o, offset);
        }

        switch (outputCount - o)
        {
            case 3:
                ApplyGroup2<TOps, TVector, OutputGroup3>(loop, o, offset);
                break;
            case 2:
                ApplyGroup2<TOps, TVector, OutputGroup2>(loop, o, offset);
                break;
            case 1:
                ApplyGroup2<TOps, TVector, OutputGroup1>(loop, o, offset);
                break;
        }
    }

    // One vector of outputs [first, first + TGroup.Count), accumulated in registers over every input and stored once.
    // TGroup.Count is a JIT-time constant, so the unused accumulators and their branches disappear. Four accumulators
    // plus the nibble and table temporaries fit the 16 registers of AVX2 without spilling.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ApplyGroup<TOps, TVector, TGroup>(in KernelLoop loop, int first, nuint offset)
        where TOps : struct, IGfVectorOps<TVector>
        where TVector : unmanaged
        where TGroup : struct, IOutputGroup
    {
        nuint t = loop.TableSize;
        byte* table = loop.Tables + ((nuint)first * t);
        byte** inputs = loop.Inputs;

        // The first input initializes the accumulators, so outputs may hold anything on entry.
        TOps.Split(TOps.Load(inputs[0] + offset), out TVector low, out TVector high);
        TVector acc0 = MultiplyBy<TOps, TVector>(table, low, high);
        TVector acc1 = TGroup.Count > 1 ? MultiplyBy<TOps, TVector>(table + t, low, high) : default;
        TVector acc2 = TGroup.Count > 2 ? MultiplyBy<TOps, TVector>(table + (2 * t), low, high) : default;
        TVector acc3 = TGroup.Count > 3 ? MultiplyBy<TOps, TVector>(table + (3 * t), low, high) : default;

        int j = 1;
        if (TOps.PairInputs)
        {
            nuint stride = loop.ColumnStride;
            for (; j + 1 < loop.Columns; j += 2)
            {
                table += stride;
                TOps.Split(TOps.Load(inputs[j] + offset), out low, out high);
                TOps.Split(TOps.Load(inputs[j + 1] + offset), out TVector low2, out TVector high2);
                acc0 = Xor3<TOps, TVector>(acc0, MultiplyBy<TOps, TVector>(table, low, high), MultiplyBy<TOps, TVector>(table + stride, low2, high2));
                if (TGroup.Count > 1)
                {
                    acc1 = Xor3<TOps, TVector>(acc1, MultiplyBy<TOps, TVector>(table + t, low, high), MultiplyBy<TOps, TVector>(table + stride + t, low2, high2));
                }

                if (TGroup.Count > 2)
                {
                    acc2 = Xor3<TOps, TVector>(acc2, MultiplyBy<TOps, TVector>(table + (2 * t), low, high), MultiplyBy<TOps, TVector>(table + stride + (2 * t), low2, high2));
                }

                if (TGroup.Count > 3)
                {
                    acc3 = Xor3<TOps, TVector>(acc3, MultiplyBy<TOps, TVector>(table + (3 * t), low, high), MultiplyBy<TOps, TVector>(table + stride + (3 * t), low2, high2));
                }

                table += stride;
            }
        }

        for (; j < loop.Columns; j++)
        {
            table += loop.ColumnStride;
            TOps.Split(TOps.Load(inputs[j] + offset), out low, out high);
            acc0 = TOps.Xor(acc0, MultiplyBy<TOps, TVector>(table, low, high));
            if (TGroup.Count > 1)
            {
                acc1 = TOps.Xor(acc1, MultiplyBy<TOps, TVector>(table + t, low, high));
            }

            if (TGroup.Count > 2)
            {
                acc2 = TOps.Xor(acc2, MultiplyBy<TOps, TVector>(table + (2 * t), low, high));
            }

            if (TGroup.Count > 3)
            {
                acc3 = TOps.Xor(acc3, MultiplyBy<TOps, TVector>(table + (3 * t), low, high));
            }
        }

        byte** outputs = loop.Outputs + first;
        TOps.Store(outputs[0] + offset, acc0);
        if (TGroup.Count > 1)
        {
            TOps.Store(outputs[1] + offset, acc1);
        }

        if (TGroup.Count > 2)
        {
            TOps.Store(outputs[2] + offset, acc2);
        }

        if (TGroup.Count > 3)
        {
            TOps.Store(outputs[3] + offset, acc3);
        }
    }

    // Two consecutive vectors of the same outputs: each input pointer and coefficient table is fetched once for both,
    // which halves the loop's overhead per byte. Only where the registers hold it: kernels whose Unroll is 2, or
    // groups of at most two outputs.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ApplyGroup2<TOps, TVector, TGroup>(in KernelLoop loop, int first, nuint offset)
        where TOps : struct, IGfVectorOps<TVector>
        where TVector : unmanaged
        where TGroup : struct, IOutputGroup
    {
        nuint t = loop.TableSize;
        nuint w = (nuint)TOps.ByteCount;
        byte* table = loop.Tables + ((nuint)first * t);
        byte** inputs = loop.Inputs;

        byte* input = inputs[0] + offset;
        TOps.Split(TOps.Load(input), out TVector lowA, out TVector highA);
        TOps.Split(TOps.Load(input + w), out TVector lowB, out TVector highB);
        TOps.LoadTable(table, out TVector p, out TVector q);
        TVector a0 = TOps.Multiply(p, q, lowA, highA);
        TVector b0 = TOps.Multiply(p, q, lowB, highB);
        TVector a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
        if (TGroup.Count > 1)
        {
            TOps.LoadTable(table + t, out p, out q);
            a1 = TOps.Multiply(p, q, lowA, highA);
            b1 = TOps.Multiply(p, q, lowB, highB);
        }

        if (TGroup.Count > 2)
        {
            TOps.LoadTable(table + (2 * t), out p, out q);
            a2 = TOps.Multiply(p, q, lowA, highA);
            b2 = TOps.Multiply(p, q, lowB, highB);
        }

        if (TGroup.Count > 3)
        {
            TOps.LoadTable(table + (3 * t), out p, out q);
            a3 = TOps.Multiply(p, q, lowA, highA);
            b3 = TOps.Multiply(p, q, lowB, highB);
        }

        int j = 1;
        if (TOps.PairInputs)
        {
            nuint stride = loop.ColumnStride;
            for (; j + 1 < loop.Columns; j += 2)
            {
                table += stride;
                byte* next = table + stride;
                input = inputs[j] + offset;
                byte* input2 = inputs[j + 1] + offset;
                TOps.Split(TOps.Load(input), out lowA, out highA);
                TOps.Split(TOps.Load(input + w), out lowB, out highB);
                TOps.Split(TOps.Load(input2), out TVector lowC, out TVector highC);
                TOps.Split(TOps.Load(input2 + w), out TVector lowD, out TVector highD);
                TOps.LoadTable(table, out p, out q);
                TOps.LoadTable(next, out TVector r, out TVector u);
                a0 = Xor3<TOps, TVector>(a0, TOps.Multiply(p, q, lowA, highA), TOps.Multiply(r, u, lowC, highC));
                b0 = Xor3<TOps, TVector>(b0, TOps.Multiply(p, q, lowB, highB), TOps.Multiply(r, u, lowD, highD));
                if (TGroup.Count > 1)
                {
                    TOps.LoadTable(table + t, out p, out q);
                    TOps.LoadTable(next + t, out r, out u);
                    a1 = Xor3<TOps, TVector>(a1, TOps.Multiply(p, q, lowA, highA), TOps.Multiply(r, u, lowC, highC));
                    b1 = Xor3<TOps, TVector>(b1, TOps.Multiply(p, q, lowB, highB), TOps.Multiply(r, u, lowD, highD));
                }

                if (TGroup.Count > 2)
                {
                    TOps.LoadTable(table + (2 * t), out p, out q);
                    TOps.LoadTable(next + (2 * t), out r, out u);
                    a2 = Xor3<TOps, TVector>(a2, TOps.Multiply(p, q, lowA, highA), TOps.Multiply(r, u, lowC, highC));
                    b2 = Xor3<TOps, TVector>(b2, TOps.Multiply(p, q, lowB, highB), TOps.Multiply(r, u, lowD, highD));
                }

                if (TGroup.Count > 3)
                {
                    TOps.LoadTable(table + (3 * t), out p, out q);
                    TOps.LoadTable(next + (3 * t), out r, out u);
                    a3 = Xor3<TOps, TVector>(a3, TOps.Multiply(p, q, lowA, highA), TOps.Multiply(r, u, lowC, highC));
                    b3 = Xor3<TOps, TVector>(b3, TOps.Multiply(p, q, lowB, highB), TOps.Multiply(r, u, lowD, highD));
                }

                table = next;
            }
        }

        for (; j < loop.Columns; j++)
        {
            table += loop.ColumnStride;
            input = inputs[j] + offset;
            TOps.Split(TOps.Load(input), out lowA, out highA);
            TOps.Split(TOps.Load(input + w), out lowB, out highB);
            TOps.LoadTable(table, out p, out q);
            a0 = TOps.Xor(a0, TOps.Multiply(p, q, lowA, highA));
            b0 = TOps.Xor(b0, TOps.Multiply(p, q, lowB, highB));
            if (TGroup.Count > 1)
            {
                TOps.LoadTable(table + t, out p, out q);
                a1 = TOps.Xor(a1, TOps.Multiply(p, q, lowA, highA));
                b1 = TOps.Xor(b1, TOps.Multiply(p, q, lowB, highB));
            }

            if (TGroup.Count > 2)
            {
                TOps.LoadTable(table + (2 * t), out p, out q);
                a2 = TOps.Xor(a2, TOps.Multiply(p, q, lowA, highA));
                b2 = TOps.Xor(b2, TOps.Multiply(p, q, lowB, highB));
            }

            if (TGroup.Count > 3)
            {
                TOps.LoadTable(table + (3 * t), out p, out q);
                a3 = TOps.Xor(a3, TOps.Multiply(p, q, lowA, highA));
                b3 = TOps.Xor(b3, TOps.Multiply(p, q, lowB, highB));
            }
        }

        byte** outputs = loop.Outputs + first;
        TOps.Store(outputs[0] + offset, a0);
        TOps.Store(outputs[0] + offset + w, b0);
        if (TGroup.Count > 1)
        {
            TOps.Store(outputs[1] + offset, a1);
            TOps.Store(outputs[1] + offset + w, b1);
        }

        if (TGroup.Count > 2)
        {
            TOps.Store(outputs[2] + offset, a2);
            TOps.Store(outputs[2] + offset + w, b2);
        }

        if (TGroup.Count > 3)
        {
            TOps.Store(outputs[3] + offset, a3);
            TOps.Store(outputs[3] + offset + w, b3);
        }
    }

    // One vector times one coefficient, its table loaded for this use only.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector MultiplyBy<TOps, TVector>(byte* table, TVector low, TVector high)
        where TOps : struct, IGfVectorOps<TVector>
        where TVector : unmanaged
    {
        TOps.LoadTable(table, out TVector tableLow, out TVector tableHigh);
        return TOps.Multiply(tableLow, tableHigh, low, high);
    }

    // a ^ b ^ c: with AVX-512 the JIT emits one vpternlogd, so pairing inputs halves the XORs, which compete with the
    // multiplies for the same vector pipes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector Xor3<TOps, TVector>(TVector a, TVector b, TVector c)
        where TOps : struct, IGfVectorOps<TVector>
        where TVector : unmanaged =>
        TOps.Xor(TOps.Xor(a, b), c);
}

/// <summary>What every step of a vector kernel reads: tables (column-major) and the buffer pointers.</summary>
internal readonly unsafe struct KernelLoop
{
    public KernelLoop(byte* tables, nuint tableSize, int rows, int columns, byte** inputs, byte** outputs)
    {
        Tables = tables;
        TableSize = tableSize;
        ColumnStride = (nuint)rows * tableSize;
        Columns = columns;
        Inputs = inputs;
        Outputs = outputs;
    }

    public byte* Tables { get; }

    public nuint TableSize { get; }

    /// <summary>Bytes from one input's tables to the next input's: a table per matrix row.</summary>
    public nuint ColumnStride { get; }

    public int Columns { get; }

    public byte** Inputs { get; }

    public byte** Outputs { get; }
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

/// <summary>
/// One kernel call over managed cells: pins every cell, collects the pointers, runs the kernel, unpins.
/// </summary>
/// <remarks>
/// The kernels hold a pointer per shard at once, which a span cannot express. Each cell is pinned by a <c>fixed</c>
/// statement in its own frame of a short recursion (one frame per cell, at most 64): a pinned local costs nothing
/// unless a GC happens meanwhile, where <see cref="Memory{T}.Pin"/> allocates and frees a GC handle per cell, tens of
/// nanoseconds each, which is a visible share of a 64 KiB RS(2,1) encode.
/// Inputs and outputs are either the spans themselves or, with a map, the cells the map names.
/// </remarks>
internal unsafe ref struct PinnedCall
{
    private readonly GfKernel _kernel;
    private readonly CodingMatrix _matrix;
    private readonly ReadOnlySpan<ReadOnlyMemory<byte>> _inputs;
    private readonly ReadOnlySpan<byte> _inputMap;
    private readonly ReadOnlySpan<ReadOnlyMemory<byte>> _outputs;
    private readonly ReadOnlySpan<byte> _outputMap;
    private readonly int _inputCount;
    private readonly int _outputCount;
    private readonly int _length;
    private PointerArray _pointers;

    public PinnedCall(
        GfKernel kernel,
        CodingMatrix matrix,
        ReadOnlySpan<ReadOnlyMemory<byte>> inputs,
        ReadOnlySpan<byte> inputMap,
        ReadOnlySpan<ReadOnlyMemory<byte>> outputs,
        ReadOnlySpan<byte> outputMap,
        int outputCount,
        int length)
    {
        _kernel = kernel;
        _matrix = matrix;
        _inputs = inputs;
        _inputMap = inputMap;
        _outputs = outputs;
        _outputMap = outputMap;
        _inputCount = matrix.Columns;
        _outputCount = outputCount;
        _length = length;
    }

    public void Run() => PinFrom(0);

    private void PinFrom(int index)
    {
        if (index == _inputCount + _outputCount)
        {
            byte** pointers = (byte**)Unsafe.AsPointer(ref _pointers[0]);
            GfKernels.Apply(_kernel, _matrix, pointers, pointers + _inputCount, _outputCount, _length);
            return;
        }

        ReadOnlyMemory<byte> cell = index < _inputCount
            ? _inputs[_inputMap.IsEmpty ? index : _inputMap[index]]
            : _outputs[_outputMap.IsEmpty ? index - _inputCount : _outputMap[index - _inputCount]];
        fixed (byte* pointer = cell.Span)
        {
            _pointers[index] = (nint)pointer;
            PinFrom(index + 1);
        }
    }

    [InlineArray(GfKernels.MaxBuffers)]
    private struct PointerArray
    {
        private nint _element0;
    }
}
