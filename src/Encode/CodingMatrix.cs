namespace Predastore.Encode;

/// <summary>
/// The coefficients of "output o = XOR over j of coef[o, j] · input j", with everything the kernels need precomputed
/// so that running it allocates nothing.
/// </summary>
/// <remarks>
/// Immutable after construction, so one instance is shared by every thread that encodes or reconstructs with it.
/// A kernel may run only the first n rows (reconstructing data shards only uses a prefix of the rows).
/// </remarks>
internal sealed class CodingMatrix
{
    /// <summary>Bytes per coefficient in <see cref="NibbleTables"/>: 16 products of the low nibble, then 16 of the high.</summary>
    public const int NibbleTableSize = 32;

    /// <summary>Bytes per coefficient in <see cref="AffineTables"/>: one 8×8 bit matrix.</summary>
    public const int AffineTableSize = 8;

    private readonly byte[] _coefficients;
    private readonly byte[] _nibbleTables;
    private readonly byte[] _affineTables;

    public CodingMatrix(ReadOnlySpan<byte> coefficients, int rows, int columns)
    {
        if (rows < 0 || columns <= 0 || coefficients.Length != rows * columns)
        {
            ThrowHelper.ThrowArgument(nameof(coefficients), "The coefficients do not fill rows × columns.");
        }

        Rows = rows;
        Columns = columns;
        _coefficients = coefficients.ToArray();
        FirstRowIsOnes = rows > 0 && !coefficients[..columns].ContainsAnyExcept((byte)1);
        while (LeadingOnesInFirstColumn < rows && coefficients[LeadingOnesInFirstColumn * columns] == 1)
        {
            LeadingOnesInFirstColumn++;
        }

        // Column-major so the vector kernels, which load one input and then update every output, walk the tables
        // sequentially. c·x = c·(x & 0xF) ^ c·(x & 0xF0), so two 16-entry tables, looked up with a byte shuffle,
        // give a full multiply.
        _nibbleTables = new byte[rows * columns * NibbleTableSize];
        _affineTables = new byte[rows * columns * AffineTableSize];
        for (int j = 0; j < columns; j++)
        {
            for (int o = 0; o < rows; o++)
            {
                byte c = _coefficients[(o * columns) + j];
                Span<byte> table = _nibbleTables.AsSpan(((j * rows) + o) * NibbleTableSize, NibbleTableSize);
                for (int n = 0; n < 16; n++)
                {
                    table[n] = GaloisField.Mul(c, (byte)n);
                    table[16 + n] = GaloisField.Mul(c, (byte)(n << 4));
                }

                AffineMatrix(c).CopyTo(_affineTables.AsSpan(((j * rows) + o) * AffineTableSize, AffineTableSize));
            }
        }
    }

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>Every coefficient of row 0 is 1: that output is the XOR of the inputs.</summary>
    public bool FirstRowIsOnes { get; }

    /// <summary>How many rows, from row 0 on, have coefficient 1 in column 0.</summary>
    public int LeadingOnesInFirstColumn { get; }

    public byte this[int row, int column] => _coefficients[(row * Columns) + column];

    /// <summary>Row-major, Rows × Columns.</summary>
    public ReadOnlySpan<byte> Coefficients => _coefficients;

    /// <summary>Laid out [column][row], <see cref="NibbleTableSize"/> bytes each.</summary>
    public ReadOnlySpan<byte> NibbleTables => _nibbleTables;

    /// <summary>Laid out [column][row], <see cref="AffineTableSize"/> bytes each.</summary>
    public ReadOnlySpan<byte> AffineTables => _affineTables;

    /// <summary>The table a kernel of <paramref name="kind"/> reads, and its bytes per coefficient.</summary>
    public ReadOnlySpan<byte> Tables(GfTableKind kind, out int tableSize)
    {
        tableSize = kind == GfTableKind.Affine ? AffineTableSize : NibbleTableSize;
        return kind == GfTableKind.Affine ? _affineTables : _nibbleTables;
    }

    /// <summary>The 8×8 matrix over GF(2) of x ↦ c·x, in the qword layout of <c>vgf2p8affineqb</c>.</summary>
    /// <remarks>
    /// Multiplying by c is linear over GF(2): c·x = XOR over set bits j of x of c·2^j. The instruction computes result
    /// bit i as the parity of (x AND byte 7 − i of the qword), so byte 7 − i holds, at bit j, bit i of c·2^j.
    /// </remarks>
    internal static byte[] AffineMatrix(byte c)
    {
        var matrix = new byte[AffineTableSize];
        for (int j = 0; j < 8; j++)
        {
            byte column = GaloisField.Mul(c, (byte)(1 << j));
            for (int i = 0; i < 8; i++)
            {
                if ((column & (1 << i)) != 0)
                {
                    matrix[7 - i] |= (byte)(1 << j);
                }
            }
        }

        return matrix;
    }
}
