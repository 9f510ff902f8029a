using Microsoft.Extensions.Logging;
using Predastore.Ingest.Pipeline;
using Predastore.Metadata;
using Predastore.Transport.Placement;

namespace Predastore.Ingest.Storage;

/// <summary>
/// Deletes the shards of extents that a committed manifest no longer references (overwritten or deleted objects).
/// The metadata store lists them durably in the same transaction that unreferenced them, so a crash between the
/// commit and the deletes only delays the reclaim to the next pass.
/// </summary>
internal sealed class GarbageCollector
{
    private readonly int _batchSize;
    private readonly MetadataStore _metadata;
    private readonly UploadPipeline _uploads;
    private readonly ReadLeases _leases;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _requested;

    public GarbageCollector(MetadataStore metadata, UploadPipeline uploads, ReadLeases leases, ILogger logger, int batchSize = 256)
    {
        _batchSize = batchSize;
        _metadata = metadata;
        _uploads = uploads;
        _leases = leases;
        _logger = logger;
    }

    /// <summary>Reclaims everything listed. A call while a pass runs makes that pass go round once more instead.</summary>
    public async Task ReclaimAsync()
    {
        Interlocked.Exchange(ref _requested, 1);
        while (Volatile.Read(ref _requested) == 1 && await _gate.WaitAsync(0).ConfigureAwait(false))
        {
            try
            {
                while (Interlocked.Exchange(ref _requested, 0) == 1)
                {
                    await ReclaimListedAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    private async Task ReclaimListedAsync()
    {
        int reclaimed = 0;
        bool complete = true;
        long after = 0;
        IReadOnlyList<GarbageEntry> batch;
        do
        {
            batch = _metadata.PendingGarbage(_batchSize, after);
            foreach (GarbageEntry entry in batch)
            {
                after = entry.Id;
                if (_leases.IsLeased(entry.Extent.DataId))
                {
                    // A GET that started before the overwrite is still reading it; a later pass takes it. The pass
                    // goes on past it: a long GET must not hold back every newer entry.
                    continue;
                }

                byte[] objectHash = ObjectHash.Compute(entry.Bucket, entry.Key);
                var target = new ExtentTarget(objectHash, entry.Extent.DataId, [.. entry.Extent.Placement]);
                if (await _uploads.DeleteShardsAsync(target).ConfigureAwait(false))
                {
                    _metadata.ReleaseGarbage(entry.Id);
                    reclaimed++;
                }
                else
                {
                    // Stays listed for a later pass; a node that is down now would fail the rest of the batch too.
                    complete = false;
                }
            }
        }
        while (complete && batch.Count == _batchSize);

        if (reclaimed > 0)
        {
            GatewayLog.GarbageReclaimed(_logger, reclaimed);
        }
    }
}
