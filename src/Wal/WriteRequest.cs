namespace Predastore.Wal;

/// <summary>
/// One queued append, commit or delete. The caller owns <see cref="Payload"/> until <see cref="Completion"/>
/// completes; the writer reads it in place (no copy) and never holds it after that.
/// </summary>
internal sealed class WriteRequest
{
    public WriteRequest(RecordType type, ShardKey key, long value, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        Type = type;
        Key = key;
        Value = value;
        Payload = payload;
        CancellationToken = cancellationToken;
    }

    public RecordType Type { get; }

    public ShardKey Key { get; }

    /// <summary>Data: offset within the shard; Commit: shard length; Tombstone: 0.</summary>
    public long Value { get; }

    public ReadOnlyMemory<byte> Payload { get; }

    public CancellationToken CancellationToken { get; }

    // RunContinuationsAsynchronously: caller code must never run on the writer thread.
    public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Set by the writer while it stages the batch; read when it completes the batch.

    /// <summary>The request was canceled before the writer touched it; nothing was written.</summary>
    public bool Skipped { get; set; }

    /// <summary>The request was refused without writing anything (a commit that its data does not cover).</summary>
    public Exception? Rejection { get; set; }

    /// <summary>For a commit: the extents that become the shard once the commit record is durable.</summary>
    public Extent[]? CommittedExtents { get; set; }
}

/// <summary>Where the writer calls the test fault hook.</summary>
internal enum WalFaultPoint
{
    /// <summary>Before a positioned (gather) write of staged records.</summary>
    Write,

    /// <summary>Before the fdatasync of a segment.</summary>
    Sync,
}
