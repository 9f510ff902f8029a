using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Predastore.Wal;

/// <summary>One append-only segment file, <c>NNNNNNNN.seg</c>; ids grow, and replay goes in id order.</summary>
internal sealed class Segment : IDisposable
{
    private const string Extension = ".seg";

    private long _usedLength;
    private ulong _minSequence = ulong.MaxValue;

    private Segment(int id, string path, SafeFileHandle handle)
    {
        Id = id;
        Path = path;
        Handle = handle;
    }

    public int Id { get; }

    public string Path { get; }

    /// <summary>Shared by the writer (positioned writes at the tail) and readers (positioned reads): no file position.</summary>
    public SafeFileHandle Handle { get; }

    public string FileName => System.IO.Path.GetFileName(Path);

    /// <summary>
    /// The end of the last record: the writer's tail for the segment being written, fixed once the segment is
    /// sealed. With preallocation the file is longer, and everything past this offset is zeros.
    /// </summary>
    public long UsedLength
    {
        get => Volatile.Read(ref _usedLength);
        set => Volatile.Write(ref _usedLength, value);
    }

    /// <summary>
    /// The lowest record sequence number in the segment (<see cref="ulong.MaxValue"/> when empty). Compaction copies
    /// records verbatim, old sequence numbers included, so a segment can hold records older than its id suggests;
    /// a tombstone may only be dropped when no other segment holds anything older.
    /// </summary>
    public ulong MinSequence => Volatile.Read(ref _minSequence);

    public void NoteSequence(ulong sequence)
    {
        if (sequence < _minSequence)
        {
            Volatile.Write(ref _minSequence, sequence);
        }
    }

    /// <summary>
    /// Reserves the segment's space on disk up to <paramref name="size"/> bytes (fallocate), so appends never meet
    /// a full disk halfway through a record and the file's blocks stay contiguous. False where unsupported.
    /// </summary>
    public bool Preallocate(long size)
    {
        long used = UsedLength;
        return size <= used || DurableIo.TryAllocate(Handle, used, size - used);
    }

    /// <summary>
    /// Cuts the file at <see cref="UsedLength"/> (dropping a torn tail and anything after it) and reserves the rest
    /// again, so every byte past the last record reads as zeros: recovery stops at the first zero header, and a stale
    /// record beyond a torn one can never be mistaken for a new one later.
    /// </summary>
    public void ResetTail(long size)
    {
        RandomAccess.SetLength(Handle, UsedLength);
        Preallocate(size);
        FlushData();
    }

    public static string FileNameOf(int id) => id.ToString("D8", CultureInfo.InvariantCulture) + Extension;

    public static bool TryParseId(string fileName, out int id)
    {
        id = 0;
        return fileName.Length == 8 + Extension.Length
            && fileName.EndsWith(Extension, StringComparison.Ordinal)
            && int.TryParse(fileName.AsSpan(0, 8), NumberStyles.None, CultureInfo.InvariantCulture, out id)
            && id > 0;
    }

    public static Segment OpenExisting(string directory, int id) => Open(directory, id, FileMode.Open);

    /// <summary>Creates the file; fails if it exists, since a segment is never written twice.</summary>
    public static Segment CreateNew(string directory, int id) => Open(directory, id, FileMode.CreateNew);

    public void FlushData() => DurableIo.FlushData(Handle);

    public void Dispose() => Handle.Dispose();

    private static Segment Open(string directory, int id, FileMode mode)
    {
        string path = System.IO.Path.Combine(directory, FileNameOf(id));

        // Others may read (backup, inspection); the wal.lock file, not this share mode, keeps a second writer out.
        SafeFileHandle handle = File.OpenHandle(path, mode, FileAccess.ReadWrite, FileShare.Read);
        return new Segment(id, path, handle);
    }
}
