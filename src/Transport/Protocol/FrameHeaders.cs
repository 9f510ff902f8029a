using System.Buffers.Binary;
using Predastore.Wal;

namespace Predastore.Transport.Protocol;

/// <summary>
/// Frame layout: <c>opcode (u32) ‖ header length (u32) ‖ binary header ‖ body</c>, big-endian. The binary header
/// starts with the body length, so a reader always knows how much follows; fields a reader does not know (a longer
/// header from a newer peer) are skipped.
/// </summary>
internal static class Frame
{
    public const int PrefixSize = 8;

    /// <summary>Longer headers are a protocol error: a stranger or a broken peer, never a real request.</summary>
    public const int MaxHeaderLength = 1024;

    /// <summary>Largest body a frame may carry (a cell of a 64 MiB block, or a listing page).</summary>
    public const long MaxBodyLength = 256L * 1024 * 1024;

    public static void WritePrefix(Span<byte> destination, NodeOpcode opcode, int headerLength)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)opcode);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], (uint)headerLength);
    }
}

/// <summary>The header of every request: which shard (shard index included, invariant 6), where, how much.</summary>
internal readonly record struct RequestHeader(long BodyLength, ShardKey Key, long Offset, long Length)
{
    public const int Size = 8 + ShardKey.Size + 8 + 8;

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64BigEndian(destination, BodyLength);
        Key.WriteTo(destination[8..]);
        BinaryPrimitives.WriteInt64BigEndian(destination[(8 + ShardKey.Size)..], Offset);
        BinaryPrimitives.WriteInt64BigEndian(destination[(16 + ShardKey.Size)..], Length);
    }

    public static RequestHeader Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadInt64BigEndian(source),
        ShardKey.Read(source.Slice(8, ShardKey.Size)),
        BinaryPrimitives.ReadInt64BigEndian(source[(8 + ShardKey.Size)..]),
        BinaryPrimitives.ReadInt64BigEndian(source[(16 + ShardKey.Size)..]));
}

/// <summary>The header of every response: the status and one value (bytes read, shard length, key count).</summary>
internal readonly record struct ResponseHeader(long BodyLength, NodeStatus Status, long Value)
{
    public const int Size = 8 + 4 + 8;

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64BigEndian(destination, BodyLength);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], (uint)Status);
        BinaryPrimitives.WriteInt64BigEndian(destination[12..], Value);
    }

    public static ResponseHeader Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadInt64BigEndian(source),
        (NodeStatus)BinaryPrimitives.ReadUInt32BigEndian(source[8..]),
        BinaryPrimitives.ReadInt64BigEndian(source[12..]));
}
