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

    // Bytes of all inputs together that one chunk of a wide matrix keeps in L1 (half of the smallest common L1D).
    private const int L1InputBudget = 16 * 1024;

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

            // Multiplying by 1 is the identity, so a coefficient known to be 1 costs one XOR instead of a multiply. The
            // encoding matrix has a row and a column of them (GfMatrix.SystematicCauchy), which takes K + M − 1 of the
            // K·M multiplies out of every encode; rebuilding one data shard with the first parity is all XORs.
            bool rowOnes = matrix.FirstRowIsOnes;
            bool columnOnes = matrix.LeadingOnesInFirstColumn >= outputCount;
            if (rowOnes && columnOnes)
            {
                RunShape<TOps, TVector, RowAndColumnOfOnes>(loop, outputCount, length);
            }
            else if (rowOnes)
            {
                RunShape<TOps, TVector, RowOfOnes>(loop, outputCount, length);
            }
            else if (columnOnes)
            {
                RunShape<TOps, TVector, ColumnOfOnes>(loop, outputCount, length);
            }
            else
            {
                RunShape<TOps, TVector, NoOnes>(loop, outputCount, length);
            }
        }
    }

    private static void RunShape<TOps, TVector, TShape>(in KernelLoop loop, int outputCount, nuint length)
        where TOps : struct, IGfVectorOps<TVector>
        where TVector : unmanaged
        where TShape : struct, IGroupShape
    {
        // Up to four outputs (every parity count in common use, and every 1- or 2-shard reconstruction) run in one
        // register group, so the loop for that group size is the whole kernel.
        switch (outputCount)
        {
            case 1:
                RunGroup<TOps, TVector, OutputGroup1, TShape>(loop, 0, 0, length);
                return;
            case 2:
                RunGroup<TOps, TVector, OutputGroup2, TShape>(loop, 0, 0, length);
                return;
            case 3:
                RunGroup<TOps, TVector, OutputGroup3, TShape>(loop, 0, 0, length);
                return;
            case 4:
                RunGroup<TOps, TVector, OutputGroup4, TShape>(loop, 0, 0, length);
                return;
        }

        // Wider: every group of four outputs (and the remainder group) in turn over one chunk, the chunks small enough
        // that the later groups find the inputs in L1, so each input byte is still read from memory once. The first
        // row belongs to the first group.
        nuint step = 2 * (nuint)TOps.ByteCount;
        nuint chunk = Math.Max(step, (nuint)(L1InputBudget / loop.Columns) / step * step);
        for (nuint start = 0; start < length; start += chunk)
        {
            nuint end = Math.Min(length, start + chunk);
            RunGroup<TOps, TVector, OutputGroup4, TShape>(loop, 0, start, end);
            int o = OutputGroup4.Count;
            for (; o + OutputGroup4.Count <= outputCount; o += OutputGroup4.Count)
            {
                RunGroup<TOps, TVector, OutputGroup4, LaterGroup<TShape>>(loop, o, start, end);
            }

            switch (outputCount - o)
            {
                case 3:
                    RunGroup<TOps, TVector, OutputGroup3, LaterGroup<TShape>>(loop, o, start, end);
                    break;
                case 2:
                    RunGroup<TOps, TVector, OutputGroup2, LaterGroup<TShape>>(loop, o, start, end);
                    break;
                case 1:
                    RunGroup<TOps, TVector, OutputGroup1, LaterGroup<TShape>>(loop, o, start, end);
                    break;
            }
        }
    }

    // Bytes [start, end) of outputs [first, first + TGroup.Count): two-vector steps, then one-vector steps, the last
    // one ending at `end` and overlapping the one before (or the previous chunk) when the range is not a whole number
    // of vectors. end ≥ one vector. The steps are inlined here, so this is the method the JIT optimizes as a whole.
    private static void RunGroup<TOps, TVector, TGroup, TShape>(in KernelLoop loop, int first, nuint start, nuint end)
        where TOps : struct, IGfVectorOps<TVector>
        where TVector : unmanaged
        where TGroup : struct, IOutputGroup
        where TShape : struct, IGroupShape
    {
        nuint width = (nuint)TOps.ByteCount;
        nuint offset = start;

        // One or two outputs leave room for the two-vector step's second set of accumulators even in 16 registers.
        if (TOps.Unroll > 1 || TGroup.Count <= 2)
        {
            offset = RunPairs<TOps, TVector, TGroup, TShape>(loop, first, offset, end);
        }

        while (offset < end)
        {
            nuint at = Math.Min(offset, end - width);
            ApplyGroup<TOps, TVector, TGroup, TShape>(loop, first, at);
            offset = at + width;
        }
    }

    // One vector of outputs [first, first + TGroup.Count), accumulated in registers over every input and stored once.
    // TGroup.Count and TShape are JIT-time constants, so the unused accumulators, the multiplies by 1 and their
    // branches disappear. Four accumulators plus the nibble and table temporaries fit the 16 registers of AVX2.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ApplyGroup<TOps, TVector, TGroup, TShape>(in KernelLoop loop, int first, nuint offset)
        where TOps : struct, IGfVectorOps<TVector>
        where TVector : unmanaged
        where TGroup : struct, IOutputGroup
        where TShape : struct, IGroupShape
    {
        nuint t = loop.TableSize;
        byte* table = loop.Tables + ((nuint)first * t);
        byte** inputs = loop.Inputs;
        bool rowOnes = TShape.FirstRowOnes;
        bool columnOnes = TShape.FirstColumnOnes;

        // The first input initializes the accumulators, so outputs may hold anything on entry.
        TVector x = TOps.Load(inputs[0] + offset);
        TOps.Split(x, out TVector low, out TVector high);
        TVector acc0 = Term<TOps, TVector>(rowOnes || columnOnes, table, x, low, high);
        TVector acc1 = TGroup.Count > 1 ? Term<TOps, TVector>(columnOnes, table + t, x, low, high) : default;
        TVector acc2 = TGroup.Count > 2 ? Term<TOps, TVector>(columnOnes, table + (2 * t), x, low, high) : default;
        TVector acc3 = TGroup.Count > 3 ? Term<TOps, TVector>(columnOnes, table + (3 * t), x, low, high) : default;

        int j = 1;
        if (TOps.PairInputs)
        {
            nuint stride = loop.ColumnStride;
            for (; j + 1 < loop.Columns; j += 2)
            {
                table += stride;
                byte* next = table + stride;
                x = TOps.Load(inputs[j] + offset);
                TVector y = TOps.Load(inputs[j + 1] + offset);
                TOps.Split(x, out low, out high);
                TOps.Split(y, out TVector low2, out TVector high2);
                acc0 = Xor3<TOps, TVector>(acc0, Term<TOps, TVector>(rowOnes, table, x, low, high), Term<TOps, TVector>(rowOnes, next, y, low2, high2));
                if (TGroup.Count > 1)
                {
                    acc1 = Xor3<TOps, TVector>(acc1, MultiplyBy<TOps, TVector>(table + t, low, high), MultiplyBy<TOps, TVector>(next + t, low2, high2));
                }

                if (TGroup.Count > 2)
                {
                    acc2 = Xor3<TOps, TVector>(acc2, MultiplyBy<TOps, TVector>(table + (2 * t), low, high), MultiplyBy<TOps, TVector>(next + (2 * t), low2, high2));
                }

                if (TGroup.Count > 3)
                {
                    acc3 = Xor3<TOps, TVector>(acc3, MultiplyBy<TOps, TVector>(table + (3 * t), low, high), MultiplyBy<TOps, TVector>(next + (3 * t), low2, high2));
                }

                table = next;
            }
        }

        for (; j < loop.Columns; j++)
        {
            table += loop.ColumnStride;
            x = TOps.Load(inputs[j] + offset);
            TOps.Split(x, out low, out high);
            acc0 = TOps.Xor(acc0, Term<TOps, TVector>(rowOnes, table, x, low, high));
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

    // Two consecutive vectors (A and B) of the same outputs per step, from `offset` while two fit before `end`; returns
    // where it stopped. Each input pointer and coefficient table is fetched once for both vectors, which halves the
    // loop's overhead per byte. Only where the registers hold it: kernels whose Unroll is 2, or groups of at most two
    // outputs. A loop of its own rather than a step inlined into RunGroup: the step is too large for the JIT to inline.
    private static nuint RunPairs<TOps, TVector, TGroup, TShape>(in KernelLoop loop, int first, nuint offset, nuint end)
        where TOps : struct, IGfVectorOps<TVector>
        where TVector : unmanaged
        where TGroup : struct, IOutputGroup
        where TShape : struct, IGroupShape
    {
        nuint t = loop.TableSize;
        nuint w = (nuint)TOps.ByteCount;
        byte* tables = loop.Tables + ((nuint)first * t);
        byte** inputs = loop.Inputs;
        bool rowOnes = TShape.FirstRowOnes;
        bool columnOnes = TShape.FirstColumnOnes;
        for (; offset + (2 * w) <= end; offset += 2 * w)
        {
            byte* table = tables;
            byte* input = inputs[0] + offset;
            TVector xA = TOps.Load(input);
            TVector xB = TOps.Load(input + w);
            TOps.Split(xA, out TVector lowA, out TVector highA);
            TOps.Split(xB, out TVector lowB, out TVector highB);
            Terms<TOps, TVector>(rowOnes || columnOnes, table, xA, lowA, highA, xB, lowB, highB, out TVector a0, out TVector b0);
            TVector a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
            if (TGroup.Count > 1)
            {
                Terms<TOps, TVector>(columnOnes, table + t, xA, lowA, highA, xB, lowB, highB, out a1, out b1);
            }

            if (TGroup.Count > 2)
            {
                Terms<TOps, TVector>(columnOnes, table + (2 * t), xA, lowA, highA, xB, lowB, highB, out a2, out b2);
            }

            if (TGroup.Count > 3)
            {
                Terms<TOps, TVector>(columnOnes, table + (3 * t), xA, lowA, highA, xB, lowB, highB, out a3, out b3);
            }

            TVector pA, pB, pC, pD;
            int j = 1;
            if (TOps.PairInputs)
            {
                // Inputs j (vectors A, B) and j + 1 (C, D) fold into each accumulator with one three-way XOR.
                nuint stride = loop.ColumnStride;
                for (; j + 1 < loop.Columns; j += 2)
                {
                    table += stride;
                    byte* next = table + stride;
                    input = inputs[j] + offset;
                    byte* input2 = inputs[j + 1] + offset;
                    xA = TOps.Load(input);
                    xB = TOps.Load(input + w);
                    TVector xC = TOps.Load(input2);
                    TVector xD = TOps.Load(input2 + w);
                    TOps.Split(xA, out lowA, out highA);
                    TOps.Split(xB, out lowB, out highB);
                    TOps.Split(xC, out TVector lowC, out TVector highC);
                    TOps.Split(xD, out TVector lowD, out TVector highD);
                    Terms<TOps, TVector>(rowOnes, table, xA, lowA, highA, xB, lowB, highB, out pA, out pB);
                    Terms<TOps, TVector>(rowOnes, next, xC, lowC, highC, xD, lowD, highD, out pC, out pD);
                    a0 = Xor3<TOps, TVector>(a0, pA, pC);
                    b0 = Xor3<TOps, TVector>(b0, pB, pD);
                    if (TGroup.Count > 1)
                    {
                        Terms<TOps, TVector>(false, table + t, xA, lowA, highA, xB, lowB, highB, out pA, out pB);
                        Terms<TOps, TVector>(false, next + t, xC, lowC, highC, xD, lowD, highD, out pC, out pD);
                        a1 = Xor3<TOps, TVector>(a1, pA, pC);
                        b1 = Xor3<TOps, TVector>(b1, pB, pD);
                    }

                    if (TGroup.Count > 2)
                    {
                        Terms<TOps, TVector>(false, table + (2 * t), xA, lowA, highA, xB, lowB, highB, out pA, out pB);
                        Terms<TOps, TVector>(false, next + (2 * t), xC, lowC, highC, xD, lowD, highD, out pC, out pD);
                        a2 = Xor3<TOps, TVector>(a2, pA, pC);
                        b2 = Xor3<TOps, TVector>(b2, pB, pD);
                    }

                    if (TGroup.Count > 3)
                    {
                        Terms<TOps, TVector>(false, table + (3 * t), xA, lowA, highA, xB, lowB, highB, out pA, out pB);
                        Terms<TOps, TVector>(false, next + (3 * t), xC, lowC, highC, xD, lowD, highD, out pC, out pD);
                        a3 = Xor3<TOps, TVector>(a3, pA, pC);
                        b3 = Xor3<TOps, TVector>(b3, pB, pD);
                    }

                    table = next;
                }
            }

            for (; j < loop.Columns; j++)
            {
                table += loop.ColumnStride;
                input = inputs[j] + offset;
                xA = TOps.Load(input);
                xB = TOps.Load(input + w);
                TOps.Split(xA, out lowA, out highA);
                TOps.Split(xB, out lowB, out highB);
                Terms<TOps, TVector>(rowOnes, table, xA, lowA, highA, xB, lowB, highB, out pA, out pB);
                a0 = TOps.Xor(a0, pA);
                b0 = TOps.Xor(b0, pB);
                if (TGroup.Count > 1)
                {
                    Terms<TOps, TVector>(false, table + t, xA, lowA, highA, xB, lowB, highB, out pA, out pB);
                    a1 = TOps.Xor(a1, pA);
                    b1 = TOps.Xor(b1, pB);
                }

                if (TGroup.Count > 2)
                {
                    Terms<TOps, TVector>(false, table + (2 * t), xA, lowA, highA, xB, lowB, highB, out pA, out pB);
                    a2 = TOps.Xor(a2, pA);
                    b2 = TOps.Xor(b2, pB);
                }

                if (TGroup.Count > 3)
                {
                    Terms<TOps, TVector>(false, table + (3 * t), xA, lowA, highA, xB, lowB, highB, out pA, out pB);
                    a3 = TOps.Xor(a3, pA);
                    b3 = TOps.Xor(b3, pB);
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

        return offset;
    }

    // c·x, or x itself where c is known to be 1.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector Term<TOps, TVector>(bool one, byte* table, TVector x, TVector low, TVector high)
        where TOps : struct, IGfVectorOps<TVector>
        where TVector : unmanaged =>
        one ? x : MultiplyBy<TOps, TVector>(table, low, high);

    // c·xA and c·xB with c's table loaded once for both, or the vectors themselves where c is known to be 1.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Terms<TOps, TVector>(
        bool one,
        byte* table,
        TVector xA,
        TVector lowA,
        TVector highA,
        TVector xB,
        TVector lowB,
        TVector highB,
        out TVector productA,
        out TVector productB)
        where TOps : struct, IGfVectorOps<TVector>
        where TVector : unmanaged
    {
        if (one)
        {
            productA = xA;
            productB = xB;
            return;
        }

        TOps.LoadTable(table, out TVector tableLow, out TVector tableHigh);
        productA = TOps.Multiply(tableLow, tableHigh, lowA, highA);
        productB = TOps.Multiply(tableLow, tableHigh, lowB, highB);
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

/// <summary>Which coefficients of an output group are known to be 1, as JIT-time constants.</summary>
internal interface IGroupShape
{
    /// <summary>Every coefficient of the group's first output is 1.</summary>
    static abstract bool FirstRowOnes { get; }

    /// <summary>Every output of the group has coefficient 1 for the first input.</summary>
    static abstract bool FirstColumnOnes { get; }
}

internal readonly struct NoOnes : IGroupShape
{
    public static bool FirstRowOnes => false;

    public static bool FirstColumnOnes => false;
}

internal readonly struct RowOfOnes : IGroupShape
{
    public static bool FirstRowOnes => true;

    public static bool FirstColumnOnes => false;
}

internal readonly struct ColumnOfOnes : IGroupShape
{
    public static bool FirstRowOnes => false;

    public static bool FirstColumnOnes => true;
}

internal readonly struct RowAndColumnOfOnes : IGroupShape
{
    public static bool FirstRowOnes => true;

    public static bool FirstColumnOnes => true;
}

/// <summary>The groups after the first of a matrix wider than one group: the first row belongs to the first group.</summary>
internal readonly struct LaterGroup<TShape> : IGroupShape
    where TShape : struct, IGroupShape
{
    public static bool FirstRowOnes => false;

    public static bool FirstColumnOnes => TShape.FirstColumnOnes;
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
