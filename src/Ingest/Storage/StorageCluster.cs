using System.Collections.Concurrent;
using System.Collections.Frozen;
using Predastore.Encode;
using Predastore.Ingest.Buffers;
using Predastore.Transport;
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
    /// The nodes a new extent of the object goes to (placement[i] holds shard i). Recorded in the manifest; reads
    /// use the record and never call this.
    /// </summary>
    public int[] Place(ReadOnlySpan<byte> objectHash) => Ring.Place(objectHash, Layout.TotalShards);

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
