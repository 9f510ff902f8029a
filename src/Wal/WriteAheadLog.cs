using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;

namespace Predastore.Wal;

/// <summary>
/// The storage-node engine: shards are appended as checksummed records to segment files by one exclusive writer,
/// and become readable when their commit record is durable.
/// </summary>
/// <remarks>
/// Invariant 5: every append, commit and delete goes through one queue to one writer thread, which writes each
/// record whole (header and payload in one gather write, at an offset only it assigns), so concurrent uploads can
/// never interleave. The writer drains the queue, writes the batch, covers it with one fdatasync (group commit),
/// then publishes commits and deletes to the index and completes the requests in queue order.
/// </remarks>
public sealed class WriteAheadLog : IAsyncDisposable
{
    private const string LockFileName = "wal.lock";

    // Backpressure: a full queue makes AppendAsync wait for room instead of buffering without bound.
    private const int QueueCapacity = 1024;

    // A read fetches runs of adjacent records up to about this many bytes, and at most this many records, in one
    // preadv: a record is at most two vectors (the suffix of one and the header of the next share one), so a run
    // stays far below IOV_MAX (1024) too.
    private const int MaxReadRun = 1024 * 1024;
    private const int MaxRecordsPerRead = 256;

    // Each record is two iovecs (header, payload); staying far below IOV_MAX (1024) keeps one write one syscall.
    private const int MaxRecordsPerWrite = 256;

    private readonly WalOptions _options;
    private readonly ILogger _logger;
    private readonly string _directory;

    // Held open with FileShare.None (an exclusive flock on Unix) so a second WriteAheadLog, in this process or
    // another, cannot open the directory: one exclusive writer per WAL.
    private readonly SafeFileHandle _lockFile;

    // Guards _committed and _pending. Readers take it only to fetch an immutable CommittedShard.
    private readonly Lock _indexLock = new();
    private readonly Dictionary<ShardKey, CommittedShard> _committed;

    // Uncommitted data per shard. The writer adds to it as it stages records (before the sync: pending data is
    // never readable, and a failed sync stops the WAL) and moves it to _committed only after the sync.
    private readonly Dictionary<ShardKey, ExtentMap> _pending = [];

    // The commits of the batch in flight: staged (their data gone from _pending) but not yet published to
    // _committed. The compactor counts their segments as in use; otherwise it could pick a segment that holds a
    // commit's data in that window, find nothing live in it, and delete data about to be acknowledged.
    private readonly List<WriteRequest> _committing = [];

    // Readers look segments up without the index lock; the writer adds one on each roll.
    private readonly ConcurrentDictionary<int, Segment> _segments = new();

    // The queue to the writer: producers enqueue and set _work; the writer drains. _slots bounds it (backpressure:
    // a full queue makes AppendAsync wait for room instead of buffering without bound). _producers counts callers
    // between their disposed check and their enqueue, so DisposeAsync closes the queue only once none is left.
    private readonly ConcurrentQueue<WriteRequest> _queue = new();
    private readonly ManualResetEventSlim _work = new(false, spinCount: 0);
    private readonly SemaphoreSlim _slots = new(QueueCapacity, QueueCapacity);
    private int _producers;
    private volatile bool _closed;
    private readonly Thread _writer;
    private readonly TaskCompletionSource _writerExited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Writer-thread state: touched only by the writer thread once the constructor has returned.
    private readonly List<WriteRequest> _batch = new(QueueCapacity);
    private readonly List<ReadOnlyMemory<byte>> _gather = new(2 * MaxRecordsPerWrite);
    private readonly byte[] _headers = GC.AllocateUninitializedArray<byte>(MaxRecordsPerWrite * RecordHeader.Size, pinned: true);
    private readonly MemoryHandle[] _pins = new MemoryHandle[2 * MaxRecordsPerWrite];
    private readonly IoVector[] _vectors = new IoVector[2 * MaxRecordsPerWrite];
    private Segment _tail;
    private long _tailLength;
    private bool _tailDirty;
    private long _stagedOffset;
    private int _stagedRecords;
    private ulong _nextSequence;

    // Set once by the writer when a write or sync fails; never cleared (reopen to recover).
    private volatile Exception? _failure;
    private int _disposed;
    private long _corruptionsDetected;

    // The tail's id, for the compactor (which must never pick the segment being written).
    private volatile int _tailId;
    private long _bytesSinceCheckpoint;
    private long _lastCheckpointSize;

    // Checkpoints are serialised and written off the writer thread, one after another, in snapshot order.
    private Task _checkpointChain = Task.CompletedTask;

    // One compaction at a time (the background loop, CompactAsync callers).
    private readonly SemaphoreSlim _compactionGate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _compactor;

    private WriteAheadLog(WalOptions options, ILogger logger, SafeFileHandle lockFile, RecoveredState state)
    {
        _options = options;
        _logger = logger;
        _directory = options.Directory;
        _lockFile = lockFile;
        _committed = state.Committed;
        foreach (Segment segment in state.Segments)
        {
            _segments[segment.Id] = segment;
        }

        _tail = state.Tail;
        _tailId = state.Tail.Id;
        _tailLength = state.TailLength;
        _stagedOffset = state.TailLength;
        _nextSequence = state.NextSequence;

        // A dedicated thread, not a pool task: the writer blocks in write and fdatasync, and must not starve the
        // pool that runs the uploads feeding it.
        _writer = new Thread(RunWriter)
        {
            IsBackground = true,
            Name = "Predastore WAL writer",
        };
        _writer.Start();
        _compactor = options.CompactionInterval > TimeSpan.Zero ? RunCompactorAsync() : Task.CompletedTask;
    }

    /// <summary>Corrupt records found by reads since the WAL was opened.</summary>
    public long CorruptionsDetected => Interlocked.Read(ref _corruptionsDetected);

