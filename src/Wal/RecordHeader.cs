using System.Buffers.Binary;

namespace Predastore.Wal;

/// <summary>
/// The fixed 96-byte header that starts every record; the payload follows it directly in the same segment.
/// </summary>
/// <remarks>
/// Layout (integers little-endian; the shard key as <see cref="ShardKey.WriteTo"/> writes it):
/// <code>
///  0  u32   magic 0x4C415750 ("PWAL")
///  4  u8    format version (1)
///  5  u8    record type (<see cref="RecordType"/>)
///  6  u16   reserved, zero
///  8  u32   CRC32C (Castagnoli) over the 96 header bytes with this field zero, then the payload
/// 12  u32   payload length (Data: 1..MaxPayloadLimit; Commit and Tombstone: 0)
/// 16  u64   sequence number: record order across all segments, so checkpoints and compaction (which rewrites
///           records into newer segments) can replay in write order
/// 24  52 B  shard key: object hash ‖ data id ‖ shard index
/// 76  u32   reserved, zero
/// 80  i64   Data: offset of the payload within the shard; Commit: shard length; Tombstone: 0
/// 88  u64   reserved, zero
/// 96        payload
/// </code>
/// The checksum covers the header so a flipped key, offset or length is caught like a flipped payload byte.
/// </remarks>
internal readonly struct RecordHeader
{
    public const int Size = 96;
    public const uint Magic = 0x4C415750;
    public const byte FormatVersion = 1;

    /// <summary>Recovery treats a larger payload length as garbage, whatever MaxRecordPayload was when it was written.</summary>
    public const int MaxPayloadLimit = 16 * 1024 * 1024;

    private const int VersionOffset = 4;
    private const int TypeOffset = 5;
    private const int CrcOffset = 8;
    private const int PayloadLengthOffset = 12;
    private const int SequenceOffset = 16;
    private const int KeyOffset = 24;
    private const int ValueOffset = 80;

    public RecordHeader(RecordType type, ShardKey key, long value, int payloadLength, ulong sequence)
    {
        Type = type;
        Key = key;
        Value = value;
        PayloadLength = payloadLength;
        Sequence = sequence;
    }

    public RecordType Type { get; }

    public ShardKey Key { get; }

    /// <summary>Data: offset within the shard; Commit: shard length; Tombstone: 0.</summary>
    public long Value { get; }

    public int PayloadLength { get; }

    public ulong Sequence { get; }

    public long RecordSize => Size + (long)PayloadLength;

    /// <summary>Writes the header with a zero CRC field; <see cref="WriteCrc"/> fills it once the payload is hashed.</summary>
    public void WriteTo(Span<byte> destination)
    {
        Span<byte> header = destination[..Size];
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        header[VersionOffset] = FormatVersion;
        header[TypeOffset] = (byte)Type;
        BinaryPrimitives.WriteInt32LittleEndian(header[PayloadLengthOffset..], PayloadLength);
        BinaryPrimitives.WriteUInt64LittleEndian(header[SequenceOffset..], Sequence);
        Key.WriteTo(header.Slice(KeyOffset, ShardKey.Size));
        BinaryPrimitives.WriteInt64LittleEndian(header[ValueOffset..], Value);
    }

    public static void WriteCrc(Span<byte> header, uint crc) => BinaryPrimitives.WriteUInt32LittleEndian(header[CrcOffset..], crc);

    public static uint ReadCrc(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadUInt32LittleEndian(header[CrcOffset..]);

    public static void ClearCrc(Span<byte> header) => header.Slice(CrcOffset, sizeof(uint)).Clear();

    /// <summary>
    /// Decodes and sanity-checks a header (not its checksum): anything that fails here is garbage or a torn write,
    /// and must not be trusted for its length.
    /// </summary>
    public static RecordDefect TryParse(ReadOnlySpan<byte> source, out RecordHeader header)
    {
        header = default;
        if (source.Length < Size)
        {
            return RecordDefect.ShortRead;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(source) != Magic)
        {
            return RecordDefect.BadMagic;
        }

        if (source[VersionOffset] != FormatVersion)
        {
            return RecordDefect.BadVersion;
        }

        var type = (RecordType)source[TypeOffset];
        int payloadLength = BinaryPrimitives.ReadInt32LittleEndian(source[PayloadLengthOffset..]);
        long value = BinaryPrimitives.ReadInt64LittleEndian(source[ValueOffset..]);
        switch (type)
        {
            case RecordType.Data:
                if (payloadLength < 1 || payloadLength > MaxPayloadLimit)
                {
                    return RecordDefect.ImpossibleLength;
                }

                if (value < 0 || value > long.MaxValue - payloadLength)
                {
                    return RecordDefect.ImpossibleValue;
                }

                break;
            case RecordType.Commit:
            case RecordType.Tombstone:
                if (payloadLength != 0)
                {
                    return RecordDefect.ImpossibleLength;
                }

                if (value < 0 || (type == RecordType.Tombstone && value != 0))
                {
                    return RecordDefect.ImpossibleValue;
                }

                break;
            default:
                return RecordDefect.BadType;
        }

        header = new RecordHeader(
            type,
            ShardKey.Read(source.Slice(KeyOffset, ShardKey.Size)),
            value,
            payloadLength,
            BinaryPrimitives.ReadUInt64LittleEndian(source[SequenceOffset..]));
        return RecordDefect.None;
    }

    /// <summary>Checks the CRC of a whole record without changing it (compaction copies it verbatim afterwards).</summary>
    public static bool Verify(ReadOnlySpan<byte> record)
    {
        Span<byte> header = stackalloc byte[Size];
        record[..Size].CopyTo(header);
        uint stored = ReadCrc(header);
        ClearCrc(header);
        return Crc32C.Hash(header, record[Size..]) == stored;
    }

    /// <summary>
    /// Checks the CRC of a record read in pieces: <paramref name="headerAndPrefix"/> is the header and the start of
    /// the payload, <paramref name="middle"/> and <paramref name="suffix"/> the rest of it, in order. Zeroes the CRC
    /// field in place: the caller owns that copy of the header and needs only the payload afterwards.
    /// </summary>
    public static bool VerifyScattered(Span<byte> headerAndPrefix, ReadOnlySpan<byte> middle, ReadOnlySpan<byte> suffix)
    {
        uint stored = ReadCrc(headerAndPrefix);
        ClearCrc(headerAndPrefix);
        return Crc32C.Hash(headerAndPrefix, middle, suffix) == stored;
    }
}
