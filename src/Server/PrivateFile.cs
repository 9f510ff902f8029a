namespace Predastore.Server;

/// <summary>Files only the owner may read: credentials and private keys.</summary>
internal static class PrivateFile
{
    /// <summary>Creates <paramref name="path"/> (it must not exist) with mode 0600 and writes <paramref name="content"/> durably.</summary>
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var file = new FileStream(path, options);
        file.Write(content);
        file.Flush(flushToDisk: true);
    }
}
