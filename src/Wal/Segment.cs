using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Predastore.Wal;

/// <summary>One append-only segment file, <c>NNNNNNNN.seg</c>; ids grow, and replay goes in id order.</summary>
internal sealed class Segment : IDisposable
{
    private const string Extension = ".seg";

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
