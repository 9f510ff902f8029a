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

    [LoggerMessage(EventId = 110, Level = LogLevel.Warning, Message = "node {NodeId} refused a connection from {Remote}: {Reason}")]
    public static partial void PeerRefused(ILogger logger, int nodeId, string? remote, string reason);

    [LoggerMessage(EventId = 111, Level = LogLevel.Debug, Message = "node {NodeId} dropped the connection from {Remote}: {Reason}")]
    public static partial void ConnectionDropped(ILogger logger, int nodeId, string? remote, string reason);

    [LoggerMessage(EventId = 112, Level = LogLevel.Warning, Message = "node {NodeId} could not accept a connection")]
    public static partial void AcceptFailed(ILogger logger, int nodeId, Exception exception);

    [LoggerMessage(EventId = 113, Level = LogLevel.Warning, Message = "request for shard {ShardKey} failed")]
    public static partial void RequestFailed(ILogger logger, Wal.ShardKey shardKey, Exception exception);

    [LoggerMessage(EventId = 120, Level = LogLevel.Warning, Message = "node {NodeId} marked down after {Failures} consecutive failures: {Reason}")]
    public static partial void NodeDown(ILogger logger, int nodeId, int failures, string reason);

    [LoggerMessage(EventId = 121, Level = LogLevel.Information, Message = "node {NodeId} answered a probe and is back up")]
    public static partial void NodeUp(ILogger logger, int nodeId);
}
