// Invariant: ListObjects follows S3 listing semantics: UTF-8 binary key order, Prefix filter, exclusive StartAfter,
// Delimiter roll-up into common prefixes counted once toward MaxKeys, and a NextMarker that continues exactly where
// a truncated page stopped (a common prefix used as marker skips every key under it).
using Predastore.Metadata;

namespace Predastore.Metadata.Tests;

public sealed class ListObjectsTests : IDisposable
{
    private readonly TestStore _test = new();

    public ListObjectsTests() => _test.Store.CreateBucket("b", Manifests.Time);

    public void Dispose() => _test.Dispose();

    [Fact]
    public void ListObjects_UnicodeKeys_Utf8BinaryOrder()
    {
        // Arrange: UTF-16 ordinal order would put the emoji (surrogates D83D..) before U+FFDA; UTF-8 puts it last.
        string[] keys = ["😀", "\uFFDA", "é", "a", "Z", "a\u0000b", "a b", "ab"];
        Put(keys);

        // Act
        var result = List(null, null, null, 1000);

        // Assert
        Assert.Equal(expected: ["Z", "a", "a\u0000b", "a b", "ab", "é", "\uFFDA", "😀"], actual: result.Objects.Select(o => o.Key));
        Assert.False(result.IsTruncated);
        Assert.Null(result.NextMarker);
    }

    [Fact]
    public void ListObjects_PrefixAndDelimiter_KeysAndCommonPrefixes()
    {
        // Arrange: the example of the S3 documentation, plus a key equal to its common prefix.
        Put(["sample.jpg", "photos/2006/January/sample.jpg", "photos/2006/February/sample2.jpg",
            "photos/2006/February/sample3.jpg", "photos/2006/", "photos/2006/index.html", "photos/2007/x", "photosX"]);

        // Act
        var top = List(null, "/", null, 1000);
        var year = List("photos/2006/", "/", null, 1000);

        // Assert
        Assert.Equal(expected: ["photosX", "sample.jpg"], actual: top.Objects.Select(o => o.Key));
        Assert.Equal(expected: ["photos/"], actual: top.CommonPrefixes);
        Assert.Equal(expected: ["photos/2006/", "photos/2006/index.html"], actual: year.Objects.Select(o => o.Key));
        Assert.Equal(expected: ["photos/2006/February/", "photos/2006/January/"], actual: year.CommonPrefixes);
    }

    [Fact]
    public void ListObjects_ListedObjects_CarryWholeManifest()
    {
        // Arrange
        var manifest = Manifests.Create("b", "dir/file") with { ContentType = "image/png", UserMetadata = new Dictionary<string, string> { ["a"] = "1" } };
        _test.Store.PutObject(manifest);

        // Act
        var listed = Assert.Single(List("dir/", "/", null, 10).Objects);

        // Assert
        MetadataStoreObjectTests.AssertSameManifest(expected: manifest, actual: listed);
    }

    [Fact]
    public void ListObjects_MaxKeysZero_EmptyAndNotTruncated()
    {
        // Arrange
        Put(["a", "b"]);

        // Act
        var result = List(null, null, null, 0);

        // Assert
        Assert.Empty(result.Objects);
        Assert.Empty(result.CommonPrefixes);
        Assert.False(result.IsTruncated);
        Assert.Null(result.NextMarker);
    }

    [Fact]
    public void ListObjects_CommonPrefixAsStartAfter_SkipsKeysUnderIt()
    {
        // Arrange
        Put(["a/1", "a/2", "a/3", "b", "c/1"]);

        // Act
        var first = List(null, "/", null, 1);
        var second = List(null, "/", first.NextMarker, 1);
        var third = List(null, "/", second.NextMarker, 1);
        var last = List(null, "/", "c/", 1);

        // Assert
        Assert.Equal(expected: ["a/"], actual: first.CommonPrefixes);
        Assert.Equal(expected: (true, "a/"), actual: (first.IsTruncated, first.NextMarker));
        Assert.Equal(expected: ["b"], actual: second.Objects.Select(o => o.Key));
        Assert.Empty(second.CommonPrefixes);
        Assert.Equal(expected: (true, "b"), actual: (second.IsTruncated, second.NextMarker));
        Assert.Equal(expected: ["c/"], actual: third.CommonPrefixes);
        Assert.Empty(third.Objects);
        Assert.Equal(expected: (false, (string?)null), actual: (third.IsTruncated, third.NextMarker));
        Assert.Empty(last.Objects);
        Assert.Empty(last.CommonPrefixes);
    }

