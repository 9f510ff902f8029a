// Invariant: GfMatrix inverts exactly the nonsingular matrices (A·A⁻¹ = I), and the systematic Cauchy encoding matrix
// is MDS: every choice of K of its K+M rows is invertible, so any K shards recover the data.

using Predastore.Encode;

namespace Predastore.Encode.Tests;

public class GfMatrixTests
{
    [Fact]
    public void TryInvert_RandomInvertibleMatrices_ProductIsIdentity()
    {
        var random = new Random(5);
        int inverted = 0;
        for (int trial = 0; trial < 200; trial++)
        {
            // Arrange
            int size = random.Next(1, 17);
            var matrix = new byte[size * size];
            random.NextBytes(matrix);

            // Act
            if (!GfMatrix.TryInvert(matrix, size, out byte[] inverse))
            {
                continue;
            }

            // Assert
            inverted++;
            Assert.Equal(expected: GfMatrix.Identity(size), actual: GfMatrix.Multiply(matrix, inverse, size, size, size));
            Assert.Equal(expected: GfMatrix.Identity(size), actual: GfMatrix.Multiply(inverse, matrix, size, size, size));
        }

        Assert.True(inverted > 150, $"Only {inverted} of 200 random matrices were invertible.");
    }

    [Fact]
    public void TryInvert_SingularMatrix_ReturnsFalse()
    {
        // Arrange: the third row is the XOR (sum) of the first two.
        byte[] matrix = [1, 2, 3, 4, 5, 6, 1 ^ 4, 2 ^ 5, 3 ^ 6];

        // Act
        bool inverted = GfMatrix.TryInvert(matrix, 3, out _);

        // Assert
        Assert.False(inverted);
    }

    [Fact]
    public void SystematicCauchy_TopRows_AreIdentity()
    {
        byte[] matrix = GfMatrix.SystematicCauchy(5, 3);

        Assert.Equal(expected: GfMatrix.Identity(5), actual: matrix.AsSpan(0, 25).ToArray());
        Assert.DoesNotContain((byte)0, matrix.AsSpan(25).ToArray());
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(10, 4)]
    [InlineData(32, 16)]
    public void SystematicCauchy_FirstParityRowAndParityColumnZero_AreOnes(int dataShards, int parityShards)
    {
        // The kernels turn these into XORs: the first parity is the XOR of the data shards.
        byte[] matrix = GfMatrix.SystematicCauchy(dataShards, parityShards);
        var parity = new CodingMatrix(matrix.AsSpan(dataShards * dataShards), parityShards, dataShards);

        Assert.True(parity.FirstRowIsOnes);
        Assert.Equal(expected: parityShards, actual: parity.LeadingOnesInFirstColumn);
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(4, 2)]
    [InlineData(6, 3)]
    [InlineData(8, 4)]
    [InlineData(10, 4)]
    public void SystematicCauchy_EveryKRowSubset_IsInvertible(int dataShards, int parityShards)
    {
        byte[] matrix = GfMatrix.SystematicCauchy(dataShards, parityShards);
        foreach (int[] rows in Combinations(dataShards + parityShards, dataShards))
        {
            Assert.True(GfMatrix.TryInvert(SelectRows(matrix, rows, dataShards), dataShards, out _), string.Join(",", rows));
        }
    }

    [Fact]
    public void SystematicCauchy_LargestCode_RandomKRowSubsetsAreInvertible()
    {
        const int K = 32;
        const int M = 16;
        byte[] matrix = GfMatrix.SystematicCauchy(K, M);
        var random = new Random(3);
        for (int trial = 0; trial < 300; trial++)
        {
            int[] rows = Enumerable.Range(0, K + M).OrderBy(_ => random.Next()).Take(K).Order().ToArray();
            Assert.True(GfMatrix.TryInvert(SelectRows(matrix, rows, K), K, out _), string.Join(",", rows));
        }
    }

    private static byte[] SelectRows(byte[] matrix, int[] rows, int columns)
    {
        var selected = new byte[rows.Length * columns];
        for (int r = 0; r < rows.Length; r++)
        {
            Array.Copy(matrix, rows[r] * columns, selected, r * columns, columns);
        }

        return selected;
    }

    internal static IEnumerable<int[]> Combinations(int n, int k)
    {
        var current = new int[k];
        for (int i = 0; i < k; i++)
        {
            current[i] = i;
        }

        while (true)
        {
            yield return (int[])current.Clone();
            int pos = k - 1;
            while (pos >= 0 && current[pos] == n - k + pos)
            {
                pos--;
            }

            if (pos < 0)
            {
                yield break;
            }

            current[pos]++;
            for (int i = pos + 1; i < k; i++)
            {
                current[i] = current[i - 1] + 1;
            }
        }
    }
}
