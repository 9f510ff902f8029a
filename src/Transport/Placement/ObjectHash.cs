using System.Security.Cryptography;
using System.Text;

namespace Predastore.Transport.Placement;

/// <summary>
/// The one object-hash function (invariant 2): SHA-256 of <c>bucket + "/" + key</c> in UTF-8.
/// </summary>
/// <remarks>
/// Every path that places or finds shards — PUT, each multipart part, GET, range GET, DELETE, repair — calls this,
/// and nothing else. The field report lost objects because one path hashed the file name and another the full key.
/// </remarks>
public static class ObjectHash
{
    public const int Size = 32;

    public static byte[] Compute(string bucket, string key)
    {
        var hash = new byte[Size];
        Compute(bucket, key, hash);
        return hash;
    }

    public static void Compute(string bucket, string key, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        ArgumentNullException.ThrowIfNull(key);

        // Bucket names are at most 63 bytes and keys at most 1024, so this fits comfortably in a small rented array.
        int maxBytes = Encoding.UTF8.GetMaxByteCount(bucket.Length + 1 + key.Length);
        byte[] rented = System.Buffers.ArrayPool<byte>.Shared.Rent(maxBytes);
        try
        {
            int length = Encoding.UTF8.GetBytes(bucket, rented);
            rented[length++] = (byte)'/';
            length += Encoding.UTF8.GetBytes(key, rented.AsSpan(length));
            SHA256.HashData(rented.AsSpan(0, length), destination);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
