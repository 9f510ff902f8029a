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
    public long SegmentSize { get; init; } = 64L * 1024 * 1024;

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
