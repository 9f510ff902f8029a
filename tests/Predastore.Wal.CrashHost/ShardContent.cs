using Predastore.Wal;

namespace Predastore.Wal.CrashHost;

/// <summary>Shard keys and the content that belongs to each, shared by the crash child and the tests.</summary>
public static class ShardContent
{
    public static ShardKey NewKey(Random random)
    {
        byte[] hash = new byte[ShardKey.ObjectHashSize];
        byte[] dataId = new byte[ShardKey.DataIdSize];
        random.NextBytes(hash);
        random.NextBytes(dataId);
        return new ShardKey(hash, dataId, (uint)random.Next(6));
    }

    /// <summary>1 byte to 300 000 bytes, determined by the key (not by GetHashCode, which differs per process).</summary>
    public static byte[] For(ShardKey key)
    {
        byte[] bytes = new byte[ShardKey.Size];
        key.WriteTo(bytes);
        var random = new Random(BitConverter.ToInt32(bytes, 0) ^ (int)key.ShardIndex);
        byte[] data = new byte[random.Next(1, 300_000)];
        random.NextBytes(data);
        return data;
    }

    public static string ToHex(ShardKey key)
    {
        byte[] bytes = new byte[ShardKey.Size];
        key.WriteTo(bytes);
        return Convert.ToHexString(bytes);
    }

    public static ShardKey FromHex(string hex) => ShardKey.Read(Convert.FromHexString(hex));
}
