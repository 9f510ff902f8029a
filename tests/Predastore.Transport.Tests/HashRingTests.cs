// Invariant: the ring places an object's shards deterministically from its object hash alone, on distinct nodes
// whenever there are enough, in proportion to node weight, and moves few objects when a node joins.
using System.Security.Cryptography;
using Predastore.Transport.Placement;

namespace Predastore.Transport.Tests;

public sealed class HashRingTests
{
    private static byte[] Hash(int i) => SHA256.HashData(BitConverter.GetBytes(i));

    [Fact]
    public void Place_SameHash_SamePlacementWhateverNodeOrder()
    {
        // Arrange
        var ring = new HashRing([new RingNode(1), new RingNode(2), new RingNode(3)]);
        var reordered = new HashRing([new RingNode(3), new RingNode(1), new RingNode(2)]);

        // Act & Assert
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(expected: ring.Place(Hash(i), 3), actual: reordered.Place(Hash(i), 3));
        }
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(5, 3)]
    [InlineData(8, 6)]
    public void Place_EnoughNodes_AllDistinct(int nodes, int shards)
    {
        var ring = new HashRing(Enumerable.Range(1, nodes).Select(n => new RingNode(n)));
        for (int i = 0; i < 500; i++)
        {
            int[] placement = ring.Place(Hash(i), shards);
            Assert.Equal(expected: shards, actual: placement.Distinct().Count());
        }
    }

    [Fact]
    public void Place_FewerNodesThanShards_UsesEveryNodeAndBalances()
    {
        // Two nodes, RS(2,1): three shards, so one node holds two of them (invariant 8's setting).
        var ring = new HashRing([new RingNode(1), new RingNode(2)]);
        for (int i = 0; i < 200; i++)
        {
            int[] placement = ring.Place(Hash(i), 3);
            Assert.Equal(expected: 3, actual: placement.Length);
            Assert.NotEqual(placement[0], placement[1]);
            Assert.Equal(expected: placement[0], actual: placement[2]);
        }
    }

    [Fact]
    public void Place_WeightedNode_GetsProportionallyMorePrimaries()
    {
        var ring = new HashRing([new RingNode(1, Weight: 1), new RingNode(2, Weight: 3)]);
        int heavy = Enumerable.Range(0, 20_000).Count(i => ring.Place(Hash(i), 1)[0] == 2);

        // 3/4 expected; virtual nodes keep it within a few percent.
        Assert.InRange(heavy / 20_000.0, 0.68, 0.82);
    }

    [Fact]
    public void Place_NodeJoins_MovesAboutItsShareOfPrimaries()
    {
        var before = new HashRing(Enumerable.Range(1, 4).Select(n => new RingNode(n)));
        var after = new HashRing(Enumerable.Range(1, 5).Select(n => new RingNode(n)));
        const int Objects = 20_000;
        int moved = Enumerable.Range(0, Objects).Count(i => before.Place(Hash(i), 1)[0] != after.Place(Hash(i), 1)[0]);

        // Ideal is 1/5; a modulo placement would move about 4/5.
        Assert.InRange(moved / (double)Objects, 0.12, 0.28);
    }

    [Fact]
    public void Constructor_DuplicateIds_Throws()
    {
        Assert.Throws<ArgumentException>(() => new HashRing([new RingNode(1), new RingNode(1)]));
        Assert.Throws<ArgumentException>(() => new HashRing([]));
    }
}
