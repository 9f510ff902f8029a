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
}
