using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Predastore.Wal;

/// <summary>
/// The CRC32C of a record in pieces (header and payload as written, or as a scatter read left them), equal to
/// <see cref="Crc32ParameterSet.Crc32C"/> over their concatenation.
/// </summary>
/// <remarks>
/// A warm read is a memory copy, and checking it with System.IO.Hashing (a 128-bit carry-less fold) took longer than
/// the copy; on the write path the writer thread hashes every payload before the write, in series with the disk. Where the CPU has 512-bit carry-less multiply (VPCLMULQDQ with AVX-512: Zen 4, Ice Lake and later) the
/// pieces are folded 256 bytes a step instead, about four times as fast; elsewhere System.IO.Hashing does the work.
/// The fold is the one System.IO.Hashing uses (Intel, "Fast CRC Computation for Generic Polynomials Using
/// PCLMULQDQ"), four times wider, with constants derived from the polynomial below rather than written out.
/// </remarks>
internal static class Crc32C
{
    // x^32 + x^28 + x^27 + ... + 1 (Castagnoli), the bit for x^32 included.
    private const ulong Polynomial = 0x1_1EDC6F41;

    // Each multiplies a 128-bit lane's two halves by x^(d+32) and x^(d-32) mod P (bit-reflected, as the CRC is),
    // which moves the lane d bits further along the message, onto the lane that is d bits later.
    private static readonly Vector512<ulong> s_fold2048 = Vector512.Create(FoldConstants(4 * 512));
    private static readonly Vector512<ulong> s_fold512 = Vector512.Create(FoldConstants(512));
    private static readonly Vector128<ulong> s_fold384 = FoldConstants(384);
    private static readonly Vector128<ulong> s_fold256 = FoldConstants(256);
    private static readonly Vector128<ulong> s_fold128 = FoldConstants(128);

    // 128 bits to 64 (x^96 mod P), 64 to 32 bits (x^64 mod P), then Barrett reduction: P and floor(x^64 / P).
    private static readonly ulong s_fold96 = Reflect33(PowerMod(96));
    private static readonly ulong s_fold64 = Reflect33(PowerMod(64));
    private static readonly Vector128<ulong> s_polynomialAndMu = Vector128.Create(Reflect33(Polynomial), Reflect33(BarrettMu()));

    [ThreadStatic]
    private static Crc32? s_crc;

    /// <summary>Whether <see cref="UpdateVector512"/> runs on this CPU.</summary>
    public static bool IsVector512Supported =>
        Vector512.IsHardwareAccelerated && Pclmulqdq.V512.IsSupported && Pclmulqdq.IsSupported && Sse42.X64.IsSupported;

