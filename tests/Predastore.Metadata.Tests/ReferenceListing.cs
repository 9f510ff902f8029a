// Test support: the reference model of S3 listing, written for clarity over a plain sorted key list.
using System.Text;

namespace Predastore.Metadata.Tests;

/// <summary>One entry of a listing: an object key or a common prefix.</summary>
internal readonly record struct ListingEntry(string Value, bool IsCommonPrefix);

internal static class ReferenceListing
{
    /// <summary>S3's order: UTF-8 bytes compared as unsigned bytes (not .NET's UTF-16 ordinal order).</summary>
    public static readonly Comparer<string> Utf8Order = Comparer<string>.Create(
        (a, b) => Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b)));

    /// <summary>
    /// The whole listing from <paramref name="startAfter"/> on, unpaginated: every key with the prefix maps to itself
    /// or, when the delimiter occurs after the prefix, to its common prefix (up to and including that delimiter);
    /// entries are kept once, in UTF-8 order, and only when they sort after StartAfter.
    /// </summary>
    public static List<ListingEntry> List(IEnumerable<string> keys, string? prefix, string? delimiter, string? startAfter)
    {
        prefix ??= string.Empty;
        var entries = new List<ListingEntry>();
        foreach (var key in keys.Order(Utf8Order))
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var entry = new ListingEntry(key, IsCommonPrefix: false);
            if (!string.IsNullOrEmpty(delimiter))
            {
                var at = key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
                if (at >= 0)
                {
                    entry = new ListingEntry(key[..(at + delimiter.Length)], IsCommonPrefix: true);
                }
            }

            if (!string.IsNullOrEmpty(startAfter) && Utf8Order.Compare(entry.Value, startAfter) <= 0)
            {
                continue;
            }

            if (entries.Count > 0 && entries[^1] == entry)
            {
                continue;
            }

            entries.Add(entry);
        }

        return entries;
    }
}
