using Microsoft.Extensions.Logging;
using Predastore.Transport;
using Predastore.Wal;

namespace Predastore.Ingest;

internal static partial class GatewayLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Operation} {Bucket}/{Key} -> {Status} {Bytes} bytes in {ElapsedMs:F1} ms")]
    public static partial void Request(ILogger logger, string operation, string? bucket, string? key, int status, long bytes, double elapsedMs);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "{Operation} {Bucket}/{Key} failed")]
    public static partial void RequestFailed(ILogger logger, string operation, string? bucket, string? key, Exception exception);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "could not delete shard {ShardKey} on node {NodeId}; it stays as unreferenced garbage")]
    public static partial void ShardDeleteFailed(ILogger logger, ShardKey shardKey, int nodeId, Exception exception);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "degraded read: object hash {ObjectHash} data id {DataId} block {Block} rebuilt with {Missing} shard(s) missing")]
    public static partial void DegradedRead(ILogger logger, string objectHash, Guid dataId, long block, int missing);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "shard {ShardKey} on node {NodeId} returned {Read} of {Wanted} bytes")]
    public static partial void ShardShort(ILogger logger, ShardKey shardKey, int nodeId, int wanted, int read);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "read of shard {ShardKey} on node {NodeId} failed ({Failure})")]
    public static partial void ShardReadFailed(ILogger logger, ShardKey shardKey, int nodeId, ShardFailure failure, Exception exception);

    [LoggerMessage(EventId = 14, Level = LogLevel.Debug, Message = "placed object hash {ObjectHash} data id {DataId} on nodes {Placement}")]
    public static partial void Placed(ILogger logger, string objectHash, Guid dataId, string placement);

    [LoggerMessage(EventId = 16, Level = LogLevel.Information, Message = "aborted multipart upload {UploadId} of {Bucket}/{Key}, left unfinished since {Initiated}")]
    public static partial void UploadAbandoned(ILogger logger, string bucket, string key, string uploadId, DateTimeOffset initiated);

    [LoggerMessage(EventId = 15, Level = LogLevel.Information, Message = "reclaimed {Count} replaced or deleted extent(s)")]
    public static partial void GarbageReclaimed(ILogger logger, int count);
}
