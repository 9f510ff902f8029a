// Invariant: GaloisField is GF(2^8) with polynomial 0x11D — its product table equals shift-and-add multiplication
// reduced by 0x11D, and it satisfies the field axioms (so every nonzero element has an inverse).

using Predastore.Encode;

namespace Predastore.Encode.Tests;

public class GaloisFieldTests
{
    [Fact]
    public void Mul_EveryPair_MatchesCarrylessReferenceModel()
    {
        for (int a = 0; a < 256; a++)
        {
            for (int b = 0; b < 256; b++)
            {
                // Act
                byte actual = GaloisField.Mul((byte)a, (byte)b);

                // Assert
                byte expected = ReferenceMul((byte)a, (byte)b);
                if (expected != actual)
                {
                    Assert.Fail($"{a:X2}·{b:X2}: expected {expected:X2}, got {actual:X2}");
                }
            }
        }
    }

    [Theory]
    [InlineData(0x02, 0x80, 0x1D)]
    [InlineData(0x80, 0x02, 0x1D)]
    [InlineData(0x02, 0x02, 0x04)]
    [InlineData(0x03, 0x07, 0x09)]
    [InlineData(0x00, 0xFF, 0x00)]
    [InlineData(0x01, 0xAB, 0xAB)]
    [InlineData(0x10, 0x10, 0x1D)]
    public void Mul_KnownValues_ReduceBy0x11D(int a, int b, int product)
    {
        Assert.Equal(expected: (byte)product, actual: GaloisField.Mul((byte)a, (byte)b));
    }

    [Fact]
    public void Exp_Generator2_HasOrder255()
    {
        // Arrange
        var seen = new HashSet<byte>();

        // Act
        for (int n = 0; n < 255; n++)
        {
            seen.Add(GaloisField.Exp(n));
        }

        // Assert
        Assert.Equal(expected: 255, actual: seen.Count);
        Assert.DoesNotContain((byte)0, seen);
        Assert.Equal(expected: (byte)0x1D, actual: GaloisField.Exp(8));
        Assert.Equal(expected: (byte)1, actual: GaloisField.Exp(255));
    }

    [Fact]
    public void Log_EveryNonzero_InvertsExp()
    {
        for (int a = 1; a < 256; a++)
        {
            Assert.Equal(expected: (byte)a, actual: GaloisField.Exp(GaloisField.Log((byte)a)));
        }
    }

    [Fact]
    public void Inv_EveryNonzero_MultipliesToOne()
    {
        for (int a = 1; a < 256; a++)
        {
            byte inverse = GaloisField.Inv((byte)a);
            Assert.Equal(expected: (byte)1, actual: GaloisField.Mul((byte)a, inverse));
        }
    }

    [Fact]
    public void Div_EveryPair_UndoesMul()
    {
        for (int a = 0; a < 256; a++)
        {
            for (int b = 1; b < 256; b++)
            {
                byte product = GaloisField.Mul((byte)a, (byte)b);
                Assert.Equal(expected: (byte)a, actual: GaloisField.Div(product, (byte)b));
            }
        }
    }

    [Fact]
    public void Mul_SampledTriples_IsCommutativeAssociativeAndDistributive()
    {
        var random = new Random(11);
        for (int i = 0; i < 20_000; i++)
        {
            byte a = (byte)random.Next(256);
            byte b = (byte)random.Next(256);
            byte c = (byte)random.Next(256);

            Assert.Equal(expected: GaloisField.Mul(b, a), actual: GaloisField.Mul(a, b));
            Assert.Equal(
                expected: GaloisField.Mul(GaloisField.Mul(a, b), c), actual: GaloisField.Mul(a, GaloisField.Mul(b, c)));
            Assert.Equal(
                expected: GaloisField.Add(GaloisField.Mul(a, b), GaloisField.Mul(a, c)),
                actual: GaloisField.Mul(a, GaloisField.Add(b, c)));
        }
    }

    [Fact]
    public void MulTable_EveryRow_MatchesMul()
    {
        ReadOnlySpan<byte> table = GaloisField.MulTable;
        Assert.Equal(expected: 65536, actual: table.Length);
        for (int c = 0; c < 256; c++)
        {
            for (int x = 0; x < 256; x++)
            {
                Assert.Equal(expected: GaloisField.Mul((byte)c, (byte)x), actual: table[(c << 8) | x]);
            }
        }
    }

    [Fact]
    public void Inv_Zero_Throws()
    {
        Assert.Throws<DivideByZeroException>(() => GaloisField.Inv(0));
        Assert.Throws<DivideByZeroException>(() => GaloisField.Div(1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => GaloisField.Log(0));
    }

    // Shift-and-add ("Russian peasant") multiplication, reducing by the polynomial whenever bit 8 appears.
    internal static byte ReferenceMul(byte a, byte b)
    {
        int x = a;
        int result = 0;
        for (int bit = 0; bit < 8; bit++)
        {
            if ((b & (1 << bit)) != 0)
            {
                result ^= x;
            }

            x <<= 1;
            if ((x & 0x100) != 0)
            {
                x ^= 0x11D;
            }
        }

        return (byte)result;
    }
}