    /// <summary>The CRC32C of <paramref name="first"/>, <paramref name="second"/> and <paramref name="third"/> back to back.</summary>
    public static uint Hash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, ReadOnlySpan<byte> third = default)
    {
        if (IsVector512Supported)
        {
            return ~UpdateVector512(UpdateVector512(UpdateVector512(uint.MaxValue, first), second), third);
        }

        // One incremental CRC per thread: a check runs synchronously, and must not allocate one.
        Crc32 crc = s_crc ??= new Crc32(Crc32ParameterSet.Crc32C);
        crc.Reset();
        crc.Append(first);
        crc.Append(second);
        crc.Append(third);
        return crc.GetCurrentHashAsUInt32();
    }

    /// <summary>
    /// Advances the CRC register <paramref name="crc"/> (not inverted) over <paramref name="source"/>: four 512-bit
    /// accumulators while 256 bytes remain, then one, then one 128-bit lane, then CRC32 instructions for the last
    /// bytes (and for sources too short to fold). Internal for testing; needs <see cref="IsVector512Supported"/>.
    /// </summary>
    internal static uint UpdateVector512(uint crc, ReadOnlySpan<byte> source)
    {
        ref byte next = ref MemoryMarshal.GetReference(source);
        int length = source.Length;
        if (length >= 256)
        {
            Vector512<ulong> x1 = Vector512.LoadUnsafe(ref next).AsUInt64() ^ Vector512.CreateScalar(crc).AsUInt64();
            Vector512<ulong> x2 = Vector512.LoadUnsafe(ref next, 64).AsUInt64();
            Vector512<ulong> x3 = Vector512.LoadUnsafe(ref next, 128).AsUInt64();
            Vector512<ulong> x4 = Vector512.LoadUnsafe(ref next, 192).AsUInt64();
            next = ref Unsafe.Add(ref next, 256);
            length -= 256;
            while (length >= 256)
            {
                x1 = Fold(Vector512.LoadUnsafe(ref next).AsUInt64(), x1, s_fold2048);
                x2 = Fold(Vector512.LoadUnsafe(ref next, 64).AsUInt64(), x2, s_fold2048);
                x3 = Fold(Vector512.LoadUnsafe(ref next, 128).AsUInt64(), x3, s_fold2048);
                x4 = Fold(Vector512.LoadUnsafe(ref next, 192).AsUInt64(), x4, s_fold2048);
                next = ref Unsafe.Add(ref next, 256);
                length -= 256;
            }

            x1 = Fold(x2, x1, s_fold512);
            x1 = Fold(x3, x1, s_fold512);
            x1 = Fold(x4, x1, s_fold512);
            while (length >= 64)
            {
                x1 = Fold(Vector512.LoadUnsafe(ref next).AsUInt64(), x1, s_fold512);
                next = ref Unsafe.Add(ref next, 64);
                length -= 64;
            }

            Vector128<ulong> lane = Fold(x1.GetUpper().GetUpper(), x1.GetLower().GetLower(), s_fold384)
                ^ Fold(Vector128<ulong>.Zero, x1.GetLower().GetUpper(), s_fold256)
                ^ Fold(Vector128<ulong>.Zero, x1.GetUpper().GetLower(), s_fold128);
            while (length >= 16)
            {
                lane = Fold(Vector128.LoadUnsafe(ref next).AsUInt64(), lane, s_fold128);
                next = ref Unsafe.Add(ref next, 16);
                length -= 16;
            }

            crc = Reduce(lane);
        }

        for (; length >= sizeof(ulong); length -= sizeof(ulong))
        {
            crc = (uint)Sse42.X64.Crc32(crc, Unsafe.ReadUnaligned<ulong>(ref next));
            next = ref Unsafe.Add(ref next, sizeof(ulong));
        }

        for (; length > 0; length--)
        {
            crc = Sse42.Crc32(crc, next);
            next = ref Unsafe.Add(ref next, 1);
        }

        return crc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Fold(Vector512<ulong> target, Vector512<ulong> source, Vector512<ulong> constants) =>
        target ^ Pclmulqdq.V512.CarrylessMultiply(source, constants, 0x00) ^ Pclmulqdq.V512.CarrylessMultiply(source, constants, 0x11);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> Fold(Vector128<ulong> target, Vector128<ulong> source, Vector128<ulong> constants) =>
        target ^ Pclmulqdq.CarrylessMultiply(source, constants, 0x00) ^ Pclmulqdq.CarrylessMultiply(source, constants, 0x11);

    /// <summary>The 32-bit register of a 128-bit lane: fold to 64 bits, then to 32, then Barrett-reduce.</summary>
    private static uint Reduce(Vector128<ulong> lane)
    {
        Vector128<ulong> low32 = Vector128.Create(uint.MaxValue, 0, uint.MaxValue, 0).AsUInt64();
        lane = Sse2.ShiftRightLogical128BitLane(lane, 8) ^ Pclmulqdq.CarrylessMultiply(lane, Vector128.CreateScalar(s_fold96), 0x00);
        lane = Pclmulqdq.CarrylessMultiply(lane & low32, Vector128.CreateScalar(s_fold64), 0x00) ^ Sse2.ShiftRightLogical128BitLane(lane, 4);
        Vector128<ulong> quotient = Pclmulqdq.CarrylessMultiply(lane & low32, s_polynomialAndMu, 0x10) & low32;
        lane ^= Pclmulqdq.CarrylessMultiply(quotient, s_polynomialAndMu, 0x00);
        return lane.AsUInt32().GetElement(1);
    }

    private static Vector128<ulong> FoldConstants(int distance) =>
        Vector128.Create(Reflect33(PowerMod(distance + 32)), Reflect33(PowerMod(distance - 32)));

    /// <summary>x^<paramref name="power"/> mod P.</summary>
    private static ulong PowerMod(int power)
    {
        ulong remainder = 1;
        for (int i = 0; i < power; i++)
        {
            remainder <<= 1;
            if ((remainder & (1UL << 32)) != 0)
            {
                remainder ^= Polynomial;
            }
        }

        return remainder;
    }

    /// <summary>floor(x^64 / P), by long division.</summary>
    private static ulong BarrettMu()
    {
        UInt128 remainder = UInt128.One << 64;
        ulong quotient = 0;
        for (int bit = 64; bit >= 32; bit--)
        {
            if (((remainder >> bit) & UInt128.One) != UInt128.Zero)
            {
                quotient |= 1UL << (bit - 32);
                remainder ^= (UInt128)Polynomial << (bit - 32);
            }
        }

        return quotient;
    }

    /// <summary>The low 33 bits of <paramref name="value"/> in reverse order (the CRC's bit order, times x).</summary>
    private static ulong Reflect33(ulong value)
    {
        ulong result = 0;
        for (int i = 0; i < 33; i++)
        {
            result |= ((value >> i) & 1) << (32 - i);
        }

        return result;
    }
}
