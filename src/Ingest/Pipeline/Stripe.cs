using Predastore.Ingest.Buffers;
using Predastore.Ingest.Storage;

namespace Predastore.Ingest.Pipeline;

/// <summary>
/// One block of an upload on its way through the graph: the block's bytes as K data cells followed by room for
/// the M parity cells, in one pooled buffer that travels with the message. The last stage disposes it.
/// </summary>
internal sealed class Stripe : IDisposable
{
    private readonly StripeTracker _tracker;
    private readonly BlockBuffer _buffer;

    public Stripe(StripeTracker tracker, BlockBuffer buffer, long index)
    {
        _tracker = tracker;
        _buffer = buffer;
        Index = index;
        _tracker.Add(this);
    }

    /// <summary>Block number within the extent.</summary>
    public long Index { get; }

    /// <summary>Bytes of the body in this block (the last block may be short).</summary>
    public int BlockLength { get; set; }

    public int CellSize { get; private set; }

    public Memory<byte> Block => _buffer.Memory[..BlockLength];

    /// <summary>The buffer the body is read into; up to a full block.</summary>
    public Memory<byte> Unfilled(int blockSize) => _buffer.Memory[BlockLength..blockSize];

    /// <summary>Fixes the cell size once the block is read and zero-pads the last data cell.</summary>
    public void Seal(StripeLayout layout)
    {
        CellSize = layout.CellSizeOf(BlockLength);
        _buffer.Memory.Span[BlockLength..(layout.DataShards * CellSize)].Clear();
    }

    public Memory<byte> Cell(int shardIndex) => _buffer.Memory.Slice(shardIndex * CellSize, CellSize);

    public void Dispose()
    {
        _buffer.Dispose();
        _tracker.Remove(this);
    }
}

/// <summary>
/// The stripes of one upload that are still alive. Dataflow drops the messages a faulted or cancelled block still
/// holds, so the owner of the graph disposes whatever this still lists once the graph has completed.
/// </summary>
internal sealed class StripeTracker
{
    private readonly HashSet<Stripe> _live = [];

    public void Add(Stripe stripe)
    {
        lock (_live)
        {
            _live.Add(stripe);
        }
    }

    public void Remove(Stripe stripe)
    {
        lock (_live)
        {
            _live.Remove(stripe);
        }
    }

    public void DisposeAll()
    {
        Stripe[] left;
        lock (_live)
        {
            left = [.. _live];
        }

        foreach (Stripe stripe in left)
        {
            stripe.Dispose();
        }
    }
}
