using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Predastore.Encode;

/// <summary>
/// One vector width of the GF(2^8) multiply: the kernel loop is written once over this interface and the JIT
/// specializes it per struct, so each width compiles to straight-line intrinsics with no calls.
/// </summary>
/// <remarks>
/// <see cref="Split"/> runs once per input vector and <see cref="Multiply"/> once per (input, output), which is why
/// they are separate. The GFNI kernels need no split (one affine instruction multiplies whole bytes) and read the
/// 8-byte bit matrices of <see cref="CodingMatrix.AffineTables"/> instead of nibble tables.
/// </remarks>
internal unsafe interface IGfVectorOps<TVector>
    where TVector : unmanaged
{
    static abstract bool IsSupported { get; }

    static abstract int ByteCount { get; }

    /// <summary>Which table of <see cref="CodingMatrix"/> <see cref="Multiply"/> reads.</summary>
    static abstract GfTableKind TableKind { get; }

    /// <summary>
    /// Vectors of each input per loop step (1 or 2). Two halve the per-step overhead (input pointers, table loads,
    /// loop control) but double the accumulators, so only kernels with 32 registers or few temporaries take it.
    /// </summary>
    static abstract int Unroll { get; }

    /// <summary>
    /// Whether the loop folds two inputs into each accumulator at once (<c>acc ^ p ^ q</c>, one <c>vpternlogd</c>).
    /// Only where AVX-512 provides the instruction and the registers for the second input's temporaries.
    /// </summary>
    static abstract bool PairInputs { get; }

    static abstract TVector Load(byte* source);

    static abstract void Store(byte* destination, TVector value);

    static abstract TVector Xor(TVector left, TVector right);

    /// <summary>The low and high nibble of every byte, each as a shuffle index 0..15.</summary>
    static abstract void Split(TVector value, out TVector low, out TVector high);

    /// <summary>The table of one coefficient c (<see cref="TableKind"/>) in registers, for <see cref="Multiply"/>.</summary>
    /// <remarks>
    /// Separate from the multiply so a loop step that multiplies several vectors by the same c loads its table once:
    /// table loads, not arithmetic, bound the nibble kernels when every use reloads.
    /// </remarks>
    static abstract void LoadTable(byte* table, out TVector tableLow, out TVector tableHigh);

    /// <summary>c·x for every byte x, given the loaded table of c and the split of x.</summary>
    static abstract TVector Multiply(TVector tableLow, TVector tableHigh, TVector low, TVector high);
}

/// <summary>The per-coefficient table formats of <see cref="CodingMatrix"/>.</summary>
internal enum GfTableKind
{
    /// <summary>32 bytes: the products of the 16 low nibbles, then of the 16 high nibbles (byte shuffles).</summary>
    Nibble,

    /// <summary>8 bytes: the 8×8 bit matrix of "multiply by c" for <c>vgf2p8affineqb</c>.</summary>
    Affine,
}