    [Fact]
    public void ListObjects_StartAfterInsideCommonPrefix_CommonPrefixNotRepeated()
    {
        // Arrange
        Put(["a/1", "a/2", "b"]);

        // Act
        var result = List(null, "/", "a/1", 10);

        // Assert: "a/" sorts before "a/1", so it is not an entry after StartAfter.
        Assert.Empty(result.CommonPrefixes);
        Assert.Equal(expected: ["b"], actual: result.Objects.Select(o => o.Key));
    }

    [Fact]
    public void ListObjects_StartAfterBeforePrefix_WholePrefixListed()
    {
        // Arrange
        Put(["a", "p/1", "p/2", "q"]);

        // Act
        var result = List("p/", null, "0", 10);

        // Assert
        Assert.Equal(expected: ["p/1", "p/2"], actual: result.Objects.Select(o => o.Key));
    }

    [Fact]
    public void ListObjects_ExactlyMaxKeysLeft_NotTruncated()
    {
        // Arrange
        Put(["a", "b/1", "b/2", "c"]);

        // Act
        var result = List(null, "/", null, 3);

        // Assert
        Assert.Equal(expected: ["a", "c"], actual: result.Objects.Select(o => o.Key));
        Assert.Equal(expected: ["b/"], actual: result.CommonPrefixes);
        Assert.False(result.IsTruncated);
    }

    [Fact]
    public void ListObjects_ThousandsOfKeys_PagesConcatenateToAll()
    {
        // Arrange: 3000 keys under 30 directories and 100 keys at the top.
        var keys = Enumerable.Range(0, 30).SelectMany(d => Enumerable.Range(0, 100).Select(f => $"dir{d:D2}/file{f:D3}"))
            .Concat(Enumerable.Range(0, 100).Select(i => $"top{i:D3}"))
            .ToList();
        Assert.Equal(expected: keys.Count, actual: _test.Store.PutObjects(keys.Select(k => Manifests.Create("b", k))));

        // Act
        var flat = Paginate(null, null, 1000, out var flatPages);
        var rolled = Paginate(null, "/", 7, out var rolledPages);
        var oneDirectory = Paginate("dir17/", "/", 30, out _);

        // Assert
        Assert.Equal(expected: keys.Order(ReferenceListing.Utf8Order), actual: flat.Select(e => e.Value));
        Assert.Equal(expected: 4, actual: flatPages);
        Assert.Equal(
            expected: Enumerable.Range(0, 30).Select(d => new ListingEntry($"dir{d:D2}/", true))
                .Concat(Enumerable.Range(0, 100).Select(i => new ListingEntry($"top{i:D3}", false))),
            actual: rolled);
        Assert.Equal(expected: 19, actual: rolledPages);
        Assert.Equal(expected: Enumerable.Range(0, 100).Select(f => $"dir17/file{f:D3}"), actual: oneDirectory.Select(e => e.Value));
    }

    private List<ListingEntry> Paginate(string? prefix, string? delimiter, int maxKeys, out int pages)
    {
        var entries = new List<ListingEntry>();
        string? marker = null;
        pages = 0;
        while (true)
        {
            var page = List(prefix, delimiter, marker, maxKeys);
            pages++;
            entries.AddRange(page.Objects.Select(o => new ListingEntry(o.Key, false))
                .Concat(page.CommonPrefixes.Select(p => new ListingEntry(p, true)))
                .OrderBy(e => e.Value, ReferenceListing.Utf8Order));
            if (!page.IsTruncated)
            {
                return entries;
            }

            marker = page.NextMarker;
        }
    }

    private ListObjectsResult List(string? prefix, string? delimiter, string? startAfter, int maxKeys) =>
        _test.Store.ListObjects(new ListObjectsRequest("b", prefix, delimiter, startAfter, maxKeys));

    private void Put(IEnumerable<string> keys) =>
        _test.Store.PutObjects(keys.Select(k => Manifests.Create("b", k)));
}
