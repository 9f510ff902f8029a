using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Predastore.Wal;

/// <summary>
/// The calls that make written bytes and created files survive a power cut, and the vectored positioned reads and
/// writes of segments.
/// </summary>
internal static partial class DurableIo
{
    /// <summary>errno of a full disk; ShardServer maps it to InsufficientStorage.</summary>
    public const int Enospc = 28;

    private const int Eintr = 4;
    private const int Enosys = 38;
    private const int Eopnotsupp = 95;

    // IOV_MAX on Linux: the most vectors one preadv or pwritev takes.
    private const int MaxIoVectors = 1024;

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

            Transfer(handle, vectors, count, offset, write: true);
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

    /// <summary>
    /// Fills <paramref name="vectors"/>[..<paramref name="count"/>] back to back from <paramref name="offset"/> with
    /// preadv (one syscall for a whole run of records, straight into the memory each vector names, which the caller
    /// keeps pinned). Returns the bytes read: fewer than asked only where the file ends. Throws an
    /// <see cref="IOException"/> with the errno in HResult. Overwrites the vectors.
    /// </summary>
    public static unsafe long ReadScatter(SafeFileHandle handle, IoVector[] vectors, int count, long offset)
    {
        if (OperatingSystem.IsLinux())
        {
            return Transfer(handle, vectors, count, offset, write: false);
        }

        // One positioned read per vector: slower, but only development machines take this path.
        long read = 0;
        for (int i = 0; i < count; i++)
        {
            var span = new Span<byte>(vectors[i].Base, checked((int)vectors[i].Length));
            int n;
            while (!span.IsEmpty && (n = RandomAccess.Read(handle, span, offset + read)) > 0)
            {
                read += n;
                span = span[n..];
            }

            if (!span.IsEmpty)
            {
                break;
            }
        }

        return read;
    }

    /// <summary>
    /// Runs pwritev or preadv until every vector is transferred or, reading, the file ends; returns the bytes moved.
    /// A short transfer (a signal, a quota, a nearly full disk) is resumed where it stopped, which re-points the
    /// vector it stopped in.
    /// </summary>
    private static unsafe long Transfer(SafeFileHandle handle, IoVector[] vectors, int count, long offset, bool write)
    {
        long total = 0;
        fixed (IoVector* first = vectors)
        {
            int next = 0;
            while (next < count)
            {
                int batch = Math.Min(count - next, MaxIoVectors);
                nint moved = write ? pwritev(handle, first + next, batch, offset) : preadv(handle, first + next, batch, offset);
                if (moved < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Eintr)
                    {
                        continue;
                    }

                    throw CreateIoException(write ? "pwritev" : "preadv", errno);
                }

                if (moved == 0)
                {
                    if (write)
                    {
                        throw CreateIoException("pwritev", Enospc);
                    }

                    break;
                }

                offset += moved;
                total += moved;
                while (next < count && moved >= (nint)vectors[next].Length)
                {
                    moved -= (nint)vectors[next].Length;
                    next++;
                }

                if (moved > 0)
                {
                    vectors[next] = new IoVector(vectors[next].Base + moved, vectors[next].Length - (nuint)moved);
                }
            }
        }

        return total;
    }

    /// <summary>The errno as HResult, as .NET does for its own Unix I/O errors (ENOSPC is 28).</summary>
    public static IOException CreateIoException(string call, int errno) =>
        new($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);

    [LibraryImport("libc", EntryPoint = "preadv", SetLastError = true)]
    private static unsafe partial nint preadv(SafeFileHandle fd, IoVector* iov, int iovcnt, long offset);

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
