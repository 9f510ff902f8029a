// Invariant: for any key set, prefix, delimiter, StartAfter and MaxKeys, paginating ListObjects with NextMarker
// until it is not truncated yields exactly the reference model's listing (ReferenceListing), page by page within
// MaxKeys, in UTF-8 binary order.
using Predastore.Metadata;

namespace Predastore.Metadata.Tests;

public sealed class ListObjectsPropertyTests : IDisposable
{
    // Symbols keys are built from: delimiter candidates, ASCII either side of '/', multi-byte characters, and a
    // character whose UTF-16 and UTF-8 orders disagree with the emoji's.
    private static readonly string[] s_symbols = ["a", "b", "/", "-", ".", "0", "é", "中", "\uFFDA", "😀"];
    private static readonly string?[] s_delimiters = [null, "", "/", "/", "-", "é", "😀", "\uFFDA", "a/", "b"];

    private readonly TestStore _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void ListObjects_RandomCases_PaginationMatchesReferenceModel()
    {
        const int Cases = 150;
        const int QueriesPerCase = 12;
        var random = new Random(20240506);
        for (var c = 0; c < Cases; c++)
        {
            // Arrange
            var bucket = $"case{c}";
            _test.Store.CreateBucket(bucket, Manifests.Time);
            var keys = Enumerable.Range(0, random.Next(0, 60)).Select(_ => RandomString(random, 1, 6)).Distinct().ToList();
            _test.Store.PutObjects(keys.Select(k => Manifests.Create(bucket, k)));

            for (var q = 0; q < QueriesPerCase; q++)
            {
                var prefix = RandomBoundary(random, keys);
                var delimiter = s_delimiters[random.Next(s_delimiters.Length)];
                var startAfter = RandomBoundary(random, keys);
                var maxKeys = random.Next(1, keys.Count + 3);
                var context = $"case {c} query {q}: prefix '{prefix}', delimiter '{delimiter}', start after '{startAfter}', max keys {maxKeys}, keys [{string.Join(", ", keys)}]";

                // Act
                var actual = Paginate(bucket, prefix, delimiter, startAfter, maxKeys, context);

                // Assert
                var expected = ReferenceListing.List(keys, prefix, delimiter, startAfter);
                Assert.True(expected.SequenceEqual(actual), context +
                    $"\nexpected [{string.Join(", ", expected)}]\nactual   [{string.Join(", ", actual)}]");
            }
        }
    }

    private List<ListingEntry> Paginate(string bucket, string? prefix, string? delimiter, string? startAfter, int maxKeys, string context)
    {
        var entries = new List<ListingEntry>();
        var marker = startAfter;
        for (var pages = 0; ; pages++)
        {
            Assert.True(pages <= 100, "endless pagination: " + context);
            var page = _test.Store.ListObjects(new ListObjectsRequest(bucket, prefix, delimiter, marker, maxKeys));
            var pageEntries = page.Objects.Select(o => new ListingEntry(o.Key, false))
                .Concat(page.CommonPrefixes.Select(p => new ListingEntry(p, true)))
                .OrderBy(e => e.Value, ReferenceListing.Utf8Order)
                .ToList();

            Assert.True(pageEntries.Count <= maxKeys, context);
            Assert.True(page.Objects.Select(o => o.Key).SequenceEqual(page.Objects.Select(o => o.Key).Order(ReferenceListing.Utf8Order)), context);
            Assert.True(page.CommonPrefixes.SequenceEqual(page.CommonPrefixes.Order(ReferenceListing.Utf8Order)), context);
            entries.AddRange(pageEntries);
            if (!page.IsTruncated)
            {
                Assert.Null(page.NextMarker);
                return entries;
            }

            Assert.Equal(expected: maxKeys, actual: pageEntries.Count);
            Assert.Equal(expected: pageEntries[^1].Value, actual: page.NextMarker);
            marker = page.NextMarker;
        }
    }

    private static string RandomString(Random random, int minSymbols, int maxSymbols)
    {
        var count = random.Next(minSymbols, maxSymbols + 1);
        return string.Concat(Enumerable.Range(0, count).Select(_ => s_symbols[random.Next(s_symbols.Length)]));
    }

    // Null, empty, a whole key, a prefix of a key cut between symbols, or a random string.
    private static string? RandomBoundary(Random random, List<string> keys)
    {
        switch (random.Next(6))
        {
            case 0:
                return null;
            case 1:
                return random.Next(2) == 0 ? string.Empty : RandomString(random, 1, 3);
            case 2 when keys.Count > 0:
                return keys[random.Next(keys.Count)];
            case 3 or 4 or 5 when keys.Count > 0:
                var key = keys[random.Next(keys.Count)];
                var cut = random.Next(0, key.Length + 1);
                if (cut > 0 && cut < key.Length && char.IsLowSurrogate(key[cut]))
                {
                    cut--;
                }

                return key[..cut];
            default:
                return RandomString(random, 1, 2);
        }
    }
}
