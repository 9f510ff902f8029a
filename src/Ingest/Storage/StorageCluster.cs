using System.Collections.Concurrent;
using System.Collections.Frozen;
using Predastore.Encode;
using Predastore.Ingest.Buffers;
using Predastore.Metadata;
using Predastore.Transport;
using Predastore.Transport.Health;
using Predastore.Transport.Placement;

namespace Predastore.Ingest.Storage;

/// <summary>
/// What the gateway knows of the storage tier: the nodes, the ring that places shards on them, the erasure code
/// and the stripe layout every new extent is written with.
/// </summary>
internal sealed class StorageCluster
{
    private readonly ConcurrentDictionary<(int K, int M), ReedSolomon> _codecs = new();

    public StorageCluster(IReadOnlyList<IShardNode> nodes, IReadOnlyList<RingNode> ring, StripeLayout layout, int readAheadBlocks = 4)
    {
        layout.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(readAheadBlocks, 1);
        Nodes = nodes.ToFrozenDictionary(n => n.Id);
        Ring = new HashRing(ring);
        foreach (int id in Ring.Nodes.Keys)
        {
            if (!Nodes.ContainsKey(id))
            {
                throw new ArgumentException($"Ring node {id} has no transport.", nameof(ring));
            }
        }

        Layout = layout;
        Codec = new ReedSolomon(layout.DataShards, layout.ParityShards);
        ReadAheadBlocks = readAheadBlocks;

        // Enough retained buffers for a few concurrent uploads' pipelines and downloads' read-ahead.
        Buffers = new BlockBufferPool(layout.StripeBufferSize, maximumRetained: 64);
    }

    public FrozenDictionary<int, IShardNode> Nodes { get; }

    public HashRing Ring { get; }

    public StripeLayout Layout { get; }

    public ReedSolomon Codec { get; }

    public BlockBufferPool Buffers { get; }

    public int ReadAheadBlocks { get; }

    /// <summary>
    /// Where extents written away from their ring placement (a node was down) are queued for re-placement; null
    /// when nothing tracks health (the embedded server's in-process nodes never go down).
    /// </summary>
    public MetadataStore? Replacements { get; set; }

    /// <summary>False only for a node whose health tracking marked it down.</summary>
    public bool IsHealthy(int nodeId) => !Nodes.TryGetValue(nodeId, out IShardNode? node) || node is not HealthTrackedNode tracked || tracked.IsHealthy;

    /// <summary>
    /// The nodes a new extent of the object goes to (placement[i] holds shard i). Recorded in the manifest; reads
    /// use the record and never call this. A shard whose ring node is marked down goes to the next healthy node on
    /// the ring (then, when healthy nodes run out, shares one, as with few nodes); with fewer than K healthy nodes
    /// nothing could be read back, so the write is refused before a byte is stored.
    /// </summary>
    public int[] Place(ReadOnlySpan<byte> objectHash)
    {
        int[] intended = Ring.Place(objectHash, Layout.TotalShards);
        if (Array.TrueForAll(intended, IsHealthy))
        {
            return intended;
        }

        List<int> healthy = Ring.WalkOrder(objectHash, int.MaxValue, IsHealthy);
        if (healthy.Count < Layout.DataShards)
        {
            throw new ShardException(
                ShardFailure.Unavailable,
                -1,
                $"Only {healthy.Count} of {Ring.Nodes.Count} storage nodes are healthy; RS({Layout.DataShards},{Layout.ParityShards}) needs at least {Layout.DataShards} to store anything.");
        }

        // Substitutes: healthy nodes the intended placement does not use yet, in ring order; then any healthy node.
        var placement = (int[])intended.Clone();
        var substitutes = new Queue<int>(healthy.Where(id => Array.IndexOf(intended, id) < 0));
        int shared = 0;
        for (int i = 0; i < placement.Length; i++)
        {
            if (!IsHealthy(placement[i]))
            {
                placement[i] = substitutes.Count > 0 ? substitutes.Dequeue() : healthy[shared++ % healthy.Count];
            }
        }

        return placement;
    }

    /// <summary>The ring's own placement, ignoring health: where the extent belongs once every node is up.</summary>
    public int[] IntendedPlacement(ReadOnlySpan<byte> objectHash) => Ring.Place(objectHash, Layout.TotalShards);

    /// <summary>The codec for an extent's layout: the cluster's own, or one made (once) for older objects.</summary>
    public ReedSolomon CodecFor(StripeLayout layout) =>
        layout.DataShards == Layout.DataShards && layout.ParityShards == Layout.ParityShards
            ? Codec
            : _codecs.GetOrAdd((layout.DataShards, layout.ParityShards), static shape => new ReedSolomon(shape.K, shape.M));

    public IShardNode Node(int id) =>
        Nodes.TryGetValue(id, out IShardNode? node)
            ? node
            : throw new ShardException(ShardFailure.Unavailable, id, $"Node {id} is not part of this cluster.");
}
