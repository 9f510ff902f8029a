using System.Threading.Tasks.Sources;

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
/// One queued append, commit, delete, compaction copy or checkpoint, and the awaitable its caller gets back. The
/// caller owns <see cref="Payload"/> until the request completes; the writer reads it in place (no copy) and never
/// holds it after that.
/// </summary>
/// <remarks>
/// Pooled, so an append allocates nothing in steady state: the request is its own <see cref="IValueTaskSource"/>,
/// and returns to the pool when its caller has read the result (a ValueTask is awaited exactly once).
/// </remarks>
internal sealed class WriteRequest : IValueTaskSource
{
    private const int MaxPooled = 2048;
    private static readonly Stack<WriteRequest> s_pool = new();

    // RunContinuationsAsynchronously: caller code must never run on the writer thread. An awaiting async method's
    // continuation is queued as its own state machine box, without allocating.
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };

    private WriteRequest()
    {
    }

    public RequestKind Kind { get; private set; }

    public ShardKey Key { get; private set; }

    /// <summary>Append: offset within the shard; Commit: shard length; Copy: the source segment id; otherwise 0.</summary>
    public long Value { get; private set; }

    /// <summary>Append: the payload; Copy: whole records, back to back, exactly as they were in the source segment.</summary>
    public ReadOnlyMemory<byte> Payload { get; private set; }

    public CancellationToken CancellationToken { get; private set; }

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
    public long[]? CopySourceOffsets { get; set; }

    /// <summary>For a copy: source record offset → where the writer put the copy.</summary>
    public Dictionary<long, RecordLocation>? CopyTargets { get; set; }

    /// <summary>What the caller awaits; valid until it has been awaited once.</summary>
    public ValueTask Task => new(this, _core.Version);

    public static WriteRequest Rent(RequestKind kind, ShardKey key, long value, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        WriteRequest? request = null;
        lock (s_pool)
        {
            s_pool.TryPop(out request);
        }

        request ??= new WriteRequest();
        request.Kind = kind;
        request.Key = key;
        request.Value = value;
        request.Payload = payload;
        request.CancellationToken = cancellationToken;
        return request;
    }

    public void SetResult() => _core.SetResult(true);

    public void SetException(Exception exception) => _core.SetException(exception);

    public void SetCanceled() => _core.SetException(new OperationCanceledException(CancellationToken));

    /// <summary>Returns a request that was never handed to the writer.</summary>
    public void ReturnUnused()
    {
        Clear();
        _core.Reset();
        Return(this);
    }

    void IValueTaskSource.GetResult(short token)
    {
        try
        {
            _core.GetResult(token);
        }
        finally
        {
            Clear();
            _core.Reset();
            Return(this);
        }
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private static void Return(WriteRequest request)
    {
        lock (s_pool)
        {
            if (s_pool.Count < MaxPooled)
            {
                s_pool.Push(request);
            }
        }
    }

    private void Clear()
    {
        // Drop every reference: a pooled request must not keep a caller's buffer or a shard's extents alive.
        Payload = default;
        CancellationToken = default;
        Skipped = false;
        Rejection = null;
        CommittedExtents = null;
        CommitLocation = default;
        CopySourceOffsets = null;
        CopyTargets = null;
    }
}

/// <summary>Where the writer calls the test fault hook.</summary>
internal enum WalFaultPoint
{
    /// <summary>Before a positioned (gather) write of staged records.</summary>
    Write,

    /// <summary>Before the fdatasync of a segment.</summary>
    Sync,
}
