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
/// they are separate. A kernel with another table format (GFNI affine) would implement the same pair.
/// </remarks>
internal unsafe interface IGfVectorOps<TVector>
    where TVector : unmanaged
{
    static abstract bool IsSupported { get; }

    static abstract int ByteCount { get; }

    static abstract TVector Load(byte* source);

    static abstract void Store(byte* destination, TVector value);

    static abstract TVector Xor(TVector left, TVector right);

    /// <summary>The low and high nibble of every byte, each as a shuffle index 0..15.</summary>
    static abstract void Split(TVector value, out TVector low, out TVector high);

    /// <summary>c·x for every byte x, given the <see cref="CodingMatrix.NibbleTableSize"/>-byte table of c.</summary>
    static abstract TVector Multiply(byte* nibbleTable, TVector low, TVector high);
}

internal readonly unsafe struct GfVector128Ops : IGfVectorOps<Vector128<byte>>
{
    public static bool IsSupported =>
        Vector128.IsHardwareAccelerated && (Ssse3.IsSupported || AdvSimd.Arm64.IsSupported);

    public static int ByteCount => Vector128<byte>.Count;

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
    public static Vector128<byte> Multiply(byte* nibbleTable, Vector128<byte> low, Vector128<byte> high) =>
        Lookup(Vector128.Load(nibbleTable), low) ^ Lookup(Vector128.Load(nibbleTable + 16), high);

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
    public static Vector256<byte> Multiply(byte* nibbleTable, Vector256<byte> low, Vector256<byte> high) =>
        Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(nibbleTable), low)
        ^ Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(nibbleTable + 16), high);
}

internal readonly unsafe struct GfVector512Ops : IGfVectorOps<Vector512<byte>>
{
    public static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512BW.IsSupported;

    public static int ByteCount => Vector512<byte>.Count;

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
    public static Vector512<byte> Multiply(byte* nibbleTable, Vector512<byte> low, Vector512<byte> high) =>
        Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((int*)nibbleTable).AsByte(), low)
        ^ Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((int*)(nibbleTable + 16)).AsByte(), high);
}
