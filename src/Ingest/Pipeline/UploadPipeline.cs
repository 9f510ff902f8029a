using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Threading.Tasks.Dataflow;
using Microsoft.Extensions.Logging;
using Predastore.Ingest.Auth;
using Predastore.Ingest.Storage;
using Predastore.Transport;
using Predastore.Wal;

namespace Predastore.Ingest.Pipeline;

/// <summary>Where an extent's shards go: the object hash, the extent's fresh data id and the recorded placement.</summary>
internal sealed record ExtentTarget(byte[] ObjectHash, Guid DataId, int[] Placement)
{
    public ShardKey KeyOf(int shardIndex)
    {
        Span<byte> dataId = stackalloc byte[ShardKey.DataIdSize];
        DataId.TryWriteBytes(dataId, bigEndian: true, out _);
        return new ShardKey(ObjectHash, dataId, (uint)shardIndex);
    }
}

/// <summary>What the pipeline measured of the body it stored.</summary>
internal sealed record UploadResult(long Size, byte[] Md5, string? Checksum);

/// <summary>
/// The write path: body → chunk → hash → encode → send → node WAL. Every block is bounded, so an upload holds a
/// few stripes whatever its size; when nodes are slow the blocks fill up and the body stops being read.
/// </summary>
/// <remarks>
/// Returns only when every shard is committed (durable) on its node; on any failure (the caller's checks of the
/// whole body included, which run before the commit) the shards written so far are deleted and nothing of the
/// upload stays readable.
/// </remarks>
internal sealed class UploadPipeline
{
    // Stripes waiting at each stage. Encode runs on every core; send keeps several stripes' writes in flight so
    // the node WALs can group them into one sync.
    private const int StageCapacity = 2;
    private const int SendersInFlight = 4;

    private readonly StorageCluster _cluster;
    private readonly ILogger _logger;

    public UploadPipeline(StorageCluster cluster, ILogger logger)
    {
        _cluster = cluster;
        _logger = logger;
    }

