namespace Predastore.Wal;

/// <summary>The kinds of record in a segment. The values are on disk: never renumber.</summary>
internal enum RecordType : byte
{
    /// <summary>Payload bytes of a shard at an offset within the shard. Not readable until a commit covers it.</summary>
    Data = 1,

    /// <summary>The shard is complete with the length carried in the header; it replaces an earlier commit.</summary>
    Commit = 2,

    /// <summary>The shard is deleted, with any data appended for it before this record.</summary>
    Tombstone = 3,
}

/// <summary>Why a record was not accepted; logged by recovery and reported by reads.</summary>
internal enum RecordDefect
{
    None,
    ShortRead,
    BadMagic,
    BadVersion,
    BadType,
    ImpossibleLength,
    ImpossibleValue,
    ChecksumMismatch,
    Misplaced,

    /// <summary>Only zeros (or nothing) follow: the clean end of the records in a segment.</summary>
    EndOfData,
}