internal readonly unsafe struct GfVector128Ops : IGfVectorOps<Vector128<byte>>
{
    public static bool IsSupported =>
        Vector128.IsHardwareAccelerated && (Ssse3.IsSupported || AdvSimd.Arm64.IsSupported);

    public static int ByteCount => Vector128<byte>.Count;

    public static GfTableKind TableKind => GfTableKind.Nibble;

    public static int Unroll => 1;

    public static bool PairInputs => Avx512F.VL.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Load(byte* source) => Vector128.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* destination, Vector128<byte> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Xor(Vector128<byte> left, Vector128<byte> right) => left ^ right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Split(Vector128<byte> value, out Vector128<byte> low, out Vector128<byte> high)
    {
        Vector128<byte> mask = Vector128.Create((byte)0x0F);
        low = value & mask;
        high = Vector128.ShiftRightLogical(value.AsUInt16(), 4).AsByte() & mask;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadTable(byte* table, out Vector128<byte> tableLow, out Vector128<byte> tableHigh)
    {
        tableLow = Vector128.Load(table);
        tableHigh = Vector128.Load(table + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Multiply(Vector128<byte> tableLow, Vector128<byte> tableHigh, Vector128<byte> low, Vector128<byte> high) =>
        Lookup(tableLow, low) ^ Lookup(tableHigh, high);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Lookup(Vector128<byte> table, Vector128<byte> indices)
    {
        if (Ssse3.IsSupported)
        {
            return Ssse3.Shuffle(table, indices);
        }

        if (AdvSimd.Arm64.IsSupported)
        {
            return AdvSimd.Arm64.VectorTableLookup(table, indices);
        }

        return Vector128.Shuffle(table, indices);
    }
}

internal readonly unsafe struct GfVector256Ops : IGfVectorOps<Vector256<byte>>
{
    public static bool IsSupported => Vector256.IsHardwareAccelerated && Avx2.IsSupported;

    public static int ByteCount => Vector256<byte>.Count;

    public static GfTableKind TableKind => GfTableKind.Nibble;

    // Four accumulators, two nibble indices, the mask and two table temporaries already fill the 16 ymm registers.
    public static int Unroll => 1;

    public static bool PairInputs => Avx512F.VL.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Load(byte* source) => Vector256.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* destination, Vector256<byte> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Xor(Vector256<byte> left, Vector256<byte> right) => left ^ right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Split(Vector256<byte> value, out Vector256<byte> low, out Vector256<byte> high)
    {
        Vector256<byte> mask = Vector256.Create((byte)0x0F);
        low = value & mask;
        high = Vector256.ShiftRightLogical(value.AsUInt16(), 4).AsByte() & mask;
    }

    // vpshufb looks up within each 128-bit lane, so the 16-byte table is broadcast to both lanes (straight from
    // memory: vbroadcasti128).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadTable(byte* table, out Vector256<byte> tableLow, out Vector256<byte> tableHigh)
    {
        tableLow = Avx2.BroadcastVector128ToVector256(table);
        tableHigh = Avx2.BroadcastVector128ToVector256(table + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Multiply(Vector256<byte> tableLow, Vector256<byte> tableHigh, Vector256<byte> low, Vector256<byte> high) =>
        Avx2.Shuffle(tableLow, low) ^ Avx2.Shuffle(tableHigh, high);
}

internal readonly unsafe struct GfVector512Ops : IGfVectorOps<Vector512<byte>>
{
    public static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512BW.IsSupported;

    public static int ByteCount => Vector512<byte>.Count;

    public static GfTableKind TableKind => GfTableKind.Nibble;

    // 32 zmm registers hold eight accumulators and both steps' nibble indices.
    public static int Unroll => 2;

    public static bool PairInputs => Avx512F.VL.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Load(byte* source) => Vector512.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* destination, Vector512<byte> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Xor(Vector512<byte> left, Vector512<byte> right) => left ^ right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Split(Vector512<byte> value, out Vector512<byte> low, out Vector512<byte> high)
    {
        Vector512<byte> mask = Vector512.Create((byte)0x0F);
        low = value & mask;
        high = Vector512.ShiftRightLogical(value.AsUInt16(), 4).AsByte() & mask;
    }

    // As with AVX2 the shuffle is per 128-bit lane; vbroadcasti32x4 fills all four lanes from memory.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadTable(byte* table, out Vector512<byte> tableLow, out Vector512<byte> tableHigh)
    {
        tableLow = Avx512F.BroadcastVector128ToVector512((int*)table).AsByte();
        tableHigh = Avx512F.BroadcastVector128ToVector512((int*)(table + 16)).AsByte();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Multiply(Vector512<byte> tableLow, Vector512<byte> tableHigh, Vector512<byte> low, Vector512<byte> high) =>
        Avx512BW.Shuffle(tableLow, low) ^ Avx512BW.Shuffle(tableHigh, high);
}

/// <summary>
/// GFNI on 256-bit vectors: <c>vgf2p8affineqb</c> multiplies every byte by the 8×8 bit matrix of c in one instruction.
/// </summary>
/// <remarks>
/// <c>GaloisFieldMultiply</c> (<c>vgf2p8mulb</c>) reduces by 0x11B, the AES polynomial, so it cannot serve a code over
/// 0x11D; the affine transform is linear algebra over GF(2) and works for any polynomial, given the right matrix.
/// The matrix is one qword broadcast to every lane, loaded once per coefficient and loop step.
/// </remarks>
internal readonly unsafe struct GfGfni256Ops : IGfVectorOps<Vector256<byte>>
{
    public static bool IsSupported => Vector256.IsHardwareAccelerated && Gfni.V256.IsSupported;

    public static int ByteCount => Vector256<byte>.Count;

    public static GfTableKind TableKind => GfTableKind.Affine;

    // No split temporaries: eight accumulators and two inputs fit the 16 ymm registers of AVX2.
    public static int Unroll => 2;

    public static bool PairInputs => Avx512F.VL.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Load(byte* source) => Vector256.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* destination, Vector256<byte> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Xor(Vector256<byte> left, Vector256<byte> right) => left ^ right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Split(Vector256<byte> value, out Vector256<byte> low, out Vector256<byte> high)
    {
        low = value;
        high = default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadTable(byte* table, out Vector256<byte> tableLow, out Vector256<byte> tableHigh)
    {
        tableLow = Vector256.Create(*(ulong*)table).AsByte();
        tableHigh = default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Multiply(Vector256<byte> tableLow, Vector256<byte> tableHigh, Vector256<byte> low, Vector256<byte> high) =>
        Gfni.V256.GaloisFieldAffineTransform(low, tableLow, 0);
}

/// <summary>GFNI on 512-bit vectors; see <see cref="GfGfni256Ops"/>.</summary>
internal readonly unsafe struct GfGfni512Ops : IGfVectorOps<Vector512<byte>>
{
    public static bool IsSupported => Vector512.IsHardwareAccelerated && Gfni.V512.IsSupported;

    public static int ByteCount => Vector512<byte>.Count;

    public static GfTableKind TableKind => GfTableKind.Affine;

    public static int Unroll => 2;

    public static bool PairInputs => Avx512F.VL.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Load(byte* source) => Vector512.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* destination, Vector512<byte> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Xor(Vector512<byte> left, Vector512<byte> right) => left ^ right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Split(Vector512<byte> value, out Vector512<byte> low, out Vector512<byte> high)
    {
        low = value;
        high = default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadTable(byte* table, out Vector512<byte> tableLow, out Vector512<byte> tableHigh)
    {
        tableLow = Vector512.Create(*(ulong*)table).AsByte();
        tableHigh = default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Multiply(Vector512<byte> tableLow, Vector512<byte> tableHigh, Vector512<byte> low, Vector512<byte> high) =>
        Gfni.V512.GaloisFieldAffineTransform(low, tableLow, 0);
}
