using System.Buffers;
using System.Diagnostics;
using System.IO.Hashing;
using Microsoft.Win32.SafeHandles;

namespace Predastore.Wal;

/// <summary>
/// Reads a segment front to back through one pooled buffer and yields its records until the end or the first
/// record that is not whole and checksummed. Recovery's only reader; the read path reads records one by one.
/// </summary>
internal sealed class SegmentScanner : IDisposable
{
    private const int BufferSize = 1024 * 1024;

    private readonly SafeFileHandle _handle;
    private readonly Crc32 _crc = new(Crc32ParameterSet.Crc32C);

    // A header is copied out of the window before the payload is hashed, because hashing refills the window.
    private readonly byte[] _header = new byte[RecordHeader.Size];
    private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private long _bufferStart;
    private int _bufferCount;

    public SegmentScanner(SafeFileHandle handle, long length)
    {
        _handle = handle;
        Length = length;
    }

    public long Length { get; }

    /// <summary>Reads the record at <paramref name="offset"/> and checks its header and CRC.</summary>
    public RecordDefect TryReadRecord(long offset, out RecordHeader header)
    {
        header = default;
        ReadOnlySpan<byte> window = Peek(offset, RecordHeader.Size);

        // Past the last record of a preallocated segment every byte is zero (fallocate, and recovery re-zeroes a
        // cut tail), so a zero header is the clean end, not damage.
        if (!window.ContainsAnyExcept((byte)0))
        {
            return RecordDefect.EndOfData;
        }

        if (window.Length < RecordHeader.Size)
        {
            return RecordDefect.ShortRead;
        }

        window.CopyTo(_header);
        RecordDefect defect = RecordHeader.TryParse(_header, out header);
        if (defect != RecordDefect.None)
        {
            return defect;
        }

        if (header.RecordSize > Length - offset)
        {
            return RecordDefect.ShortRead;
        }

        uint stored = RecordHeader.ReadCrc(_header);
        RecordHeader.ClearCrc(_header);
        _crc.Reset();
        _crc.Append(_header);
        long position = offset + RecordHeader.Size;
        int remaining = header.PayloadLength;
        while (remaining > 0)
        {
            ReadOnlySpan<byte> chunk = Peek(position, Math.Min(remaining, BufferSize));
            if (chunk.IsEmpty)
            {
                return RecordDefect.ShortRead;
            }

            _crc.Append(chunk);
            position += chunk.Length;
            remaining -= chunk.Length;
        }

        return _crc.GetCurrentHashAsUInt32() == stored ? RecordDefect.None : RecordDefect.ChecksumMismatch;
    }

    /// <summary>
    /// How many bytes from <paramref name="offset"/> up to the last non-zero byte before the first all-zero MiB (or
    /// the end): the size of a torn tail, for the log.
    /// </summary>
    public long NonZeroBytesFrom(long offset)
    {
        long lastNonZero = offset;
        for (long position = offset; position < Length; position += BufferSize)
        {
            ReadOnlySpan<byte> window = Peek(position, (int)Math.Min(BufferSize, Length - position));
            int last = window.LastIndexOfAnyExcept((byte)0);
            if (last < 0)
            {
                break;
            }

            lastNonZero = position + last + 1;
        }

        return lastNonZero - offset;
    }

    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Up to <paramref name="count"/> bytes at <paramref name="offset"/>; fewer only at the end of the file.</summary>
    private ReadOnlySpan<byte> Peek(long offset, int count)
    {
        Debug.Assert(count <= BufferSize);
        byte[] buffer = _buffer ?? throw new ObjectDisposedException(nameof(SegmentScanner));
        if (offset < _bufferStart || offset + count > _bufferStart + _bufferCount)
        {
            _bufferStart = offset;
            _bufferCount = 0;
            int wanted = (int)Math.Min(buffer.Length, Math.Max(0, Length - offset));
            while (_bufferCount < wanted)
            {
                int read = RandomAccess.Read(_handle, buffer.AsSpan(_bufferCount, wanted - _bufferCount), offset + _bufferCount);
                if (read == 0)
                {
                    break;
                }

                _bufferCount += read;
            }
        }

        int start = (int)(offset - _bufferStart);
        return buffer.AsSpan(start, Math.Min(count, _bufferCount - start));
    }
}
