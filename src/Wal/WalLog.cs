using Microsoft.Extensions.Logging;

namespace Predastore.Wal;

/// <summary>The WAL's log events. Event ids are fixed: operators alert on them.</summary>
internal static partial class WalLog
{
    [LoggerMessage(EventId = 1, EventName = "WalOpened", Level = LogLevel.Information,
        Message = "WAL opened in {Directory}: {SegmentCount} segments, {RecordCount} records replayed, {ShardCount} committed shards, writing to segment {TailSegment} at {TailLength} ({ElapsedMs} ms)")]
    public static partial void Opened(
        ILogger logger, string directory, int segmentCount, long recordCount, int shardCount, string tailSegment, long tailLength, long elapsedMs);

    [LoggerMessage(EventId = 2, EventName = "TornTailTruncated", Level = LogLevel.Warning,
        Message = "Segment {Segment}: record at {Offset} is not whole ({Defect}); truncated the segment there, dropping {DroppedBytes} bytes that were never acknowledged")]
    public static partial void TornTailTruncated(ILogger logger, string segment, long offset, RecordDefect defect, long droppedBytes);

    [LoggerMessage(EventId = 3, EventName = "SegmentRestSkipped", Level = LogLevel.Error,
        Message = "Segment {Segment} is corrupt at {Offset} ({Defect}) though later segments exist; skipped its last {SkippedBytes} bytes (left on disk)")]
    public static partial void SegmentRestSkipped(ILogger logger, string segment, long offset, RecordDefect defect, long skippedBytes);

    [LoggerMessage(EventId = 4, EventName = "UncommittedShardsDiscarded", Level = LogLevel.Information,
        Message = "Discarded the data of {ShardCount} uncommitted shards ({ExtentCount} extents)")]
    public static partial void UncommittedShardsDiscarded(ILogger logger, int shardCount, long extentCount);

    [LoggerMessage(EventId = 5, EventName = "UncommittedShardDiscarded", Level = LogLevel.Debug,
        Message = "Discarded uncommitted shard {Key} ({ExtentCount} extents)")]
    public static partial void UncommittedShardDiscarded(ILogger logger, ShardKey key, int extentCount);

    [LoggerMessage(EventId = 6, EventName = "RecoveredCommitNotCovered", Level = LogLevel.Error,
        Message = "Commit of shard {Key} ({Length} bytes) in segment {Segment} at {Offset} is not covered by the data that survived (only [0, {CoveredPrefix})); the shard is dropped")]
    public static partial void RecoveredCommitNotCovered(ILogger logger, ShardKey key, long length, string segment, long offset, long coveredPrefix);

    [LoggerMessage(EventId = 7, EventName = "ReadCorruption", Level = LogLevel.Error,
        Message = "Shard {Key}: record at {Offset} in segment {Segment} is corrupt ({Defect})")]
    public static partial void ReadCorruption(ILogger logger, ShardKey key, string segment, long offset, RecordDefect defect);

    [LoggerMessage(EventId = 8, EventName = "WriterFailed", Level = LogLevel.Critical,
        Message = "WAL write or sync failed; every later write fails until the WAL is reopened")]
    public static partial void WriterFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 9, EventName = "SegmentCreated", Level = LogLevel.Debug,
        Message = "Created segment {Segment}")]
    public static partial void SegmentCreated(ILogger logger, string segment);

    [LoggerMessage(EventId = 10, EventName = "ShardCommitted", Level = LogLevel.Debug,
        Message = "Committed shard {Key}: {Length} bytes in {ExtentCount} extents")]
    public static partial void ShardCommitted(ILogger logger, ShardKey key, long length, int extentCount);

    [LoggerMessage(EventId = 11, EventName = "ShardDeleted", Level = LogLevel.Debug,
        Message = "Deleted shard {Key}")]
    public static partial void ShardDeleted(ILogger logger, ShardKey key);

    [LoggerMessage(EventId = 12, EventName = "CommitRejected", Level = LogLevel.Debug,
        Message = "Rejected commit of shard {Key} with {Length} bytes: appended data covers only [0, {CoveredPrefix})")]
    public static partial void CommitRejected(ILogger logger, ShardKey key, long length, long coveredPrefix);

    [LoggerMessage(EventId = 13, EventName = "UploadAbandoned", Level = LogLevel.Debug,
        Message = "Abandoned the pending data of shard {Key} ({ExtentCount} extents)")]
    public static partial void UploadAbandoned(ILogger logger, ShardKey key, int extentCount);

    [LoggerMessage(EventId = 14, EventName = "CheckpointLoaded", Level = LogLevel.Information,
        Message = "Loaded the index checkpoint: {ShardCount} committed shards; replaying from segment {Segment} at {Offset}")]
    public static partial void CheckpointLoaded(ILogger logger, int shardCount, string segment, long offset);

    [LoggerMessage(EventId = 15, EventName = "CheckpointUnusable", Level = LogLevel.Warning,
        Message = "The index checkpoint is not usable ({Problem}); rebuilding the index from every segment")]
    public static partial void CheckpointUnusable(ILogger logger, string problem);

    [LoggerMessage(EventId = 16, EventName = "CheckpointWritten", Level = LogLevel.Debug,
        Message = "Wrote the index checkpoint: {ShardCount} committed shards, {Bytes} bytes, position segment {Segment} at {Offset}")]
    public static partial void CheckpointWritten(ILogger logger, int shardCount, long bytes, string segment, long offset);

    [LoggerMessage(EventId = 17, EventName = "CheckpointFailed", Level = LogLevel.Error,
        Message = "Writing the index checkpoint failed; the next open replays more of the log")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 18, EventName = "PreallocationFailed", Level = LogLevel.Warning,
        Message = "Could not reserve the space of segment {Segment}; writing without a reservation")]
    public static partial void PreallocationFailed(ILogger logger, string segment, Exception exception);

    [LoggerMessage(EventId = 19, EventName = "SegmentCompacted", Level = LogLevel.Information,
        Message = "Compacted segment {Segment}: copied {LiveRecords} live records ({LiveBytes} of {UsedBytes} bytes) to the tail and deleted it")]
    public static partial void SegmentCompacted(ILogger logger, string segment, int liveRecords, long liveBytes, long usedBytes);

    [LoggerMessage(EventId = 20, EventName = "CompactionFailed", Level = LogLevel.Error,
        Message = "Compaction of segment {Segment} failed; it stays as it is")]
    public static partial void CompactionFailed(ILogger logger, string segment, Exception exception);
}
