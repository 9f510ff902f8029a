using System.Numerics;

namespace Predastore.Encode;

/// <summary>
/// How to rebuild the missing shards of one pattern of present shards: which K shards to read and the matrix that
/// turns them into the missing ones.
/// </summary>
/// <remarks>
/// Output rows are the missing shards in index order, so missing data shards come first and a data-only
/// reconstruction runs just the first <see cref="MissingDataShards"/> rows of the same matrix.
/// </remarks>
internal sealed class ReconstructPlan
{
    private readonly byte[] _inputShards;
    private readonly byte[] _outputShards;

    private ReconstructPlan(byte[] inputShards, byte[] outputShards, int missingDataShards, CodingMatrix matrix)
    {
        _inputShards = inputShards;
        _outputShards = outputShards;
        MissingDataShards = missingDataShards;
        Matrix = matrix;
    }

    /// <summary>Indices of the K shards read: the first K present ones.</summary>
    public ReadOnlySpan<byte> InputShards => _inputShards;

    /// <summary>Indices of every missing shard, ascending.</summary>
    public ReadOnlySpan<byte> OutputShards => _outputShards;

    public int MissingDataShards { get; }

    public CodingMatrix Matrix { get; }

    // encodingMatrix is the (K+M)×K systematic matrix; presentMask has bit i set when shard i is present (≥ K bits).
    public static ReconstructPlan Create(byte[] encodingMatrix, int dataShards, int totalShards, ulong presentMask)
    {
        var inputShards = new byte[dataShards];
        var outputShards = new byte[totalShards - BitOperations.PopCount(presentMask)];
        int inputCount = 0;
        int outputCount = 0;
        int missingData = 0;
        for (int i = 0; i < totalShards; i++)
        {
            if ((presentMask & (1UL << i)) == 0)
            {
                outputShards[outputCount++] = (byte)i;
                if (i < dataShards)
                {
                    missingData++;
                }
            }
            else if (inputCount < dataShards)
            {
                inputShards[inputCount++] = (byte)i;
            }
        }

        // The chosen shards are S·data, where S is their K rows of the encoding matrix, so data = S⁻¹·shards and a
        // missing shard with encoding row e is (e·S⁻¹)·shards. For a data shard e is a unit row, giving row i of S⁻¹.
        var selected = new byte[dataShards * dataShards];
        for (int r = 0; r < dataShards; r++)
        {
            encodingMatrix.AsSpan(inputShards[r] * dataShards, dataShards).CopyTo(selected.AsSpan(r * dataShards));
        }

        if (!GfMatrix.TryInvert(selected, dataShards, out byte[] decode))
        {
            throw new InvalidOperationException("The encoding matrix has a singular K×K submatrix; it is not MDS.");
        }

        var rows = new byte[outputCount * dataShards];
        for (int r = 0; r < outputCount; r++)
        {
            int shard = outputShards[r];
            byte[] row = shard < dataShards
                ? decode.AsSpan(shard * dataShards, dataShards).ToArray()
                : GfMatrix.Multiply(
                    encodingMatrix.AsSpan(shard * dataShards, dataShards), decode, 1, dataShards, dataShards);
            row.CopyTo(rows, r * dataShards);
        }

        return new ReconstructPlan(inputShards, outputShards, missingData, new CodingMatrix(rows, outputCount, dataShards));
    }
}
