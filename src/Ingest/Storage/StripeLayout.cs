namespace Predastore.Ingest.Storage;

/// <summary>
/// Where every byte of an extent lives. The body is cut into blocks of <see cref="BlockSize"/> bytes; block b is
/// split into K data cells of <c>ceil(blockLength / K)</c> bytes (zero padded) plus M parity cells. Shard i is cell
/// i of every block, concatenated, so only the last block's cells can be shorter than <see cref="FullCellSize"/>.
/// </summary>
internal readonly record struct StripeLayout(int DataShards, int ParityShards, int BlockSize)
{
    public int TotalShards => DataShards + ParityShards;

    /// <summary>The cell size of every block but possibly the last.</summary>
    public int FullCellSize => CellSizeOf(BlockSize);

    /// <summary>Bytes a stripe buffer needs: all K+M cells of a full block.</summary>
    public int StripeBufferSize => TotalShards * FullCellSize;

    public int CellSizeOf(int blockLength) => (blockLength + DataShards - 1) / DataShards;

    public long BlockCount(long extentSize) => (extentSize + BlockSize - 1) / BlockSize;

    public int BlockLength(long extentSize, long block) => (int)Math.Min(BlockSize, extentSize - (block * BlockSize));

    /// <summary>Where block <paramref name="block"/>'s cells start inside every shard.</summary>
    public long ShardOffsetOf(long block) => block * FullCellSize;

    /// <summary>The length every shard of an extent of <paramref name="extentSize"/> bytes has once written.</summary>
    public long ShardLength(long extentSize)
    {
        if (extentSize == 0)
        {
            return 0;
        }

        long blocks = BlockCount(extentSize);
        return ShardOffsetOf(blocks - 1) + CellSizeOf(BlockLength(extentSize, blocks - 1));
    }

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(DataShards, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(ParityShards);
        ArgumentOutOfRangeException.ThrowIfLessThan(BlockSize, DataShards);
    }
}
