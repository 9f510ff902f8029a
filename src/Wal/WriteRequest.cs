namespace Predastore.Wal;

/// <summary>What a queued request asks the writer to do.</summary>
internal enum RequestKind
{
    Append,
    Commit,
    Delete,

    /// <summary>Compaction: write records of a sealed segment verbatim to the tail and repoint the index at them.</summary>
    Copy,

    /// <summary>Take a checkpoint of the index once everything queued before it is durable.</summary>
    Checkpoint,
}

/// <summary>
/// One queued append, commit, delete, compaction copy or checkpoint. The caller owns <see cref="Payload"/> until
/// <see cref="Completion"/> completes; the writer reads it in place (no copy) and never holds it after that.
/// </summary>
internal sealed class WriteRequest
{
    public WriteRequest(RequestKind kind, ShardKey key, long value, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        Kind = kind;
        Key = key;
        Value = value;
        Payload = payload;
        CancellationToken = cancellationToken;
    }

    public RequestKind Kind { get; }

    public ShardKey Key { get; }

    /// <summary>Append: offset within the shard; Commit: shard length; Copy: the source segment id; otherwise 0.</summary>
    public long Value { get; }

    /// <summary>Append: the payload; Copy: whole records, back to back, exactly as they were in the source segment.</summary>
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

    /// <summary>For a commit: where its record went.</summary>
    public RecordLocation CommitLocation { get; set; }

    /// <summary>For a copy: the source offset of each record in <see cref="Payload"/>, in order.</summary>
    public long[]? CopySourceOffsets { get; init; }

    /// <summary>For a copy: source record offset → where the writer put the copy.</summary>
    public Dictionary<long, RecordLocation>? CopyTargets { get; set; }
}

/// <summary>Where the writer calls the test fault hook.</summary>
internal enum WalFaultPoint
{
    /// <summary>Before a positioned (gather) write of staged records.</summary>
    Write,

    /// <summary>Before the fdatasync of a segment.</summary>
    Sync,
}