    // Internal for testing: the writer calls this before every positioned write and every fdatasync; an exception
    // thrown here stands for an I/O failure at that point.
    internal Action<WalFaultPoint>? FaultInjector { get; set; }

    /// <summary>
    /// Opens the WAL in <see cref="WalOptions.Directory"/> (creating it), rebuilds the index from the segments,
    /// truncates a torn tail of the last segment and discards uncommitted shards.
    /// </summary>
    public static WriteAheadLog Open(WalOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ILogger log = logger ?? NullLogger.Instance;
        CreateDirectoryDurably(options.Directory);
        SafeFileHandle lockFile = AcquireLock(options.Directory);
        try
        {
            RecoveredState state = WalRecovery.Recover(options, log);
            return new WriteAheadLog(options, log, lockFile, state);
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Creates the WAL's directory (and any missing parents) and syncs each new entry's parent directory: the
    /// segments' own directory sync does not make the directory itself survive a power loss.
    /// </summary>
    private static void CreateDirectoryDurably(string path)
    {
        var missing = new List<string>();
        for (string? current = Path.GetFullPath(path); current is not null && !Directory.Exists(current); current = Path.GetDirectoryName(current))
        {
            missing.Add(current);
        }

        Directory.CreateDirectory(path);
        foreach (string created in missing)
        {
            DurableIo.SyncDirectory(Path.GetDirectoryName(created)!);
        }
    }

    /// <summary>
    /// Appends <paramref name="payload"/> as bytes [<paramref name="shardOffset"/>, +length) of shard
    /// <paramref name="key"/>; completes when they are durable. The caller keeps the payload alive and unchanged
    /// until then. Cancellation only takes effect before the writer picks the request up.
    /// </summary>
    public ValueTask AppendAsync(ShardKey key, long shardOffset, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        ArgumentOutOfRangeException.ThrowIfNegative(shardOffset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shardOffset, long.MaxValue - payload.Length);
        if (payload.IsEmpty)
        {
            // Nothing to make durable; still report a stopped WAL.
            ThrowIfUnusable();
            return ValueTask.CompletedTask;
        }

        return EnqueueAsync(WriteRequest.Rent(RequestKind.Append, key, shardOffset, payload, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Commits shard <paramref name="key"/> with <paramref name="shardLength"/> bytes; completes when the commit
    /// record is durable, after which the shard is readable. Replaces an earlier commit of the key. Fails with
    /// <see cref="InvalidOperationException"/>, writing nothing, if the data appended since the last commit or
    /// delete of the key does not cover [0, shardLength).
    /// </summary>
    public ValueTask CommitAsync(ShardKey key, long shardLength, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        ArgumentOutOfRangeException.ThrowIfNegative(shardLength);
        return EnqueueAsync(WriteRequest.Rent(RequestKind.Commit, key, shardLength, ReadOnlyMemory<byte>.Empty, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Writes a tombstone for <paramref name="key"/>; completes when it is durable, with the shard gone from the
    /// index. Data appended for the key before the delete is dropped too. Deleting an absent shard is no error.
    /// </summary>
    public ValueTask DeleteAsync(ShardKey key, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        return EnqueueAsync(WriteRequest.Rent(RequestKind.Delete, key, 0, ReadOnlyMemory<byte>.Empty, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Forgets the uncommitted data of an abandoned upload (memory only: the records stay on disk, unreadable, and
    /// are discarded on the next open). Appends of the key still queued are not affected.
    /// </summary>
    public void Abandon(ShardKey key)
    {
        int extents = DropPending(key);
        if (extents > 0)
        {
            WalLog.UploadAbandoned(_logger, key, extents);
        }
    }

    /// <summary>The length of a committed shard.</summary>
    public bool TryGetLength(ShardKey key, out long length)
    {
        lock (_indexLock)
        {
            if (_committed.TryGetValue(key, out CommittedShard? shard))
            {
                length = shard.Length;
                return true;
            }
        }

        length = 0;
        return false;
    }

    /// <summary>
    /// Reads min(destination.Length, length - shardOffset) bytes of a committed shard, checking the CRC of each
    /// record it reads (and only those). Throws <see cref="ShardNotFoundException"/> for a shard that is not
    /// committed and <see cref="ShardCorruptException"/> when a record fails its check; the contents of
    /// <paramref name="destination"/> are then undefined (payloads are read straight into it and checked there).
    /// </summary>
    /// <remarks>
    /// The read runs on the calling thread, one positioned preadv per run of adjacent records; on Unix
    /// RandomAccess.ReadAsync would run the same blocking call on a pool thread. So a read from the page cache
    /// completes synchronously, with no thread switch and nothing allocated. Cancellation is checked only when the
    /// call starts (a positioned read cannot be interrupted either way).
    /// </remarks>
    public ValueTask<int> ReadAsync(ShardKey key, long shardOffset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        try
        {
            return ValueTask.FromResult(Read(key, shardOffset, destination.Span));
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<int>(ex);
        }
    }

    private int Read(ShardKey key, long shardOffset, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shardOffset);
        while (true)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                ThrowHelper.ThrowDisposed(this);
            }

            CommittedShard? shard;
            lock (_indexLock)
            {
                _committed.TryGetValue(key, out shard);
            }

            if (shard is null)
            {
                ThrowHelper.ThrowShardNotFound(key);
            }

            try
            {
                return ReadShard(key, shard, shardOffset, destination);
            }
            catch (SegmentGoneException)
            {
                // Compaction moved the records and deleted the segment after this read fetched the shard: the
                // index already points at the copies, so fetch it again. (The copies sit in the tail, which is
                // compacted only once sealed, so another retry needs another whole compaction meanwhile; no bound,
                // since this internal exception must never reach the caller.)
            }
        }
    }

    private int ReadShard(ShardKey key, CommittedShard shard, long shardOffset, Span<byte> destination)
    {
        if (shardOffset > shard.Length)
        {
            ThrowHelper.ThrowOffsetPastEnd(shardOffset, shard.Length);
        }

        int toRead = (int)Math.Min(destination.Length, shard.Length - shardOffset);
        if (toRead == 0)
        {
            return 0;
        }

        // The extents of a committed shard are contiguous, so the range is the run of extents from the first.
        // Records that follow each other in one segment (the usual layout of an upload) are read in one call.
        Extent[] extents = shard.Extents;
        int done = 0;
        int index = shard.FindExtent(shardOffset);
        while (done < toRead)
        {
            int first = index;
            Extent extent = extents[index];
            long runStart = extent.RecordOffset;
            long runEnd = runStart + RecordHeader.Size + extent.PayloadLength;
            long covered = extent.End - (shardOffset + done);
            index++;
            while (index < extents.Length
                && covered < toRead - done
                && index - first < MaxRecordsPerRead
                && extents[index].SegmentId == extent.SegmentId
                && extents[index].RecordOffset == runEnd
                && runEnd - runStart < MaxReadRun)
            {
                runEnd += RecordHeader.Size + extents[index].PayloadLength;
                covered += extents[index].Length;
                index++;
            }

            int count = (int)Math.Min(covered, toRead - done);
            ReadRun(key, extents, first, index, shardOffset + done, destination.Slice(done, count), runStart, runEnd);
            done += count;
        }

        return done;
    }

    /// <summary>The committed shards, as of the call.</summary>
    public IReadOnlyList<ShardKey> ListShards()
    {
        lock (_indexLock)
        {
            return [.. _committed.Keys];
        }
    }

    /// <summary>
    /// Compacts every sealed segment whose live records fill less than <see cref="WalOptions.CompactionLiveFraction"/>
    /// of it: copies those records verbatim to the tail, repoints the index, writes a checkpoint, deletes the
    /// segment. Reads and writes go on meanwhile. Returns the number of segments deleted. The background compactor
    /// calls this every <see cref="WalOptions.CompactionInterval"/>.
    /// </summary>
    public async Task<int> CompactAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfUnusable();
        await _compactionGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfUnusable();
            int deleted = 0;
            foreach (Segment victim in PickVictims())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (await CompactSegmentAsync(victim, cancellationToken).ConfigureAwait(false))
                {
                    deleted++;
                }
            }

            return deleted;
        }
        finally
        {
            _compactionGate.Release();
        }
    }

    /// <summary>Stops accepting writes, lets the writer finish (and sync) everything queued, writes a checkpoint, then closes the files.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            try
            {
                await _compactor.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Expected: the compactor stops at its next await.
            }

            // A CompactAsync caller may still be between copies; let it finish or fail before the queue closes.
            await _compactionGate.WaitAsync().ConfigureAwait(false);
            while (Volatile.Read(ref _producers) != 0)
            {
                await Task.Delay(1).ConfigureAwait(false);
            }

            _closed = true;
            _work.Set();
            await _writerExited.Task.ConfigureAwait(false);
            await _checkpointChain.ConfigureAwait(false);

            // A clean close leaves a checkpoint of everything, so the next open replays nothing.
            if (_failure is null)
            {
                WriteCheckpoint(TakeSnapshot(), completion: null);
            }

            // The next open discards uncommitted data: its maps go back to the pool now.
            lock (_indexLock)
            {
                foreach (ExtentMap map in _pending.Values)
                {
                    ExtentMap.Return(map);
                }

                _pending.Clear();
            }

            foreach (Segment segment in _segments.Values)
            {
                segment.Dispose();
            }

            _lockFile.Dispose();
            _stopping.Dispose();
            _compactionGate.Release();
        }

        await _writerExited.Task.ConfigureAwait(false);
    }

    private static SafeFileHandle AcquireLock(string directory)
    {
        try
        {
            return File.OpenHandle(Path.Combine(directory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw ThrowHelper.CreateAlreadyOpen(directory, ex);
        }
    }

    private void ThrowIfUnusable()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            ThrowHelper.ThrowDisposed(this);
        }

        if (_failure is { } failure)
        {
            ThrowHelper.ThrowWalFailed(failure);
        }
    }

    /// <summary>
    /// Queues <paramref name="request"/> and returns what completes when it is durable (or fails). Allocates nothing
    /// unless the queue is full.
    /// </summary>
    private ValueTask EnqueueAsync(WriteRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _producers);
        bool queued = false;
        try
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return ValueTask.FromException(new ObjectDisposedException(GetType().FullName));
            }

            if (_failure is { } failure)
            {
                return ValueTask.FromException(ThrowHelper.CreateWalFailed(failure));
            }

            if (!_slots.Wait(0, CancellationToken.None))
            {
                queued = true; // the slow path owns the request and the producer count from here
                return EnqueueWhenRoomAsync(request, cancellationToken);
            }

            queued = true;
            _queue.Enqueue(request);
            _work.Set();
        }
        finally
        {
            if (!queued)
            {
                request.ReturnUnused();
                Interlocked.Decrement(ref _producers);
            }
        }

        Interlocked.Decrement(ref _producers);

        // Once queued, the request is the writer's until it completes: the payload may be on its way to disk.
        return request.Task;
    }

    private async ValueTask EnqueueWhenRoomAsync(WriteRequest request, CancellationToken cancellationToken)
    {
        try
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            request.ReturnUnused();
            Interlocked.Decrement(ref _producers);
            throw;
        }

        _queue.Enqueue(request);
        _work.Set();
        Interlocked.Decrement(ref _producers);
        await request.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the records [<paramref name="runStart"/>, <paramref name="runEnd"/>) of one segment, which hold extents
    /// [<paramref name="first"/>, <paramref name="end"/>) and, from <paramref name="shardOffset"/> on, all of
    /// <paramref name="destination"/>, in one scatter read, then checks each record (header and CRC).
    /// </summary>
    /// <remarks>
    /// The requested bytes go straight into the caller's buffer. What the check needs besides them goes to a pooled
    /// side buffer: every header, and the payload bytes of a record before and after the requested ones (at the
    /// ends of the range, or around a slice of a record that a later append partly replaced), because the CRC
    /// covers the whole record.
    /// </remarks>
    private unsafe void ReadRun(
        ShardKey key, Extent[] extents, int first, int end, long shardOffset, Span<byte> destination, long runStart, long runEnd)
    {
        int segmentId = extents[first].SegmentId;
        if (!_segments.TryGetValue(segmentId, out Segment? segment))
        {
            throw new SegmentGoneException();
        }

        byte[] side = ArrayPool<byte>.Shared.Rent(checked((int)(runEnd - runStart)) - destination.Length);
        IoVector[] vectors = ArrayPool<IoVector>.Shared.Rent((2 * (end - first)) + 1);
        try
        {
            long read;
            fixed (byte* sideStart = side)
            fixed (byte* destinationStart = destination)
            {
                // In disk order, record by record: header and payload prefix to the side, the requested bytes to the
                // caller, the payload suffix to the side (in one vector with the next header).
                int vectorCount = 0;
                int sideUsed = 0;
                int placed = 0;
                for (int i = first; i < end; i++)
                {
                    RecordPieces pieces = RecordPieces.Of(extents[i], shardOffset + placed, destination.Length - placed);
                    vectorCount = AddVector(vectors, vectorCount, sideStart + sideUsed, RecordHeader.Size + pieces.Prefix);
                    vectorCount = AddVector(vectors, vectorCount, destinationStart + placed, pieces.Count);
                    vectorCount = AddVector(vectors, vectorCount, sideStart + sideUsed + RecordHeader.Size + pieces.Prefix, pieces.Suffix);
                    sideUsed += RecordHeader.Size + pieces.Prefix + pieces.Suffix;
                    placed += pieces.Count;
                }

                Debug.Assert(placed == destination.Length, "A run covers exactly the bytes asked of it.");
                try
                {
                    read = DurableIo.ReadScatter(segment.Handle, vectors, vectorCount, runStart);
                }
                catch (ObjectDisposedException)
                {
                    throw new SegmentGoneException();
                }
            }

            int sideAt = 0;
            int verified = 0;
            long recordEnd = 0;
            for (int i = first; i < end; i++)
            {
                Extent extent = extents[i];
                RecordPieces pieces = RecordPieces.Of(extent, shardOffset + verified, destination.Length - verified);
                recordEnd += RecordHeader.Size + extent.PayloadLength;
                int headerAndPrefix = RecordHeader.Size + pieces.Prefix;
                RecordDefect defect = recordEnd > read
                    ? RecordDefect.ShortRead
                    : VerifyRecord(
                        side.AsSpan(sideAt, headerAndPrefix),
                        destination.Slice(verified, pieces.Count),
                        side.AsSpan(sideAt + headerAndPrefix, pieces.Suffix),
                        key,
                        extent);
                if (defect != RecordDefect.None)
                {
                    ReportCorruption(key, segment.FileName, extent.RecordOffset, defect);
                }

                sideAt += headerAndPrefix + pieces.Suffix;
                verified += pieces.Count;
            }
        }
        finally
        {
            ArrayPool<IoVector>.Shared.Return(vectors);
            ArrayPool<byte>.Shared.Return(side);
        }
    }

    /// <summary>
    /// Adds [<paramref name="at"/>, +<paramref name="length"/>) as the next vector of a scatter read, or extends the
    /// last vector when that ends at <paramref name="at"/>; returns the vector count.
    /// </summary>
    private static unsafe int AddVector(IoVector[] vectors, int count, byte* at, int length)
    {
        if (length == 0)
        {
            return count;
        }

        if (count > 0 && vectors[count - 1].Base + vectors[count - 1].Length == at)
        {
            vectors[count - 1] = new IoVector(vectors[count - 1].Base, vectors[count - 1].Length + (nuint)length);
            return count;
        }

        vectors[count] = new IoVector(at, (nuint)length);
        return count + 1;
    }

    private static RecordDefect VerifyRecord(Span<byte> headerAndPrefix, ReadOnlySpan<byte> middle, ReadOnlySpan<byte> suffix, ShardKey key, Extent extent)
    {
        RecordDefect defect = RecordHeader.TryParse(headerAndPrefix, out RecordHeader header);
        if (defect != RecordDefect.None)
        {
            return defect;
        }

        if (header.Type != RecordType.Data
            || header.Key != key
            || header.PayloadLength != extent.PayloadLength
            || header.Value != extent.ShardOffset - extent.PayloadSkip)
        {
            return RecordDefect.Misplaced;
        }

        return RecordHeader.VerifyScattered(headerAndPrefix, middle, suffix) ? RecordDefect.None : RecordDefect.ChecksumMismatch;
    }

    /// <summary>
    /// How a read splits the payload of one extent's record: <see cref="Prefix"/> bytes before the requested ones,
    /// <see cref="Count"/> requested, <see cref="Suffix"/> after them.
    /// </summary>
    private readonly record struct RecordPieces(int Prefix, int Count, int Suffix)
    {
        /// <summary>The pieces of a read of up to <paramref name="remaining"/> bytes from <paramref name="position"/>, inside <paramref name="extent"/>.</summary>
        public static RecordPieces Of(Extent extent, long position, int remaining)
        {
            int skip = (int)(position - extent.ShardOffset);
            int count = Math.Min(extent.Length - skip, remaining);
            Debug.Assert(skip >= 0 && count > 0, "Every record of a run holds requested bytes.");
            int prefix = extent.PayloadSkip + skip;
            return new RecordPieces(prefix, count, extent.PayloadLength - prefix - count);
        }
    }

    [DoesNotReturn]
    private void ReportCorruption(ShardKey key, string segmentFile, long recordOffset, RecordDefect defect)
    {
        Interlocked.Increment(ref _corruptionsDetected);
        WalLog.ReadCorruption(_logger, key, segmentFile, recordOffset, defect);
        ThrowHelper.ThrowShardCorrupt(key, segmentFile, recordOffset, defect);
    }

    // ---- The writer thread ----

    private void RunWriter()
    {
        try
        {
            while (true)
            {
                // Reset before draining: a producer that enqueues after the drain sets the event again.
                _work.Reset();
                _batch.Clear();
                while (_batch.Count < QueueCapacity && _queue.TryDequeue(out WriteRequest? request))
                {
                    _batch.Add(request);
                }

                if (_batch.Count == 0)
                {
                    if (_closed && _queue.IsEmpty)
                    {
                        break;
                    }

                    // The writer owns this thread, so blocking here is the point: it sleeps until there is work.
                    _work.Wait();
                    continue;
                }

                int count = _batch.Count;
                ProcessBatch(_batch);
                _batch.Clear();
                _slots.Release(count);
            }

            _writerExited.TrySetResult();
        }
        catch (Exception ex)
        {
            // Not reached in practice (ProcessBatch contains its failures); surfaces through DisposeAsync if it is.
            _writerExited.TrySetException(ex);
        }
    }

    private void ProcessBatch(List<WriteRequest> batch)
    {
        Exception? failure = _failure;
        if (failure is null)
        {
            try
            {
                foreach (WriteRequest request in batch)
                {
                    Stage(request);
                }

                FlushStaged();
                SyncTail();
            }
            catch (Exception ex)
            {
                // Part of the batch may be on disk, part not; nothing in it is acknowledged, and nothing after it
                // will be, because a later record's ack would vouch for an earlier missing one on replay.
                failure = ex;
                _failure = ex;
                WalLog.WriterFailed(_logger, ex);
                lock (_indexLock)
                {
                    // These commits will never be published, and their requests go back to the pool.
                    _committing.Clear();
                }
            }
        }

        List<WriteRequest>? checkpoints = null;
        if (failure is null)
        {
            checkpoints = Publish(batch);
        }

        // In queue order, and only now: every record of the batch is durable (or the batch failed).
        foreach (WriteRequest request in batch)
        {
            if (request.Kind == RequestKind.Checkpoint && failure is null)
            {
                // Completed by the checkpoint write that Publish scheduled.
                continue;
            }

            if (request.Rejection is { } rejection)
            {
                request.SetException(rejection);
            }
            else if (request.Skipped)
            {
                request.SetCanceled();
            }
            else if (failure is not null)
            {
                request.SetException(ThrowHelper.CreateWalFailed(failure));
            }
            else
            {
                request.SetResult();
            }
        }
    }

    private void Stage(WriteRequest request)
    {
        if (request.CancellationToken.IsCancellationRequested)
        {
            // Safe to drop: the writer has not touched the payload, so the caller may reuse it right away.
            request.Skipped = true;
            return;
        }

        switch (request.Kind)
        {
            case RequestKind.Append:
                StageData(request);
                break;
            case RequestKind.Commit:
                StageCommit(request);
                break;
            case RequestKind.Delete:
                DropPending(request.Key);
                StageRecord(RecordType.Tombstone, request.Key, 0, ReadOnlyMemory<byte>.Empty);
                break;
            case RequestKind.Copy:
                StageCopy(request);
                break;
            case RequestKind.Checkpoint:
                break;
        }
    }

    /// <summary>Forgets the uncommitted data of <paramref name="key"/>; returns how many extents it had.</summary>
    private int DropPending(ShardKey key)
    {
        ExtentMap? map;
        lock (_indexLock)
        {
            _pending.Remove(key, out map);
        }

        if (map is null)
        {
            return 0;
        }

        int extents = map.Count;
        ExtentMap.Return(map);
        return extents;
    }

    private void StageData(WriteRequest request)
    {
        ReadOnlyMemory<byte> remaining = request.Payload;
        long shardOffset = request.Value;
        while (!remaining.IsEmpty)
        {
            int length = Math.Min(remaining.Length, _options.MaxRecordPayload);
            RecordLocation location = StageRecord(RecordType.Data, request.Key, shardOffset, remaining[..length]);
            lock (_indexLock)
            {
                if (!_pending.TryGetValue(request.Key, out ExtentMap? map))
                {
                    map = ExtentMap.Rent();
                    _pending.Add(request.Key, map);
                }

                map.Insert(new Extent(shardOffset, length, location.SegmentId, location.Offset, length, 0));
            }

            shardOffset += length;
            remaining = remaining[length..];
        }
    }

    private void StageCommit(WriteRequest request)
    {
        // Checked here, in queue order, so appends queued before the commit count even if not yet durable.
        long shardLength = request.Value;
        Extent[] extents;
        ExtentMap? map;
        lock (_indexLock)
        {
            _pending.TryGetValue(request.Key, out map);
            long covered = map?.CoveredPrefix() ?? 0;
            if (covered < shardLength)
            {
                request.Rejection = ThrowHelper.CreateCommitNotCovered(request.Key, shardLength, covered);
                WalLog.CommitRejected(_logger, request.Key, shardLength, covered);
                return;
            }

            // Appends after this commit start a new version of the shard, as they do on replay.
            extents = map?.ToCommitted(shardLength) ?? [];
            _pending.Remove(request.Key);
            request.CommittedExtents = extents;
            _committing.Add(request);
        }

        if (map is not null)
        {
            ExtentMap.Return(map);
        }

        RecordLocation location = StageRecord(RecordType.Commit, request.Key, shardLength, ReadOnlyMemory<byte>.Empty);

        // Set before any later roll can seal the commit record's segment, so the compactor sees it whenever that
        // segment is a candidate.
        lock (_indexLock)
        {
            request.CommitLocation = location;
        }
    }

    /// <summary>Stages compaction copies: whole records, byte for byte (sequence number and CRC included).</summary>
    private void StageCopy(WriteRequest request)
    {
        long[] sources = request.CopySourceOffsets!;
        var targets = new Dictionary<long, RecordLocation>(sources.Length);
        ReadOnlyMemory<byte> records = request.Payload;
        foreach (long source in sources)
        {
            int size = RecordHeader.Size + BinaryPrimitives.ReadInt32LittleEndian(records.Span[12..]);
            ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(records.Span[16..]);
            targets[source] = StageRaw(records[..size], sequence);
            records = records[size..];
        }

        request.CopyTargets = targets;
    }

    /// <summary>Builds a record's header and stages it with its payload.</summary>
    private RecordLocation StageRecord(RecordType type, ShardKey key, long value, ReadOnlyMemory<byte> payload)
    {
        EnsureRoom(RecordHeader.Size + (long)payload.Length);
        ulong sequence = _nextSequence++;
        Memory<byte> header = _headers.AsMemory(_stagedRecords * RecordHeader.Size, RecordHeader.Size);
        new RecordHeader(type, key, value, payload.Length, sequence).WriteTo(header.Span);
        RecordHeader.WriteCrc(header.Span, Crc32C.Hash(header.Span, payload.Span));

        // Header and payload go out in the same gather write, back to back; the payload is not copied.
        _gather.Add(header);
        if (!payload.IsEmpty)
        {
            _gather.Add(payload);
        }

        return Advance(RecordHeader.Size + (long)payload.Length, sequence);
    }

    private RecordLocation StageRaw(ReadOnlyMemory<byte> record, ulong sequence)
    {
        EnsureRoom(record.Length);
        _gather.Add(record);
        return Advance(record.Length, sequence);
    }

    /// <summary>Rolls to a new segment first if the record does not fit, and flushes a full gather list.</summary>
    private void EnsureRoom(long recordSize)
    {
        // Invariant 4: the limit counts the header too, and a record never straddles two segments.
        if (_tailLength + recordSize > _options.SegmentSize)
        {
            RollSegment();
        }

        if (_stagedRecords == MaxRecordsPerWrite)
        {
            FlushStaged();
        }
    }

    private RecordLocation Advance(long recordSize, ulong sequence)
    {
        _stagedRecords++;
        var location = new RecordLocation(_tail.Id, _tailLength);
        _tailLength += recordSize;
        _bytesSinceCheckpoint += recordSize;
        _tail.NoteSequence(sequence);
        _tail.UsedLength = _tailLength;
        _tailDirty = true;
        WalInvariants.CheckSegmentLength(_tailLength, _options.SegmentSize);
        return location;
    }

    private void FlushStaged()
    {
        if (_gather.Count > 0)
        {
            FaultInjector?.Invoke(WalFaultPoint.Write);
            DurableIo.WriteGather(_tail.Handle, _gather, _stagedOffset, _pins, _vectors);
            _gather.Clear();
        }

        _stagedRecords = 0;
        _stagedOffset = _tailLength;
    }

    private void SyncTail()
    {
        if (_tailDirty)
        {
            FaultInjector?.Invoke(WalFaultPoint.Sync);
            _tail.FlushData();
            _tailDirty = false;
        }
    }

    private void RollSegment()
    {
        // The full segment is made durable before the next one exists, so a torn record can only ever be in the
        // last segment, which is the only one recovery truncates.
        FlushStaged();
        SyncTail();
        Segment next = Segment.CreateNew(_directory, _tail.Id + 1);
        try
        {
            // A full disk fails here (ENOSPC in HResult), before any byte of the record is written.
            if (_options.PreallocateSegments)
            {
                next.Preallocate(_options.SegmentSize);
            }

            DurableIo.SyncDirectory(_directory);
        }
        catch
        {
            next.Dispose();
            File.Delete(next.Path);
            throw;
        }

        _segments[next.Id] = next;
        _tail = next;
        _tailId = next.Id;
        _tailLength = 0;
        _stagedOffset = 0;
        WalLog.SegmentCreated(_logger, next.FileName);
    }

    /// <summary>
    /// Applies the durable batch to the index; schedules a checkpoint when the batch asked for one or enough was
    /// written since the last. Returns the checkpoint requests that the checkpoint write will complete.
    /// </summary>
    private List<WriteRequest>? Publish(List<WriteRequest> batch)
    {
        List<WriteRequest>? checkpoints = null;
        lock (_indexLock)
        {
            // Every commit staged so far belongs to this batch; from here on _committed shows them.
            _committing.Clear();
            foreach (WriteRequest request in batch)
            {
                if (request.Skipped || request.Rejection is not null)
                {
                    continue;
                }

                switch (request.Kind)
                {
                    case RequestKind.Commit:
                        _committed[request.Key] = new CommittedShard(
                            request.Value, request.CommittedExtents ?? [], request.CommitLocation.SegmentId, request.CommitLocation.Offset);
                        break;
                    case RequestKind.Delete:
                        _committed.Remove(request.Key);
                        break;
                    case RequestKind.Copy:
                        // Only if the shard still uses the copied records: it may have been deleted or replaced
                        // since the compactor read them, and then the copies are simply dead.
                        if (_committed.TryGetValue(request.Key, out CommittedShard? shard)
                            && shard.Relocate((int)request.Value, request.CopyTargets!) is { } moved)
                        {
                            _committed[request.Key] = moved;
                        }

                        break;
                    case RequestKind.Checkpoint:
                        (checkpoints ??= []).Add(request);
                        break;
                }
            }
        }

        if (checkpoints is not null || _bytesSinceCheckpoint >= Math.Max(_options.CheckpointInterval, 8 * _lastCheckpointSize))
        {
            ScheduleCheckpoint(checkpoints);
        }

        if (_logger.IsEnabled(LogLevel.Debug))
        {
            foreach (WriteRequest request in batch)
            {
                if (request.Skipped || request.Rejection is not null)
                {
                    continue;
                }

                if (request.Kind == RequestKind.Commit)
                {
                    WalLog.ShardCommitted(_logger, request.Key, request.Value, request.CommittedExtents?.Length ?? 0);
                }
                else if (request.Kind == RequestKind.Delete)
                {
                    WalLog.ShardDeleted(_logger, request.Key);
                }
            }
        }

        return checkpoints;
    }

    // ---- Checkpoints ----

    /// <summary>The index as of now. Called by the writer between batches (or after it exited), when all is durable.</summary>
    private CheckpointSnapshot TakeSnapshot()
    {
        _bytesSinceCheckpoint = 0;
        lock (_indexLock)
        {
            return new CheckpointSnapshot
            {
                NextSequence = _nextSequence,
                Position = new RecordLocation(_tail.Id, _tailLength),
                Segments = [.. _segments.Values.Select(s => new SegmentInfo(s.Id, s.UsedLength, s.MinSequence))],
                Committed = [.. _committed],
                Pending = [.. _pending.Select(p => new KeyValuePair<ShardKey, Extent[]>(p.Key, p.Value.ToArray()))],
            };
        }
    }

    private void ScheduleCheckpoint(List<WriteRequest>? requests)
    {
        // The snapshot is taken now, on the writer thread, so it matches the log position exactly; serialising
        // and writing it happens on the pool, one checkpoint after another, while the writer goes on.
        CheckpointSnapshot snapshot = TakeSnapshot();
        _checkpointChain = _checkpointChain.ContinueWith(
            _ => WriteCheckpoint(snapshot, requests),
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
    }

    private void WriteCheckpoint(CheckpointSnapshot snapshot, List<WriteRequest>? completion)
    {
        try
        {
            long size = Checkpoint.Write(_directory, snapshot);
            Volatile.Write(ref _lastCheckpointSize, size);
            WalLog.CheckpointWritten(_logger, snapshot.Committed.Length, size, Segment.FileNameOf(snapshot.Position.SegmentId), snapshot.Position.Offset);
            completion?.ForEach(r => r.SetResult());
        }
        catch (Exception ex)
        {
            // Not fatal: the older checkpoint (or none) still leads to the same index, with more replay.
            WalLog.CheckpointFailed(_logger, ex);
            completion?.ForEach(r => r.SetException(ex));
        }
    }

    // ---- Compaction ----

    private async Task RunCompactorAsync()
    {
        CancellationToken stopping = _stopping.Token;
        using var timer = new PeriodicTimer(_options.CompactionInterval);
        while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
        {
            if (_failure is not null)
            {
                continue;
            }

            try
            {
                await CompactAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Logged per segment; the next tick tries again.
            }
        }
    }

    /// <summary>Sealed segments under the live threshold, emptiest first, that no upload in progress uses.</summary>
    private List<Segment> PickVictims()
    {
        var live = new Dictionary<int, long>();
        var busy = new HashSet<int>();

        // The tail is read first: every segment below it is sealed, so no upload can add pending data to one of
        // them after the scan below (read after the scan, a segment sealed in between could hide new pending data).
        int tail = _tailId;
        lock (_indexLock)
        {
            // Each record once: a record split by a later overwrite backs two extents of its shard, not adjacent.
            var counted = new HashSet<RecordLocation>();
            foreach (CommittedShard shard in _committed.Values)
            {
                live[shard.CommitSegmentId] = live.GetValueOrDefault(shard.CommitSegmentId) + RecordHeader.Size;
                counted.Clear();
                foreach (Extent extent in shard.Extents)
                {
                    if (counted.Add(new RecordLocation(extent.SegmentId, extent.RecordOffset)))
                    {
                        live[extent.SegmentId] = live.GetValueOrDefault(extent.SegmentId) + RecordHeader.Size + extent.PayloadLength;
                    }
                }
            }

            foreach (ExtentMap map in _pending.Values)
            {
                foreach (Extent extent in map.ToArray())
                {
                    busy.Add(extent.SegmentId);
                }
            }

            foreach (WriteRequest commit in _committing)
            {
                // A commit whose record is not staged yet has the default location: segment 0 is then kept one
                // round longer, which is harmless.
                busy.Add(commit.CommitLocation.SegmentId);
                foreach (Extent extent in commit.CommittedExtents!)
                {
                    busy.Add(extent.SegmentId);
                }
            }
        }

        return [.. _segments.Values
            .Where(s => s.Id < tail && !busy.Contains(s.Id))
            .Select(s => (Segment: s, Fraction: s.UsedLength == 0 ? 0 : (double)live.GetValueOrDefault(s.Id) / s.UsedLength))
            .Where(c => c.Fraction < _options.CompactionLiveFraction)
            .OrderBy(c => c.Fraction)
            .Select(c => c.Segment)];
    }

    private async Task<bool> CompactSegmentAsync(Segment victim, CancellationToken cancellationToken)
    {
        try
        {
            // The live records: what the index uses, by shard; tombstones that still hide older records elsewhere.
            var liveByKey = new Dictionary<ShardKey, List<long>>();
            var locations = new HashSet<long>();
            lock (_indexLock)
            {
                foreach ((ShardKey key, CommittedShard shard) in _committed)
                {
                    // Each record once: a record split by a later overwrite backs two extents (a record belongs to
                    // one shard, so the set of all locations tells whether this shard has listed it already).
                    List<long>? offsets = null;
                    if (shard.CommitSegmentId == victim.Id && locations.Add(shard.CommitOffset))
                    {
                        (offsets ??= []).Add(shard.CommitOffset);
                    }

                    foreach (Extent extent in shard.Extents)
                    {
                        if (extent.SegmentId == victim.Id && locations.Add(extent.RecordOffset))
                        {
                            (offsets ??= []).Add(extent.RecordOffset);
                        }
                    }

                    if (offsets is not null)
                    {
                        liveByKey[key] = offsets;
                    }
                }
            }

            // A tombstone may go only when nothing older than it is left anywhere for it to hide: not in another
            // segment, and not among this segment's records about to be copied (with their old sequence numbers).
            // A delete still being synced has its shard in the index, so its records are copied, and then the
            // copies are dead, but on disk: without its tombstone, a replay without the checkpoint revives them.
            ulong olderThan = _segments.Values.Where(s => s.Id != victim.Id).Select(s => s.MinSequence).DefaultIfEmpty(ulong.MaxValue).Min();
            var tombstoneSequences = new List<(long Offset, ulong Sequence)>();
            long used = victim.UsedLength;
            using (var scanner = new SegmentScanner(victim.Handle, used))
            {
                for (long offset = 0; offset < used;)
                {
                    RecordDefect defect = scanner.TryReadRecord(offset, out RecordHeader header);
                    if (defect != RecordDefect.None)
                    {
                        throw new WalException($"Record at {offset} is unreadable ({defect}); the segment is kept.");
                    }

                    if (header.Type == RecordType.Tombstone)
                    {
                        tombstoneSequences.Add((offset, header.Sequence));
                    }
                    else if (locations.Contains(offset))
                    {
                        olderThan = Math.Min(olderThan, header.Sequence);
                    }

                    offset += header.RecordSize;
                }
            }

            List<long> tombstones = [.. tombstoneSequences.Where(t => t.Sequence > olderThan).Select(t => t.Offset)];

            int copied = 0;
            long liveBytes = 0;
            foreach ((ShardKey key, List<long> offsets) in liveByKey)
            {
                (int records, long bytes) = await CopyRecordsAsync(victim, key, offsets, cancellationToken).ConfigureAwait(false);
                copied += records;
                liveBytes += bytes;
            }

            if (tombstones.Count > 0)
            {
                (int records, long bytes) = await CopyRecordsAsync(victim, default, tombstones, cancellationToken).ConfigureAwait(false);
                copied += records;
                liveBytes += bytes;
            }

            // Only a durable checkpoint taken after the copies were published may stop pointing at the segment:
            // replay from an older one still needs it.
            await EnqueueAsync(WriteRequest.Rent(RequestKind.Checkpoint, default, 0, ReadOnlyMemory<byte>.Empty, CancellationToken.None), CancellationToken.None)
                .ConfigureAwait(false);
            lock (_indexLock)
            {
                foreach (CommittedShard shard in _committed.Values)
                {
                    if (shard.CommitSegmentId == victim.Id || shard.Extents.Any(e => e.SegmentId == victim.Id))
                    {
                        throw new UnreachableException($"Shard still uses segment {victim.FileName} after its compaction.");
                    }
                }
            }

            // Readers that fetched the shard before the copies were published retry when the segment is gone; the
            // handle closes once the last read in flight on it releases it.
            _segments.TryRemove(victim.Id, out _);
            File.Delete(victim.Path);
            victim.Dispose();
            DurableIo.SyncDirectory(_directory);
            WalLog.SegmentCompacted(_logger, victim.FileName, copied, liveBytes, used);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            WalLog.CompactionFailed(_logger, victim.FileName, ex);
            throw;
        }
    }

    /// <summary>Reads the records at <paramref name="offsets"/> of <paramref name="source"/>, checks them and has the writer copy them.</summary>
    private async Task<(int Records, long Bytes)> CopyRecordsAsync(Segment source, ShardKey key, List<long> offsets, CancellationToken cancellationToken)
    {
        const int MaxCopyBytes = 4 * 1024 * 1024;
        int records = 0;
        long bytes = 0;
        int next = 0;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxCopyBytes + RecordHeader.Size + RecordHeader.MaxPayloadLimit);
        try
        {
            while (next < offsets.Count)
            {
                int filled = 0;
                var batch = new List<long>();
                while (next < offsets.Count && filled < MaxCopyBytes)
                {
                    long offset = offsets[next++];
                    Memory<byte> header = buffer.AsMemory(filled, RecordHeader.Size);
                    await ReadExactlyAsync(source, header, offset, cancellationToken).ConfigureAwait(false);
                    if (RecordHeader.TryParse(header.Span, out RecordHeader parsed) != RecordDefect.None)
                    {
                        throw new WalException($"Record at {offset} of {source.FileName} has a bad header; the segment is kept.");
                    }

                    int size = (int)parsed.RecordSize;
                    await ReadExactlyAsync(source, buffer.AsMemory(filled + RecordHeader.Size, parsed.PayloadLength), offset + RecordHeader.Size, cancellationToken)
                        .ConfigureAwait(false);

                    // Never copy rot forward: a copy that fails its check would be served as good data's twin.
                    if (!RecordHeader.Verify(buffer.AsSpan(filled, size)))
                    {
                        throw new WalException($"Record at {offset} of {source.FileName} fails its checksum; the segment is kept.");
                    }

                    batch.Add(offset);
                    filled += size;
                }

                WriteRequest request = WriteRequest.Rent(RequestKind.Copy, key, source.Id, buffer.AsMemory(0, filled), CancellationToken.None);
                request.CopySourceOffsets = [.. batch];
                await EnqueueAsync(request, CancellationToken.None).ConfigureAwait(false);
                records += batch.Count;
                bytes += filled;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return (records, bytes);
    }

    private static async ValueTask ReadExactlyAsync(Segment segment, Memory<byte> destination, long offset, CancellationToken cancellationToken)
    {
        int read = 0;
        while (read < destination.Length)
        {
            int n = await RandomAccess.ReadAsync(segment.Handle, destination[read..], offset + read, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new WalException($"Segment {segment.FileName} ends before {offset + destination.Length}.");
            }

            read += n;
        }
    }
}

/// <summary>A read met a segment that compaction deleted after the read fetched the shard; it fetches it again.</summary>
internal sealed class SegmentGoneException : Exception
{
}
