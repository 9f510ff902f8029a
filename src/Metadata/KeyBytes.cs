using System.Text;

namespace Predastore.Metadata;

/// <summary>
/// Keys are stored as their UTF-8 bytes, so SQLite's blob comparison (memcmp, then length) is S3's UTF-8 binary
/// order. Listing ranges are computed on those bytes.
/// </summary>
internal static class KeyBytes
{
    // Throws on lone surrogates instead of writing U+FFFD: two different keys must never share bytes.
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Sorts after every stored key: 0xFF never occurs in UTF-8, so no valid key starts with it.
    /// </summary>
    public static readonly byte[] AfterAll = [0xFF];

    public static byte[] Encode(string value, string paramName)
    {
        try
        {
            return s_strictUtf8.GetBytes(value);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("Not valid Unicode (lone surrogate).", paramName, e);
        }
    }

    public static string Decode(ReadOnlySpan<byte> value) => s_strictUtf8.GetString(value);

    /// <summary>Compares two keys in S3's order: their UTF-8 bytes (UTF-16 ordinal order differs above U+D7FF).</summary>
    public static int Compare(string left, string right) =>
        Encode(left, nameof(left)).AsSpan().SequenceCompareTo(Encode(right, nameof(right)));

    /// <summary>The smallest byte string greater than <paramref name="value"/>: the value followed by 0x00.</summary>
    public static byte[] ImmediateSuccessor(ReadOnlySpan<byte> value)
    {
        var result = new byte[value.Length + 1];
        value.CopyTo(result);
        return result;
    }

    /// <summary>
    /// The smallest byte string greater than every string that starts with <paramref name="prefix"/>, or
    /// <see cref="AfterAll"/> when there is none (empty prefix, or only 0xFF bytes, which UTF-8 never has).
    /// </summary>
    public static byte[] PrefixSuccessor(ReadOnlySpan<byte> prefix)
    {
        for (var i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] != 0xFF)
            {
                var result = prefix[..(i + 1)].ToArray();
                result[i]++;
                return result;
            }
        }

        return AfterAll;
    }

    public static int Compare(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right) => left.SequenceCompareTo(right);
}
