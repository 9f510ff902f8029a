using System.Buffers.Binary;

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

    // Stored as big-endian integers so equality and hashing are a few compares, and a key copies by value.
    private readonly UInt128 _hashHigh;
    private readonly UInt128 _hashLow;
    private readonly UInt128 _dataId;

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

        _hashHigh = BinaryPrimitives.ReadUInt128BigEndian(objectHash);
        _hashLow = BinaryPrimitives.ReadUInt128BigEndian(objectHash[16..]);
        _dataId = BinaryPrimitives.ReadUInt128BigEndian(dataId);
        ShardIndex = shardIndex;
    }

    /// <summary>Reads a key written by <see cref="WriteTo"/>.</summary>
    public static ShardKey Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size)
        {
            throw new ArgumentException($"A shard key is {Size} bytes.", nameof(source));
        }

        return new ShardKey(
            source[..ObjectHashSize],
            source.Slice(ObjectHashSize, DataIdSize),
            BinaryPrimitives.ReadUInt32BigEndian(source[(ObjectHashSize + DataIdSize)..]));
    }

    public uint ShardIndex { get; }

    public void WriteTo(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"A shard key is {Size} bytes.", nameof(destination));
        }

        WriteObjectHash(destination);
        WriteDataId(destination.Slice(ObjectHashSize, DataIdSize));
        BinaryPrimitives.WriteUInt32BigEndian(destination[(ObjectHashSize + DataIdSize)..], ShardIndex);
    }

    public void WriteObjectHash(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt128BigEndian(destination, _hashHigh);
        BinaryPrimitives.WriteUInt128BigEndian(destination[16..], _hashLow);
    }

    public void WriteDataId(Span<byte> destination) => BinaryPrimitives.WriteUInt128BigEndian(destination, _dataId);

    /// <summary>True when both keys name shards of the same written object version (any shard index).</summary>
    public bool SameData(ShardKey other) =>
        _hashHigh == other._hashHigh && _hashLow == other._hashLow && _dataId == other._dataId;

    public bool Equals(ShardKey other) => SameData(other) && ShardIndex == other.ShardIndex;

    public override bool Equals(object? obj) => obj is ShardKey other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_hashHigh, _hashLow, _dataId, ShardIndex);

    public static bool operator ==(ShardKey left, ShardKey right) => left.Equals(right);

    public static bool operator !=(ShardKey left, ShardKey right) => !left.Equals(right);

    /// <summary>The fields the field report debugged by: object hash, data id, shard index.</summary>
    public override string ToString() => $"{_hashHigh:x32}{_hashLow:x32}/{_dataId:x32}/{ShardIndex}";
}
