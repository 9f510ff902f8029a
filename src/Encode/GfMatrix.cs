namespace Predastore.Encode;

/// <summary>Dense row-major matrices over GF(2^8), used only to build coding matrices (never per byte of data).</summary>
internal static class GfMatrix
{
    public static byte[] Identity(int size)
    {
        var identity = new byte[size * size];
        for (int i = 0; i < size; i++)
        {
            identity[(i * size) + i] = 1;
        }

        return identity;
    }

    /// <summary>
    /// The (K+M)×K systematic encoding matrix: identity over a Cauchy matrix C[i, j] = 1 / (x_i + y_j) with
    /// x_i = K + i and y_j = j, its columns and then its rows scaled so that the first parity row and the first column
    /// of the parity rows are all 1.
    /// </summary>
    /// <remarks>
    /// Every square submatrix of a Cauchy matrix is invertible, and stacking it under the identity keeps that true for
    /// any K rows of the whole matrix, so any K shards recover the data (the code is MDS). The x and y sets are
    /// disjoint because K + M ≤ 256. Scaling a row or a column by a nonzero constant scales the determinant of every
    /// square submatrix through it by that constant, so the scaled matrix is MDS too; its K + M − 1 ones are multiplies
    /// the kernels skip: the first parity is the XOR of the data, and one lost data shard is the XOR of the others with
    /// it.
    /// </remarks>
    public static byte[] SystematicCauchy(int dataShards, int parityShards)
    {
        int totalShards = dataShards + parityShards;
        var matrix = new byte[totalShards * dataShards];
        for (int i = 0; i < dataShards; i++)
        {
            matrix[(i * dataShards) + i] = 1;
        }

        Span<byte> parity = matrix.AsSpan(dataShards * dataShards);
        for (int i = 0; i < parityShards; i++)
        {
            for (int j = 0; j < dataShards; j++)
            {
                parity[(i * dataShards) + j] = GaloisField.Inv((byte)((dataShards + i) ^ j));
            }
        }

        if (parityShards == 0)
        {
            return matrix;
        }

        // Columns so that row 0 is all ones, then rows so that column 0 is (row 0 already has its 1 there).
        for (int j = 0; j < dataShards; j++)
        {
            byte scale = GaloisField.Inv(parity[j]);
            for (int i = 0; i < parityShards; i++)
            {
                parity[(i * dataShards) + j] = GaloisField.Mul(parity[(i * dataShards) + j], scale);
            }
        }

        for (int i = 1; i < parityShards; i++)
        {
            Span<byte> row = parity.Slice(i * dataShards, dataShards);
            byte scale = GaloisField.Inv(row[0]);
            for (int j = 0; j < dataShards; j++)
            {
                row[j] = GaloisField.Mul(row[j], scale);
            }
        }

        return matrix;
    }

    /// <summary>Returns the product (rows×inner)·(inner×columns).</summary>
    public static byte[] Multiply(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, int rows, int inner, int columns)
    {
        if (left.Length != rows * inner || right.Length != inner * columns)
        {
            ThrowHelper.ThrowArgument(nameof(left), "The matrix sizes do not match.");
        }

        var product = new byte[rows * columns];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                byte sum = 0;
                for (int k = 0; k < inner; k++)
                {
                    sum ^= GaloisField.Mul(left[(r * inner) + k], right[(k * columns) + c]);
                }

                product[(r * columns) + c] = sum;
            }
        }

        return product;
    }

    /// <summary>Gauss-Jordan inversion of a size×size matrix; false when it is singular.</summary>
    public static bool TryInvert(ReadOnlySpan<byte> matrix, int size, out byte[] inverse)
    {
        if (matrix.Length != size * size)
        {
            ThrowHelper.ThrowArgument(nameof(matrix), "The matrix is not square.");
        }

        byte[] work = matrix.ToArray();
        inverse = Identity(size);
        for (int col = 0; col < size; col++)
        {
            int pivot = col;
            while (pivot < size && work[(pivot * size) + col] == 0)
            {
                pivot++;
            }

            if (pivot == size)
            {
                return false;
            }

            if (pivot != col)
            {
                SwapRows(work, size, pivot, col);
                SwapRows(inverse, size, pivot, col);
            }

            byte scale = GaloisField.Inv(work[(col * size) + col]);
            ScaleRow(work, size, col, scale);
            ScaleRow(inverse, size, col, scale);

            for (int row = 0; row < size; row++)
            {
                byte factor = work[(row * size) + col];
                if (row != col && factor != 0)
                {
                    AddScaledRow(work, size, col, row, factor);
                    AddScaledRow(inverse, size, col, row, factor);
                }
            }
        }

        return true;
    }

    private static void SwapRows(byte[] m, int size, int a, int b)
    {
        Span<byte> rowA = m.AsSpan(a * size, size);
        Span<byte> rowB = m.AsSpan(b * size, size);
        for (int i = 0; i < size; i++)
        {
            (rowA[i], rowB[i]) = (rowB[i], rowA[i]);
        }
    }

    private static void ScaleRow(byte[] m, int size, int row, byte scale)
    {
        Span<byte> r = m.AsSpan(row * size, size);
        for (int i = 0; i < size; i++)
        {
            r[i] = GaloisField.Mul(r[i], scale);
        }
    }

    private static void AddScaledRow(byte[] m, int size, int source, int target, byte factor)
    {
        ReadOnlySpan<byte> s = m.AsSpan(source * size, size);
        Span<byte> t = m.AsSpan(target * size, size);
        for (int i = 0; i < size; i++)
        {
            t[i] ^= GaloisField.Mul(s[i], factor);
        }
    }
}
