using System.Collections.Concurrent;
using Predastore.Metadata;

namespace Predastore.Ingest.Pipeline;

/// <summary>
/// The extents GETs (and part copies) are reading right now. An overwrite or delete puts the old extents on the
/// garbage list at once, but the collector leaves an extent's shards alone while a reader holds a lease on it, so
/// a download that started before the overwrite finishes with the version it started with.
/// </summary>
internal sealed class ReadLeases
{
    private readonly ConcurrentDictionary<Guid, int> _readers = new();

    public bool IsLeased(Guid dataId) => _readers.ContainsKey(dataId);

    public Lease Acquire(IReadOnlyList<Extent> extents)
    {
        Guid[] dataIds = [.. extents.Select(e => e.DataId)];
        foreach (Guid dataId in dataIds)
        {
            _readers.AddOrUpdate(dataId, 1, static (_, count) => count + 1);
        }

        return new Lease(this, dataIds);
    }

    private void Release(Guid[] dataIds)
    {
        foreach (Guid dataId in dataIds)
        {
            // Decrement, and remove the entry exactly when it reaches zero, without racing a new reader.
            while (true)
            {
                int count = _readers[dataId];
                if (count == 1
                    ? _readers.TryRemove(new KeyValuePair<Guid, int>(dataId, 1))
                    : _readers.TryUpdate(dataId, count - 1, count))
                {
                    break;
                }
            }
        }
    }

    /// <summary>Held for the length of one read; disposing it releases the extents exactly once.</summary>
    public sealed class Lease : IDisposable
    {
        private readonly ReadLeases _owner;
        private Guid[]? _dataIds;

        internal Lease(ReadLeases owner, Guid[] dataIds)
        {
            _owner = owner;
            _dataIds = dataIds;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _dataIds, null) is { } dataIds)
            {
                _owner.Release(dataIds);
            }
        }
    }
}
