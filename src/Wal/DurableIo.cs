using System.Buffers;
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

    /// <summary>
    /// Writes <paramref name="buffers"/> back to back at <paramref name="offset"/> with pwritev (one syscall for a
    /// whole batch), pinning through the caller's <paramref name="pins"/> and <paramref name="vectors"/> so that a
    /// write allocates nothing (RandomAccess.Write allocates its pin array per call). Throws an
    /// <see cref="IOException"/> with the errno in HResult (ENOSPC: 28).
    /// </summary>
    public static unsafe void WriteGather(SafeFileHandle handle, List<ReadOnlyMemory<byte>> buffers, long offset, MemoryHandle[] pins, IoVector[] vectors)
    {
        if (!OperatingSystem.IsLinux())
        {
            RandomAccess.Write(handle, buffers, offset);
            return;
        }

        int count = buffers.Count;
        try
        {
            for (int i = 0; i < count; i++)
            {
                pins[i] = buffers[i].Pin();
                vectors[i] = new IoVector((byte*)pins[i].Pointer, (nuint)buffers[i].Length);
            }

            fixed (IoVector* first = vectors)
            {
                int next = 0;
                while (next < count)
                {
                    nint written = pwritev(handle, first + next, Math.Min(count - next, 1024), offset);
                    if (written < 0)
                    {
                        int errno = Marshal.GetLastPInvokeError();
                        if (errno == Eintr)
                        {
                            continue;
                        }

                        throw CreateIoException("pwritev", errno);
                    }

                    if (written == 0)
                    {
                        throw CreateIoException("pwritev", Enospc);
                    }

                    // A short write (signal, quota, nearly full disk): skip what went out and go on.
                    offset += written;
                    while (next < count && written >= (nint)vectors[next].Length)
                    {
                        written -= (nint)vectors[next].Length;
                        next++;
                    }

                    if (written > 0)
                    {
                        vectors[next] = new IoVector(vectors[next].Base + written, vectors[next].Length - (nuint)written);
                    }
                }
            }
        }
        finally
        {
            for (int i = 0; i < count; i++)
            {
                pins[i].Dispose();
                pins[i] = default;
            }
        }
    }

    /// <summary>The errno as HResult, as .NET does for its own Unix I/O errors (ENOSPC is 28).</summary>
    public static IOException CreateIoException(string call, int errno) =>
        new($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);

    [LibraryImport("libc", EntryPoint = "pwritev", SetLastError = true)]
    private static unsafe partial nint pwritev(SafeFileHandle fd, IoVector* iov, int iovcnt, long offset);

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

/// <summary>struct iovec.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly unsafe struct IoVector(byte* @base, nuint length)
{
    public readonly byte* Base = @base;
    public readonly nuint Length = length;
}
