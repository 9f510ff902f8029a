// Invariant: byte offset x of an extent sits in block x / BlockSize, cell (x % BlockSize) / CellSize, at shard
// offset block * FullCellSize + (x % CellSize); every shard is (blocks - 1) full cells plus the last block's cell.
using Predastore.Ingest.Storage;

namespace Predastore.Ingest.Tests.Storage;

public sealed class StripeLayoutTests
{
    [Theory]
    [InlineData(2, 1, 1024 * 1024, 0, 0)]
    [InlineData(2, 1, 1024 * 1024, 1, 1)]
    [InlineData(2, 1, 1024 * 1024, 1024 * 1024, 512 * 1024)]
    [InlineData(2, 1, 1024 * 1024, (1024 * 1024) + 1, (512 * 1024) + 1)]
    [InlineData(3, 2, 1000, 2500, 334 + 334 + 167)]
    [InlineData(4, 2, 4096, 4097, 1024 + 1)]
    public void ShardLength_Size_IsFullCellsPlusLastCell(int k, int m, int blockSize, long size, long expected)
    {
        var layout = new StripeLayout(k, m, blockSize);

        Assert.Equal(expected: expected, actual: layout.ShardLength(size));
    }

    [Fact]
    public void CellSize_OddBlock_RoundsUp()
    {
        var layout = new StripeLayout(3, 1, 1000);

        Assert.Equal(expected: 334, actual: layout.FullCellSize);
        Assert.Equal(expected: 1, actual: layout.CellSizeOf(1));
        Assert.Equal(expected: 4 * 334, actual: layout.StripeBufferSize);
    }

    [Fact]
    public void BlockLength_LastBlock_IsRemainder()
    {
        var layout = new StripeLayout(2, 1, 100);

        Assert.Equal(expected: 3, actual: layout.BlockCount(250));
        Assert.Equal(expected: 100, actual: layout.BlockLength(250, 1));
        Assert.Equal(expected: 50, actual: layout.BlockLength(250, 2));
        Assert.Equal(expected: 200, actual: layout.ShardOffsetOf(4));
    }
}
