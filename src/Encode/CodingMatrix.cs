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

    private readonly byte[] _coefficients;
    private readonly byte[] _nibbleTables;

    public CodingMatrix(ReadOnlySpan<byte> coefficients, int rows, int columns)
    {
        if (rows < 0 || columns <= 0 || coefficients.Length != rows * columns)
        {
            ThrowHelper.ThrowArgument(nameof(coefficients), "The coefficients do not fill rows × columns.");
        }

        Rows = rows;
        Columns = columns;
        _coefficients = coefficients.ToArray();

        // Column-major so the vector kernels, which load one input and then update every output, walk the tables
        // sequentially. c·x = c·(x & 0xF) ^ c·(x & 0xF0), so two 16-entry tables, looked up with a byte shuffle,
        // give a full multiply.
        _nibbleTables = new byte[rows * columns * NibbleTableSize];
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
            }
        }
    }

    public int Rows { get; }

    public int Columns { get; }

    public byte this[int row, int column] => _coefficients[(row * Columns) + column];

    /// <summary>Row-major, Rows × Columns.</summary>
    public ReadOnlySpan<byte> Coefficients => _coefficients;

    /// <summary>Laid out [column][row], <see cref="NibbleTableSize"/> bytes each.</summary>
    public ReadOnlySpan<byte> NibbleTables => _nibbleTables;
}
