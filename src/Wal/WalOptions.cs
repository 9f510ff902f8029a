namespace Predastore.Wal;

/// <summary>Settings of one write-ahead log (one storage node data directory).</summary>
public sealed class WalOptions
{
    /// <summary>The data directory; created when missing. One <see cref="WriteAheadLog"/> owns it at a time.</summary>
    public required string Directory { get; init; }

    /// <summary>
    /// The most bytes a segment file may hold, record headers included (invariant 4: the field report's WAL rejected
    /// writes because it compared a data-only limit with a file that also holds headers).
    /// </summary>
    public long SegmentSize { get; init; } = 256L * 1024 * 1024;

    /// <summary>
    /// Reserve each segment's <see cref="SegmentSize"/> on disk when it is created (fallocate): a full disk shows
    /// when a segment is opened, never in the middle of a record, and the file's blocks stay contiguous.
    /// </summary>
    public bool PreallocateSegments { get; init; } = true;

    /// <summary>
    /// Bytes written between periodic checkpoints of the index (also taken on clean close). The interval grows to
    /// eight times the last checkpoint's size, so a large index is not rewritten more often than it is worth.
    /// </summary>
    public long CheckpointInterval { get; init; } = 1024L * 1024 * 1024;

    /// <summary>A sealed segment whose live records fill less than this fraction of it is compacted.</summary>
    public double CompactionLiveFraction { get; init; } = 0.5;

    /// <summary>How often the background compactor looks for mostly-dead segments; zero or negative disables it.</summary>
    public TimeSpan CompactionInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The checksum granularity: an append is cut into records of at most this many payload bytes, so a short
    /// range read verifies (and reads) only the records it touches.
    /// </summary>
    public int MaxRecordPayload { get; init; } = 64 * 1024;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory))
        {
            throw new ArgumentException("The WAL needs a data directory.", nameof(Directory));
        }

        if (MaxRecordPayload < 1 || MaxRecordPayload > RecordHeader.MaxPayloadLimit)
        {
            throw new ArgumentOutOfRangeException(
                nameof(MaxRecordPayload), MaxRecordPayload, $"A record payload is 1 to {RecordHeader.MaxPayloadLimit} bytes.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(CheckpointInterval);
        if (CompactionLiveFraction is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(CompactionLiveFraction), CompactionLiveFraction, "A fraction is 0 to 1.");
        }

        // A record never straddles two segments, so the largest record must fit in an empty one.
        if (SegmentSize < RecordHeader.Size + (long)MaxRecordPayload)
        {
            throw new ArgumentOutOfRangeException(
                nameof(SegmentSize),
                SegmentSize,
                $"A segment must hold at least one record of MaxRecordPayload bytes plus its {RecordHeader.Size}-byte header.");
        }
    }
}
