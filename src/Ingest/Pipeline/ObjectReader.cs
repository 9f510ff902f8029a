using Microsoft.Extensions.Logging;
using Predastore.Encode;
using Predastore.Ingest.Buffers;
using Predastore.Ingest.Storage;
using Predastore.Metadata;
using Predastore.Transport;
using Predastore.Transport.Placement;
using Predastore.Wal;

namespace Predastore.Ingest.Pipeline;

/// <summary>
/// The read path: maps a byte range to extents → blocks → cells and reads just those bytes from the data shards,
/// a bounded number of blocks ahead of the client. No parity is read unless a shard read fails; then that one
/// block is rebuilt from any K shards.
/// </summary>
internal sealed class ObjectReader
{
    private readonly StorageCluster _cluster;
    private readonly ILogger _logger;

    public ObjectReader(StorageCluster cluster, ILogger logger)
    {
        _cluster = cluster;
        _logger = logger;
    }

    /// <summary>Writes bytes [<paramref name="start"/>, start + <paramref name="length"/>) of the object to <paramref name="destination"/>.</summary>
    public async Task CopyRangeAsync(ObjectManifest manifest, long start, long length, Stream destination, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var layout = new StripeLayout(manifest.DataShards, manifest.ParityShards, manifest.BlockSize);
        ReedSolomon codec = _cluster.CodecFor(layout);
        byte[] objectHash = ObjectHash.Compute(manifest.Bucket, manifest.Key);

        // Block reads run ahead of the writer by a fixed count: memory per request is bounded by that, not by the range.
        var pending = new Queue<Task<BlockRead>>(_cluster.ReadAheadBlocks);
        try
        {
            foreach (BlockSpan span in Plan(manifest, layout, start, length))
            {
                if (pending.Count == _cluster.ReadAheadBlocks)
                {
                    await WriteAsync(await pending.Dequeue().ConfigureAwait(false), destination, cancellationToken).ConfigureAwait(false);
                }

                var target = new ExtentTarget(objectHash, span.Extent.DataId, [.. span.Extent.Placement]);
                pending.Enqueue(ReadBlockAsync(target, layout, codec, span, cancellationToken));
            }

            while (pending.Count > 0)
            {
                await WriteAsync(await pending.Dequeue().ConfigureAwait(false), destination, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            // A failed or abandoned response still owns the blocks read ahead of it, every one of them: a block that
            // failed in any way must not stop the buffers of the blocks behind it from going back.
            while (pending.Count > 0)
            {
                try
                {
                    (await pending.Dequeue().ConfigureAwait(false)).Buffer.Dispose();
                }
                catch (Exception)
                {
                    // Already failing; the first error is the one reported.
                }
            }
        }
    }

    private static async Task WriteAsync(BlockRead read, Stream destination, CancellationToken cancellationToken)
    {
        using (read.Buffer)
        {
            await destination.WriteAsync(read.Buffer.Memory[..read.Length], cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The blocks a range touches, each with the part of the block it needs.</summary>
    internal static IEnumerable<BlockSpan> Plan(ObjectManifest manifest, StripeLayout layout, long start, long length)
    {
        long end = start + length;
        long extentStart = 0;
        foreach (Extent extent in manifest.Extents)
        {
            long extentEnd = extentStart + extent.Size;
            if (extentEnd > start && extentStart < end)
            {
                long from = Math.Max(start, extentStart) - extentStart;
                long to = Math.Min(end, extentEnd) - extentStart;
                for (long block = from / layout.BlockSize; block * layout.BlockSize < to; block++)
                {
                    long blockStart = block * layout.BlockSize;
                    int blockLength = layout.BlockLength(extent.Size, block);
                    yield return new BlockSpan(
                        extent,
                        block,
                        blockLength,
                        (int)(Math.Max(from, blockStart) - blockStart),
                        (int)(Math.Min(to, blockStart + blockLength) - blockStart));
                }
            }

            extentStart = extentEnd;
        }
    }

    private async Task<BlockRead> ReadBlockAsync(ExtentTarget target, StripeLayout layout, ReedSolomon codec, BlockSpan span, CancellationToken cancellationToken)
    {
        BlockBuffer buffer = _cluster.Buffers.Rent(layout.StripeBufferSize);
        try
        {
            int wanted = span.To - span.From;
            bool[] failed = new bool[layout.TotalShards];
            if (!await TryReadDataCellsAsync(target, layout, span, buffer.Memory[..wanted], failed, cancellationToken).ConfigureAwait(false))
            {
                await ReconstructAsync(target, layout, codec, span, buffer.Memory, failed, cancellationToken).ConfigureAwait(false);
            }

            return new BlockRead(buffer, wanted);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>The happy path: only the data cells the span covers, only the bytes it covers.</summary>
    private async Task<bool> TryReadDataCellsAsync(ExtentTarget target, StripeLayout layout, BlockSpan span, Memory<byte> destination, bool[] failed, CancellationToken cancellationToken)
    {
        int cellSize = layout.CellSizeOf(span.BlockLength);
        int firstCell = span.From / cellSize;
        int lastCell = (span.To - 1) / cellSize;
        var reads = new Task<bool>[lastCell - firstCell + 1];
        for (int cell = firstCell; cell <= lastCell; cell++)
        {
            int cellStart = cell * cellSize;
            int from = Math.Max(span.From, cellStart);
            int to = Math.Min(span.To, cellStart + cellSize);
            long shardOffset = layout.ShardOffsetOf(span.Block) + (from - cellStart);
            reads[cell - firstCell] = TryReadShardAsync(target, cell, shardOffset, destination[(from - span.From)..(to - span.From)], cancellationToken);
        }

        bool[] results = await Task.WhenAll(reads).ConfigureAwait(false);
        for (int i = 0; i < results.Length; i++)
        {
            failed[firstCell + i] = !results[i];
        }

        return Array.TrueForAll(results, ok => ok);
    }

    /// <summary>
    /// Degraded read: every cell of the block from whichever shards answer, then decode the data cells. A shard that
    /// just failed, or whose node is marked down, is not asked again: a hung node costs the block one time-out.
    /// </summary>
    private async Task ReconstructAsync(ExtentTarget target, StripeLayout layout, ReedSolomon codec, BlockSpan span, Memory<byte> buffer, bool[] failed, CancellationToken cancellationToken)
    {
        int cellSize = layout.CellSizeOf(span.BlockLength);
        long shardOffset = layout.ShardOffsetOf(span.Block);
        var shards = new Memory<byte>[layout.TotalShards];
        var reads = new Task<bool>[layout.TotalShards];
        for (int i = 0; i < shards.Length; i++)
        {
            shards[i] = buffer.Slice(i * cellSize, cellSize);
            reads[i] = failed[i] || !_cluster.IsHealthy(target.Placement[i])
                ? Task.FromResult(false)
                : TryReadShardAsync(target, i, shardOffset, shards[i], cancellationToken);
        }

        bool[] present = await Task.WhenAll(reads).ConfigureAwait(false);
        int available = present.Count(p => p);
        GatewayLog.DegradedRead(_logger, Convert.ToHexStringLower(target.ObjectHash), target.DataId, span.Block, layout.TotalShards - available);
        if (available < layout.DataShards)
        {
            throw new ShardException(ShardFailure.Unavailable, -1, $"Block {span.Block} of data {target.DataId} has {available} of the {layout.DataShards} shards needed to rebuild it.");
        }

        codec.Reconstruct(shards, present, dataOnly: true);

        // Data cells sit back to back from the start of the buffer, so the block's bytes are contiguous there.
        buffer.Span[span.From..span.To].CopyTo(buffer.Span);
    }

    private async Task<bool> TryReadShardAsync(ExtentTarget target, int shardIndex, long shardOffset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        int nodeId = target.Placement[shardIndex];
        ShardKey key = target.KeyOf(shardIndex);
        try
        {
            int read = await _cluster.Node(nodeId).ReadAsync(key, shardOffset, destination, cancellationToken).ConfigureAwait(false);
            if (read == destination.Length)
            {
                return true;
            }

            GatewayLog.ShardShort(_logger, key, nodeId, destination.Length, read);
            return false;
        }
        catch (ShardException ex)
        {
            GatewayLog.ShardReadFailed(_logger, key, nodeId, ex.Failure, ex);
            return false;
        }
    }

    internal readonly record struct BlockSpan(Extent Extent, long Block, int BlockLength, int From, int To);

    private readonly record struct BlockRead(BlockBuffer Buffer, int Length);
}
