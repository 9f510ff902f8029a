using System.Globalization;

namespace Predastore.Ingest.S3;

/// <summary>A single <c>Range: bytes=…</c> request resolved against an object's size.</summary>
internal readonly record struct ByteRange(long Start, long Length)
{
    public long End => Start + Length - 1;

    /// <summary>
    /// Resolves a Range header. Returns null when there is none, or it is not a single byte range S3 understands
    /// (then the whole object is served, as S3 and RFC 9110 do); throws InvalidRange when it cannot be satisfied.
    /// </summary>
    public static ByteRange? Parse(string? header, long size)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return null;
        }

        ReadOnlySpan<char> value = header.AsSpan().Trim();
        if (!value.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        value = value["bytes=".Length..].Trim();
        if (value.Contains(','))
        {
            return null;
        }

        int dash = value.IndexOf('-');
        if (dash < 0)
        {
            return null;
        }

        ReadOnlySpan<char> first = value[..dash].Trim();
        ReadOnlySpan<char> last = value[(dash + 1)..].Trim();
        if (first.IsEmpty)
        {
            // bytes=-n: the last n bytes.
            if (!TryParse(last, out long suffix))
            {
                return null;
            }

            if (suffix == 0 || size == 0)
            {
                throw S3Errors.InvalidRange(size);
            }

            long length = Math.Min(suffix, size);
            return new ByteRange(size - length, length);
        }

        if (!TryParse(first, out long start))
        {
            return null;
        }

        long end;
        if (last.IsEmpty)
        {
            end = size - 1;
        }
        else if (!TryParse(last, out end) || end < start)
        {
            return null;
        }

        if (start >= size)
        {
            throw S3Errors.InvalidRange(size);
        }

        end = Math.Min(end, size - 1);
        return new ByteRange(start, end - start + 1);
    }

    private static bool TryParse(ReadOnlySpan<char> digits, out long value) =>
        long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
