using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Predastore.Ingest.Auth;

/// <summary>SigV4 key derivation, HMAC signing and lowercase-hex helpers shared by the verifier and the chunk reader.</summary>
internal static class SigV4Signing
{
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public const string Terminator = "aws4_request";
    public const int SignatureHexLength = 64;

    private static ReadOnlySpan<byte> HexLower => "0123456789abcdef"u8;

    /// <summary>HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").</summary>
    public static byte[] DeriveSigningKey(string secretKey, string date, string region, string service)
    {
        byte[] secret = Encoding.UTF8.GetBytes("AWS4" + secretKey);
        try
        {
            Span<byte> key = stackalloc byte[HMACSHA256.HashSizeInBytes];
            HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(date), key);
            HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region), key);
            HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service), key);
            HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(Terminator), key);
            return key.ToArray();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>Writes hex(HMAC-SHA256(signingKey, stringToSign)) as 64 lowercase ASCII bytes.</summary>
    public static void Sign(ReadOnlySpan<byte> signingKey, ReadOnlySpan<byte> stringToSign, Span<byte> hexSignature)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(signingKey, stringToSign, mac);
        WriteHexLower(mac, hexSignature);
    }

    /// <summary>Signs a string to sign given as UTF-16 text (only ever ASCII plus the UTF-8 of a canonical request hash).</summary>
    public static void Sign(ReadOnlySpan<byte> signingKey, string stringToSign, Span<byte> hexSignature)
    {
        int max = Encoding.UTF8.GetMaxByteCount(stringToSign.Length);
        byte[]? rented = null;
        Span<byte> utf8 = max <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            int n = Encoding.UTF8.GetBytes(stringToSign, utf8);
            Sign(signingKey, utf8[..n], hexSignature);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Lowercase hex SHA-256 of the UTF-8 encoding of <paramref name="text"/>.</summary>
    public static string Sha256Hex(string text)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[] rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            int n = Encoding.UTF8.GetBytes(text, rented);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(rented.AsSpan(0, n), hash);
            return Convert.ToHexStringLower(hash);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static void WriteHexLower(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        for (int i = 0; i < source.Length; i++)
        {
            byte b = source[i];
            destination[2 * i] = HexLower[b >> 4];
            destination[(2 * i) + 1] = HexLower[b & 0xF];
        }
    }

    /// <summary>
    /// Constant-time comparison of a computed lowercase-hex signature with the one the client sent.
    /// Only the length (always 64 for a well-formed signature) can leak through timing.
    /// </summary>
    public static bool SignatureEquals(ReadOnlySpan<byte> computedHex, ReadOnlySpan<char> provided)
    {
        if (provided.Length != computedHex.Length)
        {
            return false;
        }

        Span<byte> providedBytes = stackalloc byte[SignatureHexLength];
        providedBytes = providedBytes[..provided.Length];
        for (int i = 0; i < provided.Length; i++)
        {
            // A non-ASCII char truncates to some byte; it can only make the comparison fail, never pass
            // wrongly, because the computed side is pure lowercase hex.
            providedBytes[i] = provided[i] > 0x7F ? (byte)0 : (byte)provided[i];
        }

        return CryptographicOperations.FixedTimeEquals(computedHex, providedBytes);
    }
}
