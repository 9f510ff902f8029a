// Invariant: ReedSolomon(K, M) keeps data cells unchanged, and from any K of its K+M shards Reconstruct restores the
// original bytes of every missing shard (or, with dataOnly, of every missing data shard, leaving missing parity
// untouched); with fewer than K it throws InsufficientShardsException; bad arguments are rejected up front.

using Predastore.Encode;

namespace Predastore.Encode.Tests;

public class ReedSolomonTests
{
    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(32, 16)]
    public void Constructor_ValidShape_ExposesCounts(int dataShards, int parityShards)
    {
        var code = new ReedSolomon(dataShards, parityShards);

        Assert.Equal(expected: dataShards, actual: code.DataShards);
        Assert.Equal(expected: parityShards, actual: code.ParityShards);
        Assert.Equal(expected: dataShards + parityShards, actual: code.TotalShards);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(-1, 1)]
    [InlineData(33, 1)]
    [InlineData(4, -1)]
    [InlineData(4, 17)]
    public void Constructor_OutOfRangeShape_Throws(int dataShards, int parityShards)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReedSolomon(dataShards, parityShards));
    }

    [Fact]
    public void Encode_WrongCellCountsOrLengths_ThrowArgumentException()
    {
        var code = new ReedSolomon(3, 2);
        ReadOnlyMemory<byte>[] data = [new byte[10], new byte[10], new byte[10]];
        Memory<byte>[] parity = [new byte[10], new byte[10]];

        Assert.Throws<ArgumentException>(() => code.Encode(data[..2], parity));
        Assert.Throws<ArgumentException>(() => code.Encode(data, parity[..1]));
        Assert.Throws<ArgumentException>(() => code.Encode([new byte[10], new byte[9], new byte[10]], parity));
        Assert.Throws<ArgumentException>(() => code.Encode(data, [new byte[10], new byte[11]]));
        Assert.Throws<ArgumentException>(() => new ReedSolomon(2, 0).Encode([new byte[3], new byte[4]], []));
    }

    [Fact]
    public void Reconstruct_WrongShardCountsOrLengths_ThrowArgumentException()
    {
        var code = new ReedSolomon(2, 1);
        Memory<byte>[] shards = [new byte[10], new byte[10], new byte[10]];
        bool[] present = [true, false, true];

        Assert.Throws<ArgumentException>(() => code.Reconstruct(shards[..2], present));
        Assert.Throws<ArgumentException>(() => code.Reconstruct(shards, present[..2]));
        Assert.Throws<ArgumentException>(() => code.Reconstruct([new byte[10], new byte[10], new byte[9]], present));
    }

    [Fact]
    public void Reconstruct_FewerThanKPresent_ThrowsInsufficientShards()
    {
        // Arrange
        var code = new ReedSolomon(4, 2);
        var stripe = new Stripe(code, 64, new Random(1));
        bool[] present = stripe.Erase([0, 3, 5]);

        // Act
        var exception = Assert.Throws<InsufficientShardsException>(() => code.Reconstruct(stripe.Shards, present));

        // Assert
        Assert.IsAssignableFrom<InvalidOperationException>(exception);
        Assert.Equal(expected: 3, actual: exception.PresentShards);
        Assert.Equal(expected: 4, actual: exception.RequiredShards);
    }

    [Fact]
    public void Encode_AnyCode_LeavesDataCellsUnchanged()
    {
        // Arrange
        var code = new ReedSolomon(5, 3);
        var random = new Random(2);
        ReadOnlyMemory<byte>[] data = Enumerable.Range(0, 5).Select(_ => (ReadOnlyMemory<byte>)RandomBytes(random, 777)).ToArray();
        byte[][] before = data.Select(d => d.ToArray()).ToArray();
        Memory<byte>[] parity = [new byte[777], new byte[777], new byte[777]];

        // Act
        code.Encode(data, parity);

        // Assert
        for (int i = 0; i < data.Length; i++)
        {
            Assert.Equal(expected: before[i], actual: data[i].ToArray());
        }
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(10, 4)]
    public void Encode_FirstParity_IsTheXorOfTheData(int dataShards, int parityShards)
    {
        // Arrange
        var code = new ReedSolomon(dataShards, parityShards);
        var stripe = new Stripe(code, 1000, new Random(dataShards), offset: 3);
        var xor = new byte[1000];
        foreach (ReadOnlyMemory<byte> cell in stripe.Data)
        {
            for (int i = 0; i < xor.Length; i++)
            {
                xor[i] ^= cell.Span[i];
            }
        }

        // Assert: part of the shard format (the kernels rely on the row of ones).
        Assert.Equal(expected: xor, actual: stripe.Parity[0].ToArray());
    }

    [Fact]
    public void ReconstructPlan_OneDataShardLostWithTheFirstParityPresent_IsAllOnes()
    {
        // The first K present shards are the other data shards and parity 0, so the rebuild is a plain XOR.
        byte[] matrix = GfMatrix.SystematicCauchy(10, 4);
        ulong present = ((1UL << 14) - 1) & ~(1UL << 3);

        ReconstructPlan plan = ReconstructPlan.Create(matrix, 10, 14, present);

        Assert.True(plan.Matrix.FirstRowIsOnes);
        Assert.Equal(expected: [0, 1, 2, 4, 5, 6, 7, 8, 9, 10], actual: plan.InputShards.ToArray());
    }

    [Fact]
    public void Encode_ParityBufferHoldingGarbage_IsOverwrittenDeterministically()
    {
        // Arrange
        var code = new ReedSolomon(4, 2);
        var random = new Random(3);
        ReadOnlyMemory<byte>[] data = Enumerable.Range(0, 4).Select(_ => (ReadOnlyMemory<byte>)RandomBytes(random, 300)).ToArray();
        Memory<byte>[] clean = [new byte[300], new byte[300]];
        Memory<byte>[] dirty = [RandomBytes(random, 300), RandomBytes(random, 300)];

        // Act
        code.Encode(data, clean);
        code.Encode(data, dirty);

        // Assert
        Assert.Equal(expected: clean[0].ToArray(), actual: dirty[0].ToArray());
        Assert.Equal(expected: clean[1].ToArray(), actual: dirty[1].ToArray());
    }

    [Fact]
    public void EncodeAndReconstruct_EmptyCellsOrNoParity_AreNoOps()
    {
        var code = new ReedSolomon(2, 1);
        code.Encode([Memory<byte>.Empty, Memory<byte>.Empty], [Memory<byte>.Empty]);
        code.Reconstruct([Memory<byte>.Empty, Memory<byte>.Empty, Memory<byte>.Empty], [true, false, true]);

        var noParity = new ReedSolomon(3, 0);
        var stripe = new Stripe(noParity, 50, new Random(4));
        noParity.Reconstruct(stripe.Shards, [true, true, true]);
        Assert.Equal(expected: stripe.Original(1), actual: stripe.Shards[1].ToArray());
    }

    public static TheoryData<int, int, int> SmallCodes() => new()
    {
        { 2, 1, 1 },
        { 2, 1, 1000 },
        { 3, 2, 33 },
        { 3, 2, 4099 },
        { 4, 2, 17 },
        { 4, 2, 1000 },
        { 1, 3, 65 },
    };

    [Theory]
    [MemberData(nameof(SmallCodes))]
    public void Reconstruct_EveryErasurePatternUpToM_RestoresEveryShard(int dataShards, int parityShards, int length)
    {
        var code = new ReedSolomon(dataShards, parityShards);
        var random = new Random(HashCode.Combine(dataShards, parityShards, length));
        foreach (int[] erased in ErasurePatterns(code.TotalShards, parityShards))
        {
            // Arrange
            var stripe = new Stripe(code, length, random, offset: 1);
            bool[] present = stripe.Erase(erased);

            // Act
            code.Reconstruct(stripe.Shards, present);

            // Assert
            for (int i = 0; i < code.TotalShards; i++)
            {
                Assert.Equal(expected: stripe.Original(i), actual: stripe.Shards[i].ToArray());
            }
        }
    }

    [Theory]
    [MemberData(nameof(SmallCodes))]
    public void Reconstruct_DataOnlyEveryErasurePattern_RestoresDataAndLeavesParityUntouched(
        int dataShards, int parityShards, int length)
    {
        var code = new ReedSolomon(dataShards, parityShards);
        var random = new Random(HashCode.Combine(dataShards, parityShards, length, "dataOnly"));
        var untouched = Enumerable.Repeat((byte)0xEE, length).ToArray();
        foreach (int[] erased in ErasurePatterns(code.TotalShards, parityShards))
        {
            // Arrange
            var stripe = new Stripe(code, length, random);
            bool[] present = stripe.Erase(erased);

            // Act
            code.Reconstruct(stripe.Shards, present, dataOnly: true);

            // Assert
            for (int i = 0; i < code.TotalShards; i++)
            {
                byte[] expected = i >= dataShards && !present[i] ? untouched : stripe.Original(i);
                Assert.Equal(expected: expected, actual: stripe.Shards[i].ToArray());
            }
        }
    }

    [Fact]
    public void Reconstruct_MorePresentThanK_UsesAnyKAndRestoresTheRest()
    {
        // Arrange
        var code = new ReedSolomon(6, 4);
        var stripe = new Stripe(code, 513, new Random(6));
        bool[] present = stripe.Erase([2, 7]);

        // Act
        code.Reconstruct(stripe.Shards, present);

        // Assert
        Assert.Equal(expected: stripe.Original(2), actual: stripe.Shards[2].ToArray());
        Assert.Equal(expected: stripe.Original(7), actual: stripe.Shards[7].ToArray());
    }

    [Fact]
    public void Reconstruct_EveryPatternOfAWideCode_KeepsThePlanCacheBounded()
    {
        // Arrange: RS(8,4) has 793 patterns with something missing, more than the cache holds.
        var code = new ReedSolomon(8, 4);
        var stripe = new Stripe(code, 40, new Random(7));
        int patterns = 0;

        // Act
        foreach (int[] erased in ErasurePatterns(code.TotalShards, 4).Where(e => e.Length > 0))
        {
            bool[] present = stripe.Erase(erased);
            code.Reconstruct(stripe.Shards, present);
            patterns++;
            Assert.True(code.CachedPlanCount <= 256, $"{code.CachedPlanCount} plans cached.");
        }

        // Assert
        Assert.Equal(expected: 793, actual: patterns);
        for (int i = 0; i < code.TotalShards; i++)
        {
            Assert.Equal(expected: stripe.Original(i), actual: stripe.Shards[i].ToArray());
        }
    }

    [Fact]
    public void EncodeAndReconstruct_SteadyState_AllocateNothing()
    {
        // Arrange
        var code = new ReedSolomon(10, 4);
        var stripe = new Stripe(code, 4099, new Random(8));
        bool[] present = stripe.Erase([1, 4, 11]);
        code.Encode(stripe.Data, stripe.Parity);
        code.Reconstruct(stripe.Shards, present);
        code.Reconstruct(stripe.Shards, present, dataOnly: true);

        // Act
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            code.Encode(stripe.Data, stripe.Parity);
            code.Reconstruct(stripe.Shards, present);
            code.Reconstruct(stripe.Shards, present, dataOnly: true);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Assert
        Assert.Equal(expected: 0L, actual: allocated);
    }

    // Every set of at most maxErased shard indices, the empty set included.
    internal static IEnumerable<int[]> ErasurePatterns(int totalShards, int maxErased)
    {
        for (int erased = 0; erased <= maxErased; erased++)
        {
            if (erased == 0)
            {
                yield return [];
                continue;
            }

            foreach (int[] pattern in GfMatrixTests.Combinations(totalShards, erased))
            {
                yield return pattern;
            }
        }
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