    /// <summary>
    /// Stores <paramref name="body"/> as the shards of <paramref name="target"/>. <paramref name="verify"/> holds the
    /// request's checks of the whole body (length, Content-MD5, checksum); it runs once the body is stored and before
    /// any shard is committed, so a rejected body never becomes committed shards to clean up.
    /// </summary>
    public async Task<UploadResult> RunAsync(Stream body, ExtentTarget target, IncrementalChecksum? checksum, Action<UploadResult>? verify = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        StripeLayout layout = _cluster.Layout;
        var uploads = new IShardUpload[layout.TotalShards];
        for (int i = 0; i < uploads.Length; i++)
        {
            uploads[i] = _cluster.Node(target.Placement[i]).BeginPut(target.KeyOf(i));
        }

        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        using var graphCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tracker = new StripeTracker();
        CancellationToken graphToken = graphCancellation.Token;

        var hash = new TransformBlock<Stripe, Stripe>(
            stripe =>
            {
                md5.AppendData(stripe.Block.Span);
                checksum?.Append(stripe.Block.Span);
                return stripe;
            },
            new ExecutionDataflowBlockOptions { BoundedCapacity = StageCapacity, MaxDegreeOfParallelism = 1, CancellationToken = graphToken });

        var encode = new TransformBlock<Stripe, Stripe>(
            stripe =>
            {
                Encode(stripe, layout);
                return stripe;
            },
            new ExecutionDataflowBlockOptions
            {
                BoundedCapacity = StageCapacity,
                MaxDegreeOfParallelism = Environment.ProcessorCount,
                EnsureOrdered = false,
                CancellationToken = graphToken,
            });

        var send = new ActionBlock<Stripe>(
            async stripe =>
            {
                using (stripe)
                {
                    await SendAsync(stripe, uploads, layout, graphToken).ConfigureAwait(false);
                }
            },
            new ExecutionDataflowBlockOptions { BoundedCapacity = SendersInFlight, MaxDegreeOfParallelism = SendersInFlight, CancellationToken = graphToken });

        var propagate = new DataflowLinkOptions { PropagateCompletion = true };
        hash.LinkTo(encode, propagate);
        encode.LinkTo(send, propagate);

        // A node failure faults the send stage, which nothing upstream would notice: cancel the graph so the
        // chunker stops waiting for room.
        _ = send.Completion.ContinueWith(
            static (_, state) => CancelQuietly((CancellationTokenSource)state!),
            graphCancellation,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

        bool committed = false;
        try
        {
            long size = 0;
            Exception? chunkFailure = null;
            try
            {
                size = await ChunkAsync(body, hash, tracker, layout, graphToken).ConfigureAwait(false);
                hash.Complete();
            }
            catch (Exception ex)
            {
                chunkFailure = ex;
                ((IDataflowBlock)hash).Fault(ex);
                CancelQuietly(graphCancellation);
            }

            // Every stage, not only the last: after a failure the send stage faults first, and an encode still
            // writing parity into a stripe must be done before the stripes' buffers go back to the pool below.
            await Task.WhenAll(hash.Completion, encode.Completion, send.Completion)
                .ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
            ThrowIfFailed(chunkFailure, send.Completion);

            var result = new UploadResult(size, md5.GetHashAndReset(), checksum?.GetHeaderValue());
            verify?.Invoke(result);
            long shardLength = layout.ShardLength(size);
            await Task.WhenAll(uploads.Select(u => u.CommitAsync(shardLength, cancellationToken).AsTask())).ConfigureAwait(false);
            QueueReplacement(target);
            committed = true;
            return result;
        }
        finally
        {
            // Messages a faulted graph dropped are still ours to return.
            tracker.DisposeAll();
            foreach (IShardUpload upload in uploads)
            {
                await upload.DisposeAsync().ConfigureAwait(false);
            }

            if (!committed)
            {
                await DeleteShardsAsync(target).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Throws the failure that stopped the graph: a body error (bad digest, short body, client gone) first; else the
    /// node error that faulted a stage, rather than the cancellation that error caused upstream.
    /// </summary>
    private static void ThrowIfFailed(Exception? chunkFailure, Task completion)
    {
        if (chunkFailure is not null and not OperationCanceledException)
        {
            ExceptionDispatchInfo.Throw(chunkFailure);
        }

        if (completion.Exception is { } aggregate)
        {
            Exception root = aggregate.Flatten().InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) ?? aggregate.InnerExceptions[0];
            ExceptionDispatchInfo.Throw(root);
        }

        if (chunkFailure is not null)
        {
            ExceptionDispatchInfo.Throw(chunkFailure);
        }

        if (completion.IsCanceled)
        {
            throw new OperationCanceledException("The upload pipeline was cancelled.");
        }
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The upload already finished; nothing is left to stop.
        }
    }

    /// <summary>
    /// An extent placed away from the ring (a node was down when it was written) is queued, durably, for the
    /// repair worker to move back; its shards are durable by now and the manifest will record where they are.
    /// </summary>
    private void QueueReplacement(ExtentTarget target)
    {
        if (_cluster.Replacements is not { } queue)
        {
            return;
        }

        int[] intended = _cluster.IntendedPlacement(target.ObjectHash);
        if (!intended.AsSpan().SequenceEqual(target.Placement))
        {
            queue.EnqueueReplacement(target.ObjectHash, target.DataId, intended, target.Placement, DateTimeOffset.UtcNow);
        }
    }

    /// <summary>
    /// Deletes every shard of an extent, whatever state it got to. Returns false when a node could not be reached:
    /// the shard is then unreferenced garbage, logged, not an error of the request.
    /// </summary>
    public async Task<bool> DeleteShardsAsync(ExtentTarget target)
    {
        bool all = true;
        for (int i = 0; i < target.Placement.Length; i++)
        {
            ShardKey key = target.KeyOf(i);
            try
            {
                await _cluster.Node(target.Placement[i]).DeleteAsync(key).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
            {
                GatewayLog.ShardDeleteFailed(_logger, key, target.Placement[i], ex);
                all = false;
            }
        }

        return all;
    }

    /// <summary>Cuts the body into blocks of pooled memory and feeds them to the graph, waiting when it is full.</summary>
    private async Task<long> ChunkAsync(Stream body, ITargetBlock<Stripe> first, StripeTracker tracker, StripeLayout layout, CancellationToken cancellationToken)
    {
        long size = 0;
        for (long index = 0; ; index++)
        {
            var stripe = new Stripe(tracker, _cluster.Buffers.Rent(), index);
            while (stripe.BlockLength < layout.BlockSize)
            {
                int read = await body.ReadAsync(stripe.Unfilled(layout.BlockSize), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                stripe.BlockLength += read;
            }

            if (stripe.BlockLength == 0)
            {
                stripe.Dispose();
                return size;
            }

            size += stripe.BlockLength;
            stripe.Seal(layout);
            bool full = stripe.BlockLength == layout.BlockSize;
            if (!await first.SendAsync(stripe, cancellationToken).ConfigureAwait(false))
            {
                // The graph faulted; its completion carries the reason.
                stripe.Dispose();
                await first.Completion.ConfigureAwait(false);
                throw new InvalidOperationException("The upload pipeline stopped accepting blocks.");
            }

            if (!full)
            {
                return size;
            }
        }
    }

    private void Encode(Stripe stripe, StripeLayout layout)
    {
        if (layout.ParityShards == 0)
        {
            return;
        }

        Span<ReadOnlyMemory<byte>> data = new ReadOnlyMemory<byte>[layout.DataShards];
        Span<Memory<byte>> parity = new Memory<byte>[layout.ParityShards];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = stripe.Cell(i);
        }

        for (int i = 0; i < parity.Length; i++)
        {
            parity[i] = stripe.Cell(layout.DataShards + i);
        }

        _cluster.Codec.Encode(data, parity);
    }

    private static Task SendAsync(Stripe stripe, IShardUpload[] uploads, StripeLayout layout, CancellationToken cancellationToken)
    {
        long shardOffset = layout.ShardOffsetOf(stripe.Index);
        var writes = new Task[uploads.Length];
        for (int i = 0; i < uploads.Length; i++)
        {
            writes[i] = uploads[i].WriteAsync(shardOffset, stripe.Cell(i), cancellationToken).AsTask();
        }

        return Task.WhenAll(writes);
    }
}
