namespace Predastore.Transport.Protocol;

/// <summary>
/// The first field of every frame. Requests go gateway → node; every request is answered by exactly one
/// <see cref="Response"/> frame on the same stream (one request in flight per connection or stream).
/// </summary>
public enum NodeOpcode : uint
{
    /// <summary>Cells of a shard at an offset; answered once they are durable (put-shard is a stream of these).</summary>
    Write = 1,

    /// <summary>Makes a shard readable with the length in the header.</summary>
    Commit = 2,

    /// <summary>Forgets the uncommitted writes of a shard.</summary>
    Abandon = 3,

    /// <summary>Reads a range of a committed shard; the response body carries the bytes.</summary>
    Read = 4,

    Delete = 5,

    /// <summary>Committed length of a shard, or -1.</summary>
    Stat = 6,

    /// <summary>Every committed shard key (scrub/repair); the body is the keys back to back.</summary>
    List = 7,

    Response = 0x100,
}

/// <summary>The outcome a response frame carries; maps one to one onto <see cref="ShardFailure"/>.</summary>
public enum NodeStatus : uint
{
    Ok = 0,
    NotFound = 1,
    Corrupt = 2,
    InsufficientStorage = 3,
    Unavailable = 4,
    BadRequest = 5,
}
