using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using System.Threading.Channels;
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

    // Readers look segments up without the index lock; the writer adds one on each roll.
    private readonly ConcurrentDictionary<int, Segment> _segments = new();

    private readonly Channel<WriteRequest> _queue;
    private readonly Thread _writer;
    private readonly TaskCompletionSource _writerExited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Writer-thread state: touched only by the writer thread once the constructor has returned.
    private readonly List<WriteRequest> _batch = new(QueueCapacity);
    private readonly List<ReadOnlyMemory<byte>> _gather = new(2 * MaxRecordsPerWrite);
    private readonly byte[] _headers = GC.AllocateUninitializedArray<byte>(MaxRecordsPerWrite * RecordHeader.Size, pinned: true);
    private readonly Crc32 _crc = new(Crc32ParameterSet.Crc32C);
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
        _tailLength = state.TailLength;
        _stagedOffset = state.TailLength;
        _nextSequence = state.NextSequence;
        _queue = Channel.CreateBounded<WriteRequest>(new BoundedChannelOptions(QueueCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
            AllowSynchronousContinuations = false,
        });

        // A dedicated thread, not a pool task: the writer blocks in write and fdatasync, and must not starve the
        // pool that runs the uploads feeding it.
        _writer = new Thread(RunWriter)
        {
            IsBackground = true,
            Name = "Predastore WAL writer",
        };
        _writer.Start();
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
        Directory.CreateDirectory(options.Directory);
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

        return EnqueueAsync(new WriteRequest(RecordType.Data, key, shardOffset, payload, cancellationToken), cancellationToken);
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
        return EnqueueAsync(new WriteRequest(RecordType.Commit, key, shardLength, ReadOnlyMemory<byte>.Empty, cancellationToken), cancellationToken);
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

        return EnqueueAsync(new WriteRequest(RecordType.Tombstone, key, 0, ReadOnlyMemory<byte>.Empty, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Forgets the uncommitted data of an abandoned upload (memory only: the records stay on disk, unreadable, and
    /// are discarded on the next open). Appends of the key still queued are not affected.
    /// </summary>
    public void Abandon(ShardKey key)
    {
        ExtentMap? map;
        lock (_indexLock)
        {
            _pending.Remove(key, out map);
        }

        if (map is not null)
        {
            WalLog.UploadAbandoned(_logger, key, map.Count);
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
    /// committed and <see cref="ShardCorruptException"/> when a record fails its check.
    /// </summary>
    public async ValueTask<int> ReadAsync(ShardKey key, long shardOffset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ArgumentOutOfRangeException.ThrowIfNegative(shardOffset);
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
        int done = 0;
        for (int index = shard.FindExtent(shardOffset); done < toRead; index++)
        {
            Extent extent = shard.Extents[index];
            int skip = (int)(shardOffset + done - extent.ShardOffset);
            int count = Math.Min(extent.Length - skip, toRead - done);
            await ReadExtentAsync(key, extent, extent.PayloadSkip + skip, destination.Slice(done, count), cancellationToken).ConfigureAwait(false);
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

    /// <summary>Stops accepting writes, lets the writer finish (and sync) everything queued, then closes the files.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _queue.Writer.TryComplete();
        }

        await _writerExited.Task.ConfigureAwait(false);

        // SafeHandle disposal is idempotent and waits out in-flight reads (they hold a reference to the handle).
        foreach (Segment segment in _segments.Values)
        {
            segment.Dispose();
        }

        _lockFile.Dispose();
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

    private async ValueTask EnqueueAsync(WriteRequest request, CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        if (!_queue.Writer.TryWrite(request))
        {
            try
            {
                await _queue.Writer.WriteAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                ThrowHelper.ThrowDisposed(this);
            }
        }

        // Once queued, the request is the writer's until it completes: the payload may be on its way to disk.
        await request.Completion.Task.ConfigureAwait(false);
    }

    private async ValueTask ReadExtentAsync(
        ShardKey key, Extent extent, int payloadOffset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (!_segments.TryGetValue(extent.SegmentId, out Segment? segment))
        {
            ReportCorruption(key, Segment.FileNameOf(extent.SegmentId), extent.RecordOffset, RecordDefect.ShortRead);
        }

        // The whole record, header included: the CRC covers both, and the header proves the record is the one
        // the index points at.
        int recordSize = RecordHeader.Size + extent.PayloadLength;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(recordSize);
        try
        {
            int read = 0;
            while (read < recordSize)
            {
                int n = await RandomAccess.ReadAsync(
                    segment.Handle, buffer.AsMemory(read, recordSize - read), extent.RecordOffset + read, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            RecordDefect defect = read < recordSize
                ? RecordDefect.ShortRead
                : VerifyRecord(buffer.AsSpan(0, recordSize), key, extent);
            if (defect != RecordDefect.None)
            {
                ReportCorruption(key, segment.FileName, extent.RecordOffset, defect);
            }

            buffer.AsSpan(RecordHeader.Size + payloadOffset, destination.Length).CopyTo(destination.Span);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static RecordDefect VerifyRecord(Span<byte> record, ShardKey key, Extent extent)
    {
        RecordDefect defect = RecordHeader.TryParse(record, out RecordHeader header);
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

        return RecordHeader.VerifyInPlace(record) ? RecordDefect.None : RecordDefect.ChecksumMismatch;
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
            ChannelReader<WriteRequest> reader = _queue.Reader;
            while (WaitForRequests(reader))
            {
                _batch.Clear();
                while (_batch.Count < QueueCapacity && reader.TryRead(out WriteRequest? request))
                {
                    _batch.Add(request);
                }

                ProcessBatch(_batch);
            }

            _batch.Clear();
            _writerExited.TrySetResult();
        }
        catch (Exception ex)
        {
            // Not reached in practice (ProcessBatch contains its failures); surfaces through DisposeAsync if it is.
            _writerExited.TrySetException(ex);
        }
    }

    private static bool WaitForRequests(ChannelReader<WriteRequest> reader)
    {
        // The writer owns this thread, so blocking here is the point: it sleeps until there is work.
        ValueTask<bool> wait = reader.WaitToReadAsync();
        return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
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
            }
        }

        if (failure is null)
        {
            Publish(batch);
        }

        // In queue order, and only now: every record of the batch is durable (or the batch failed).
        foreach (WriteRequest request in batch)
        {
            if (request.Rejection is { } rejection)
            {
                request.Completion.TrySetException(rejection);
            }
            else if (request.Skipped)
            {
                request.Completion.TrySetCanceled(request.CancellationToken);
            }
            else if (failure is not null)
            {
                request.Completion.TrySetException(ThrowHelper.CreateWalFailed(failure));
            }
            else
            {
                request.Completion.TrySetResult();
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

        switch (request.Type)
        {
            case RecordType.Data:
                StageData(request);
                break;
            case RecordType.Commit:
                StageCommit(request);
                break;
            case RecordType.Tombstone:
                lock (_indexLock)
                {
                    _pending.Remove(request.Key);
                }

                StageRecord(RecordType.Tombstone, request.Key, 0, ReadOnlyMemory<byte>.Empty);
                break;
        }
    }

    private void StageData(WriteRequest request)
    {
        ReadOnlyMemory<byte> remaining = request.Payload;
        long shardOffset = request.Value;
        while (!remaining.IsEmpty)
        {
            int length = Math.Min(remaining.Length, _options.MaxRecordPayload);
            (int segmentId, long recordOffset) = StageRecord(RecordType.Data, request.Key, shardOffset, remaining[..length]);
            lock (_indexLock)
            {
                if (!_pending.TryGetValue(request.Key, out ExtentMap? map))
                {
                    map = new ExtentMap();
                    _pending.Add(request.Key, map);
                }

                map.Insert(new Extent(shardOffset, length, segmentId, recordOffset, length, 0));
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
        lock (_indexLock)
        {
            _pending.TryGetValue(request.Key, out ExtentMap? map);
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
        }

        StageRecord(RecordType.Commit, request.Key, shardLength, ReadOnlyMemory<byte>.Empty);
        request.CommittedExtents = extents;
    }

    /// <summary>Adds one record to the pending gather write, rolling to a new segment first if it does not fit.</summary>
    private (int SegmentId, long RecordOffset) StageRecord(RecordType type, ShardKey key, long value, ReadOnlyMemory<byte> payload)
    {
        long recordSize = RecordHeader.Size + (long)payload.Length;

        // Invariant 4: the limit counts the header too, and a record never straddles two segments.
        if (_tailLength + recordSize > _options.SegmentSize)
        {
            RollSegment();
        }

        if (_stagedRecords == MaxRecordsPerWrite)
        {
            FlushStaged();
        }

        Memory<byte> header = _headers.AsMemory(_stagedRecords * RecordHeader.Size, RecordHeader.Size);
        new RecordHeader(type, key, value, payload.Length, _nextSequence++).WriteTo(header.Span);
        _crc.Reset();
        _crc.Append(header.Span);
        _crc.Append(payload.Span);
        RecordHeader.WriteCrc(header.Span, _crc.GetCurrentHashAsUInt32());

        // Header and payload go out in the same gather write, back to back; the payload is not copied.
        _gather.Add(header);
        if (!payload.IsEmpty)
        {
            _gather.Add(payload);
        }

        _stagedRecords++;
        long recordOffset = _tailLength;
        _tailLength += recordSize;
        _tailDirty = true;
        WalInvariants.CheckSegmentLength(_tailLength, _options.SegmentSize);
        return (_tail.Id, recordOffset);
    }

    private void FlushStaged()
    {
        if (_gather.Count > 0)
        {
            FaultInjector?.Invoke(WalFaultPoint.Write);
            RandomAccess.Write(_tail.Handle, _gather, _stagedOffset);
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
        _segments[next.Id] = next;
        DurableIo.SyncDirectory(_directory);
        _tail = next;
        _tailLength = 0;
        _stagedOffset = 0;
        WalLog.SegmentCreated(_logger, next.FileName);
    }

    private void Publish(List<WriteRequest> batch)
    {
        lock (_indexLock)
        {
            foreach (WriteRequest request in batch)
            {
                if (request.Skipped || request.Rejection is not null)
                {
                    continue;
                }

                if (request.Type == RecordType.Commit)
                {
                    _committed[request.Key] = new CommittedShard(request.Value, request.CommittedExtents ?? []);
                }
                else if (request.Type == RecordType.Tombstone)
                {
                    _committed.Remove(request.Key);
                }
            }
        }

        if (_logger.IsEnabled(LogLevel.Debug))
        {
            foreach (WriteRequest request in batch)
            {
                if (request.Skipped || request.Rejection is not null)
                {
                    continue;
                }

                if (request.Type == RecordType.Commit)
                {
                    WalLog.ShardCommitted(_logger, request.Key, request.Value, request.CommittedExtents?.Length ?? 0);
                }
                else if (request.Type == RecordType.Tombstone)
                {
                    WalLog.ShardDeleted(_logger, request.Key);
                }
            }
        }
    }
}
