using System.Buffers.Binary;
using System.Collections.Frozen;
using System.IO.Hashing;

namespace Predastore.Transport.Placement;

/// <summary>A storage node as the ring sees it: an id and a weight (its share of virtual nodes, by capacity).</summary>
public sealed record RingNode(int Id, int Weight = 1);

/// <summary>
/// Consistent-hash ring with virtual nodes. <see cref="Place"/> maps an object hash to the nodes that hold its
/// shards; the result is written into the manifest and reads use that record, never a recomputation.
/// </summary>
public sealed class HashRing
{
    public const int DefaultVirtualNodesPerWeight = 128;

    private readonly ulong[] _points;
    private readonly int[] _owners;
    private readonly int _distinctNodes;

    public HashRing(IEnumerable<RingNode> nodes, int virtualNodesPerWeight = DefaultVirtualNodesPerWeight)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentOutOfRangeException.ThrowIfLessThan(virtualNodesPerWeight, 1);

        RingNode[] members = nodes.ToArray();
        if (members.Length == 0)
        {
            throw new ArgumentException("A ring needs at least one node.", nameof(nodes));
        }

        if (members.Select(n => n.Id).Distinct().Count() != members.Length)
        {
            throw new ArgumentException("Node ids on a ring must be distinct.", nameof(nodes));
        }

        var points = new List<(ulong Point, int Owner)>();
        Span<byte> seed = stackalloc byte[8];
        foreach (RingNode node in members)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(node.Weight, 1, nameof(nodes));
            for (int v = 0; v < node.Weight * virtualNodesPerWeight; v++)
            {
                BinaryPrimitives.WriteInt32BigEndian(seed, node.Id);
                BinaryPrimitives.WriteInt32BigEndian(seed[4..], v);
                points.Add((XxHash64.HashToUInt64(seed), node.Id));
            }
        }

        // Ties are broken by owner so the ring is the same whatever order the nodes were listed in.
        points.Sort((a, b) => a.Point != b.Point ? a.Point.CompareTo(b.Point) : a.Owner.CompareTo(b.Owner));
        _points = points.Select(p => p.Point).ToArray();
        _owners = points.Select(p => p.Owner).ToArray();
        _distinctNodes = members.Length;
        Nodes = members.ToFrozenDictionary(n => n.Id);
    }

    public FrozenDictionary<int, RingNode> Nodes { get; }

    /// <summary>
    /// Returns <paramref name="count"/> node ids for the shards of the object: walking clockwise from the object
    /// hash, distinct nodes first; when there are fewer nodes than shards the same walk order repeats, so shards
    /// share nodes in a balanced way (shard keys carry the shard index, so they never collide — invariant 1).
    /// </summary>
    public int[] Place(ReadOnlySpan<byte> objectHash, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(objectHash.Length, 8, nameof(objectHash));
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);

        List<int> order = WalkOrder(objectHash, Math.Min(count, _distinctNodes), static _ => true);
        var placement = new int[count];
        for (int i = 0; i < count; i++)
        {
            placement[i] = order[i % order.Count];
        }

        return placement;
    }

    /// <summary>
    /// Distinct nodes in the order the ring walk from the object hash meets them, only those <paramref name="eligible"/>
    /// accepts, at most <paramref name="limit"/>. Failover takes its substitutes from here, so a shard whose node is
    /// down goes to the next healthy node on the ring.
    /// </summary>
    public List<int> WalkOrder(ReadOnlySpan<byte> objectHash, int limit, Func<int, bool> eligible)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(objectHash.Length, 8, nameof(objectHash));
        ArgumentNullException.ThrowIfNull(eligible);
        ulong start = BinaryPrimitives.ReadUInt64BigEndian(objectHash);
        int index = Array.BinarySearch(_points, start);
        if (index < 0)
        {
            index = ~index;
        }

        var order = new List<int>(Math.Min(limit, _distinctNodes));
        var seen = new HashSet<int>();
        for (int step = 0; step < _points.Length && order.Count < limit && seen.Count < _distinctNodes; step++)
        {
            int owner = _owners[(index + step) % _points.Length];
            if (seen.Add(owner) && eligible(owner))
            {
                order.Add(owner);
            }
        }

        return order;
    }
}
