using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Predastore.Wal;

/// <summary>The calls that make written bytes and created files survive a power cut.</summary>
internal static partial class DurableIo
{
    /// <summary>errno of a full disk; ShardServer maps it to InsufficientStorage.</summary>
    public const int Enospc = 28;

    private const int Eintr = 4;
    private const int Enosys = 38;
    private const int Eopnotsupp = 95;

    private static bool s_useFallocate = OperatingSystem.IsLinux();

    // fdatasync skips the inode timestamp flush that fsync (RandomAccess.FlushToDisk) pays for; file size
    // changes are still flushed, which is what an append needs. Cleared once if libc lacks it.
    private static bool s_useFdatasync = OperatingSystem.IsLinux();

    /// <summary>Flushes the file's data (and the size, when it grew) to stable storage.</summary>
    public static void FlushData(SafeFileHandle handle)
    {
        if (s_useFdatasync)
        {
            try
            {
                while (fdatasync(handle) != 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno != Eintr)
                    {
                        throw CreateIoException("fdatasync", errno);
                    }
                }

                return;
            }
            catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
            {
                s_useFdatasync = false;
            }
        }

        RandomAccess.FlushToDisk(handle);
    }

    /// <summary>
    /// Makes a newly created segment's directory entry durable; without it a crash can lose a whole segment whose
    /// data was synced. Linux only: elsewhere a directory cannot be opened this way, and there is nothing to do.
    /// </summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        int fd = open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Cannot open directory {directory} to sync it: {Marshal.GetPInvokeErrorMessage(errno)}.", errno);
        }

        try
        {
            if (fsync(fd) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new IOException($"fsync of directory {directory} failed: {Marshal.GetPInvokeErrorMessage(errno)}.", errno);
            }
        }
        finally
        {
            _ = close(fd);
        }
    }

    /// <summary>
    /// Reserves [<paramref name="offset"/>, +<paramref name="length"/>) of the file on disk (fallocate mode 0: the
    /// size grows to cover it, the new range reads as zeros). Returns false where the file system or platform
    /// cannot preallocate; throws an <see cref="IOException"/> carrying the errno in HResult otherwise
    /// (ENOSPC, 28, when the disk is full), so the caller sees a full disk before it writes a byte.
    /// </summary>
    public static bool TryAllocate(SafeFileHandle handle, long offset, long length)
    {
        if (!s_useFallocate)
        {
            return false;
        }

        try
        {
            while (fallocate(handle, 0, offset, length) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Eintr)
                {
                    continue;
                }

                if (errno is Eopnotsupp or Enosys)
                {
                    return false;
                }

                throw CreateIoException("fallocate", errno);
            }

            return true;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            s_useFallocate = false;
            return false;
        }
    }

    /// <summary>The errno as HResult, as .NET does for its own Unix I/O errors (ENOSPC is 28).</summary>
    public static IOException CreateIoException(string call, int errno) =>
        new($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static partial int fallocate(SafeFileHandle fd, int mode, long offset, long length);

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int fdatasync(SafeFileHandle fd);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int close(int fd);
}
