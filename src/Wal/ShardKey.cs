using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Predastore.Wal;

/// <summary>
/// The name of one shard on a storage node: object hash (32 B) ‖ data id (16 B) ‖ shard index (u32, big-endian).
/// </summary>
/// <remarks>
/// The shard index and the data id are part of the key (invariant 1): several shards of one stripe can land on
/// the same node, and an overwrite writes new shards next to the old ones until its manifest is committed.
/// </remarks>
public readonly struct ShardKey : IEquatable<ShardKey>
{
    public const int Size = ObjectHashSize + DataIdSize + sizeof(uint);
    public const int ObjectHashSize = 32;
    public const int DataIdSize = 16;

    private readonly Bytes52 _bytes;

    public ShardKey(ReadOnlySpan<byte> objectHash, ReadOnlySpan<byte> dataId, uint shardIndex)
    {
        if (objectHash.Length != ObjectHashSize)
        {
            throw new ArgumentException($"An object hash is {ObjectHashSize} bytes.", nameof(objectHash));
        }

        if (dataId.Length != DataIdSize)
        {
            throw new ArgumentException($"A data id is {DataIdSize} bytes.", nameof(dataId));
        }

        Span<byte> span = _bytes;
        objectHash.CopyTo(span);
        dataId.CopyTo(span[ObjectHashSize..]);
        BinaryPrimitives.WriteUInt32BigEndian(span[(ObjectHashSize + DataIdSize)..], shardIndex);
    }

    private ShardKey(ReadOnlySpan<byte> encoded) => encoded[..Size].CopyTo(_bytes);

    /// <summary>Reads a key written by <see cref="WriteTo"/>.</summary>
    public static ShardKey Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size)
        {
            throw new ArgumentException($"A shard key is {Size} bytes.", nameof(source));
        }

        return new ShardKey(source);
    }

    public ReadOnlySpan<byte> ObjectHash => Bytes[..ObjectHashSize];

    public ReadOnlySpan<byte> DataId => Bytes.Slice(ObjectHashSize, DataIdSize);

    public uint ShardIndex => BinaryPrimitives.ReadUInt32BigEndian(Bytes[(ObjectHashSize + DataIdSize)..]);

    /// <summary>The 52 encoded bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    public void WriteTo(Span<byte> destination) => Bytes.CopyTo(destination);

    public bool Equals(ShardKey other) => Bytes.SequenceEqual(other.Bytes);

    public override bool Equals(object? obj) => obj is ShardKey other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Bytes);
        return hash.ToHashCode();
    }

    public static bool operator ==(ShardKey left, ShardKey right) => left.Equals(right);

    public static bool operator !=(ShardKey left, ShardKey right) => !left.Equals(right);

    /// <summary>The fields the field report debugged by: object hash, data id, shard index.</summary>
    public override string ToString() =>
        $"{Convert.ToHexStringLower(ObjectHash)}/{Convert.ToHexStringLower(DataId)}/{ShardIndex}";

    [InlineArray(Size)]
    private struct Bytes52
    {
        private byte _element0;
    }
}
