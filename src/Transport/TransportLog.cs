using Microsoft.Extensions.Logging;
using Predastore.Wal;

namespace Predastore.Transport;

/// <summary>
/// Shard operations at Debug name the object hash, data id and shard index (the shard key) and the node: the
/// fields the field report tracked its bugs down with.
/// </summary>
internal static partial class TransportLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Debug, Message = "write shard {ShardKey} on node {NodeId} at {ShardOffset} ({Length} bytes)")]
    public static partial void ShardWrite(ILogger logger, ShardKey shardKey, int nodeId, long shardOffset, int length);

    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "commit shard {ShardKey} on node {NodeId}, {Length} bytes")]
    public static partial void ShardCommit(ILogger logger, ShardKey shardKey, int nodeId, long length);

    [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "abandon shard {ShardKey} on node {NodeId}")]
    public static partial void ShardAbandon(ILogger logger, ShardKey shardKey, int nodeId);

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "read shard {ShardKey} on node {NodeId} at {ShardOffset} ({Length} bytes)")]
    public static partial void ShardRead(ILogger logger, ShardKey shardKey, int nodeId, long shardOffset, int length);

    [LoggerMessage(EventId = 104, Level = LogLevel.Debug, Message = "delete shard {ShardKey} on node {NodeId}")]
    public static partial void ShardDelete(ILogger logger, ShardKey shardKey, int nodeId);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "shard {ShardKey} on node {NodeId} failed its checksum")]
    public static partial void ShardCorrupt(ILogger logger, ShardKey shardKey, int nodeId);
}
