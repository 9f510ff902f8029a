namespace Predastore.Encode;

/// <summary>
/// Arithmetic in GF(2^8) with the reducing polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D), whose generator is 2.
/// </summary>
/// <remarks>
/// Addition is XOR. Every shard ever written depends on these tables, so the polynomial and the generator never change.
/// </remarks>
internal static class GaloisField
{
    public const int Polynomial = 0x11D;
    public const int Order = 256;

    // Twice the period (plus one entry) so Log(a) + Log(b) indexes it without a modulo.
    private static readonly byte[] s_exp = BuildExp();
    private static readonly byte[] s_log = BuildLog(s_exp);
    private static readonly byte[] s_mul = BuildMul(s_exp, s_log);

    /// <summary>The full product table: row c (256 bytes at offset 256·c) holds c·x for every x.</summary>
    public static ReadOnlySpan<byte> MulTable => s_mul;

    public static byte Add(byte a, byte b) => (byte)(a ^ b);

    public static byte Mul(byte a, byte b) => s_mul[(a << 8) | b];

    public static byte Div(byte a, byte b)
    {
        if (b == 0)
        {
            ThrowHelper.ThrowDivideByZero();
        }

        return a == 0 ? (byte)0 : s_exp[s_log[a] + 255 - s_log[b]];
    }

    public static byte Inv(byte a)
    {
        if (a == 0)
        {
            ThrowHelper.ThrowDivideByZero();
        }

        return s_exp[255 - s_log[a]];
    }

    /// <summary>2^n.</summary>
    public static byte Exp(int n) => s_exp[n % 255];

    /// <summary>The n with 2^n = a, for a ≠ 0.</summary>
    public static int Log(byte a)
    {
        if (a == 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(a), "Zero has no logarithm.");
        }

        return s_log[a];
    }

    private static byte[] BuildExp()
    {
        var exp = new byte[2 * 255 + 1];
        int x = 1;
        for (int i = 0; i < 255; i++)
        {
            exp[i] = (byte)x;
            exp[i + 255] = (byte)x;
            x <<= 1;
            if (x >= Order)
            {
                x ^= Polynomial;
            }
        }

        exp[510] = exp[0];
        return exp;
    }

    private static byte[] BuildLog(byte[] exp)
    {
        var log = new byte[Order];
        for (int i = 0; i < 255; i++)
        {
            log[exp[i]] = (byte)i;
        }

        return log;
    }

    private static byte[] BuildMul(byte[] exp, byte[] log)
    {
        var mul = new byte[Order * Order];
        for (int a = 1; a < Order; a++)
        {
            for (int b = 1; b < Order; b++)
            {
                mul[(a << 8) | b] = exp[log[a] + log[b]];
            }
        }

        return mul;
    }
}
