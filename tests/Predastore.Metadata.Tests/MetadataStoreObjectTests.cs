// Invariant: a committed manifest reads back field for field; replacing or removing it puts the old extents on the
// durable garbage list in the same transaction (never an extent the live manifest still uses); a write into a
// missing bucket or with an invalid manifest changes nothing.
using Predastore.Metadata;

namespace Predastore.Metadata.Tests;

public sealed class MetadataStoreObjectTests : IDisposable
{
    private readonly TestStore _test = new();

    public MetadataStoreObjectTests() => _test.Store.CreateBucket("b", Manifests.Time);

    public void Dispose() => _test.Dispose();

    [Fact]
    public void Open_NewDatabase_WalJournalAndFullSync()
    {
        // Act
        var (journalMode, synchronous) = _test.Store.DurabilitySettings();

        // Assert
        Assert.Equal(expected: "wal", actual: journalMode);
        Assert.Equal(expected: 2L, actual: synchronous);
    }

    [Fact]
    public void PutObject_EveryField_RoundTripsAfterReopen()
    {
        // Arrange
        var first = new Extent(Guid.NewGuid(), 5 * 1024 * 1024, [4, 0, 2, 1, 3, 5]);
        var second = new Extent(Guid.NewGuid(), 1234, [1, 1, 1, 0, 0, 0]);
        var manifest = new ObjectManifest
        {
            Bucket = "b",
            Key = "dir/naïve 😀 \"quoted\".bin",
            Size = first.Size + second.Size,
            ETag = "0123456789abcdef0123456789abcdef-2",
            LastModified = new DateTimeOffset(2023, 12, 31, 23, 59, 59, 999, TimeSpan.FromHours(-5)).AddTicks(1234),
            ContentType = "application/octet-stream",
            ContentEncoding = "gzip",
            CacheControl = "max-age=60",
            ContentDisposition = "attachment; filename=\"a.bin\"",
            UserMetadata = new Dictionary<string, string> { ["owner"] = "ops", ["note"] = "ünïcödé, \"json\" {}" },
            Checksums = new Dictionary<string, string> { ["CRC32C"] = "yZRlqg==", ["SHA256"] = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
            DataShards = 4,
            ParityShards = 2,
            BlockSize = 1 << 20,
            Extents = [first, second],
        };

        // Act
        var stored = _test.Store.PutObject(manifest);
        var read = _test.Reopen().GetObject("b", manifest.Key);

        // Assert
        Assert.True(stored);
        AssertSameManifest(expected: manifest, actual: read);
    }

    [Fact]
    public void PutObject_NoOptionalFields_ReadsBackNullsAndEmptyMaps()
    {
        // Arrange
        var manifest = Manifests.Create("b", "plain", size: 0) with { Extents = [] };

        // Act
        _test.Store.PutObject(manifest);
        var read = _test.Store.GetObject("b", "plain");

        // Assert
        AssertSameManifest(expected: manifest, actual: read);
        Assert.Null(read!.ContentType);
        Assert.Empty(read.UserMetadata);
        Assert.Empty(read.Checksums);
        Assert.Empty(read.Extents);
    }

    [Fact]
    public void PutObject_MissingBucket_FalseAndNothingStored()
    {
        // Arrange
        var manifest = Manifests.Create("missing", "k");

        // Act
        var stored = _test.Store.PutObject(manifest);

        // Assert
        Assert.False(stored);
        Assert.False(_test.Store.BucketExists("missing"));
        Assert.Null(_test.Store.GetObject("missing", "k"));
        Assert.Empty(_test.Store.ListObjects(new ListObjectsRequest("missing", null, null, null, 1000)).Objects);
        Assert.Empty(_test.Store.PendingGarbage(100));
    }

    [Fact]
    public void PutObject_Overwrite_OldExtentsOnGarbageListAfterReopen()
    {
        // Arrange
        var old = Manifests.Create("b", "k") with
        {
            Size = 30,
            Extents = [new Extent(Guid.NewGuid(), 10, [0, 1, 2]), new Extent(Guid.NewGuid(), 20, [2, 0, 1])],
        };
        _test.Store.PutObject(old);
        var replacement = Manifests.Create("b", "k", size: 7);

        // Act
        _test.Store.PutObject(replacement);
        var reopened = _test.Reopen();

        // Assert
        AssertSameManifest(expected: replacement, actual: reopened.GetObject("b", "k"));
        var garbage = reopened.PendingGarbage(100);
        Assert.Equal(expected: old.Extents.Select(e => e.DataId), actual: garbage.Select(g => g.Extent.DataId));
        Assert.All(garbage, g => Assert.Equal(expected: ("b", "k"), actual: (g.Bucket, g.Key)));
        Assert.Equal(expected: [10L, 20L], actual: garbage.Select(g => g.Extent.Size));
        Assert.Equal(expected: [2, 0, 1], actual: garbage[1].Extent.Placement);
    }

    [Fact]
    public void PutObject_SameDataIdMetadataReplace_NothingOnGarbageList()
    {
        // Arrange
        var dataId = Guid.NewGuid();
        _test.Store.PutObject(Manifests.Create("b", "k", dataId: dataId));
        var replaced = Manifests.Create("b", "k", dataId: dataId) with { ContentType = "text/plain" };

        // Act
        _test.Store.PutObject(replaced);

        // Assert
        Assert.Empty(_test.Store.PendingGarbage(100));
        Assert.Equal(expected: "text/plain", actual: _test.Store.GetObject("b", "k")!.ContentType);
    }

    [Fact]
    public void PutObject_FirstWrite_NothingOnGarbageList()
    {
        // Act
        _test.Store.PutObject(Manifests.Create("b", "k"));

        // Assert
        Assert.Empty(_test.Store.PendingGarbage(100));
    }

    [Fact]
    public void PutObject_SameKeyInAnotherBucket_Independent()
    {
        // Arrange
        _test.Store.CreateBucket("c", Manifests.Time);
        var inB = Manifests.Create("b", "k", size: 1);
        var inC = Manifests.Create("c", "k", size: 2);

        // Act
        _test.Store.PutObject(inB);
        _test.Store.PutObject(inC);

        // Assert
        Assert.Equal(expected: 1L, actual: _test.Store.GetObject("b", "k")!.Size);
        Assert.Equal(expected: 2L, actual: _test.Store.GetObject("c", "k")!.Size);
        Assert.Empty(_test.Store.PendingGarbage(100));
    }

    [Fact]
    public void PutObject_InvalidManifest_ThrowsAndKeepsPrevious()
    {
        // Arrange
        var previous = Manifests.Create("b", "k");
        _test.Store.PutObject(previous);
        var duplicateId = Guid.NewGuid();
        ObjectManifest[] invalid =
        [
            Manifests.Create("b", "k") with { Size = 99 },
            Manifests.Create("b", "k") with { Extents = [new Extent(Guid.NewGuid(), 100, [0, 1])] },
            Manifests.Create("b", "k") with { Extents = [new Extent(duplicateId, 50, [0, 1, 2]), new Extent(duplicateId, 50, [0, 1, 2])] },
            Manifests.Create("b", "k\uD800"),
            Manifests.Create("b", "k") with { DataShards = 0 },
        ];

        // Act + Assert
        foreach (var manifest in invalid)
        {
            Assert.ThrowsAny<ArgumentException>(() => _test.Store.PutObject(manifest));
        }

        AssertSameManifest(expected: previous, actual: _test.Store.GetObject("b", "k"));
        Assert.Single(_test.Store.ListObjects(new ListObjectsRequest("b", null, null, null, 1000)).Objects);
        Assert.Empty(_test.Store.PendingGarbage(100));
    }

    [Fact]
    public void DeleteObject_Existing_ReturnsManifestAndQueuesExtents()
    {
        // Arrange
        var manifest = Manifests.Create("b", "k");
        _test.Store.PutObject(manifest);

        // Act
        var removed = _test.Store.DeleteObject("b", "k");

        // Assert
        AssertSameManifest(expected: manifest, actual: removed);
        Assert.Null(_test.Store.GetObject("b", "k"));
        var garbage = Assert.Single(_test.Reopen().PendingGarbage(100));
        Assert.Equal(expected: manifest.Extents[0].DataId, actual: garbage.Extent.DataId);
        Assert.Equal(expected: manifest.Extents[0].Size, actual: garbage.Extent.Size);
        Assert.Equal(expected: [0, 1, 2], actual: garbage.Extent.Placement);
        Assert.Equal(expected: "k", actual: garbage.Key);
    }

    [Fact]
    public void DeleteObject_Missing_NullAndNoGarbage()
    {
        // Act
        var removed = _test.Store.DeleteObject("b", "nothing");
        var inMissingBucket = _test.Store.DeleteObject("missing", "nothing");

        // Assert
        Assert.Null(removed);
        Assert.Null(inMissingBucket);
        Assert.Empty(_test.Store.PendingGarbage(100));
    }

    [Fact]
    public void ReleaseGarbage_Entries_OldestFirstAndReleasedOnesGone()
    {
        // Arrange
        var manifests = Enumerable.Range(0, 5).Select(i => Manifests.Create("b", $"k{i}")).ToList();
        foreach (var manifest in manifests)
        {
            _test.Store.PutObject(manifest);
        }

        foreach (var manifest in manifests.AsEnumerable().Reverse())
        {
            _test.Store.DeleteObject("b", manifest.Key);
        }

        var firstThree = _test.Store.PendingGarbage(3);

        // Act
        _test.Store.ReleaseGarbage(firstThree[0].Id);
        _test.Store.ReleaseGarbage(firstThree[2].Id);
        _test.Store.ReleaseGarbage(firstThree[2].Id);
        var remaining = _test.Reopen().PendingGarbage(100);

        // Assert
        Assert.Equal(expected: ["k4", "k3", "k2"], actual: firstThree.Select(g => g.Key));
        Assert.Equal(expected: ["k3", "k1", "k0"], actual: remaining.Select(g => g.Key));
        Assert.True(remaining[0].Id < remaining[1].Id && remaining[1].Id < remaining[2].Id);
    }

    internal static void AssertSameManifest(ObjectManifest expected, ObjectManifest? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected: expected.Bucket, actual: actual.Bucket);
        Assert.Equal(expected: expected.Key, actual: actual.Key);
        Assert.Equal(expected: expected.Size, actual: actual.Size);
        Assert.Equal(expected: expected.ETag, actual: actual.ETag);
        Assert.Equal(expected: expected.LastModified, actual: actual.LastModified);
        Assert.Equal(expected: expected.ContentType, actual: actual.ContentType);
        Assert.Equal(expected: expected.ContentEncoding, actual: actual.ContentEncoding);
        Assert.Equal(expected: expected.CacheControl, actual: actual.CacheControl);
        Assert.Equal(expected: expected.ContentDisposition, actual: actual.ContentDisposition);
        Assert.Equal(expected: expected.UserMetadata.OrderBy(p => p.Key, StringComparer.Ordinal), actual: actual.UserMetadata.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(expected: expected.Checksums.OrderBy(p => p.Key, StringComparer.Ordinal), actual: actual.Checksums.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(expected: expected.DataShards, actual: actual.DataShards);
        Assert.Equal(expected: expected.ParityShards, actual: actual.ParityShards);
        Assert.Equal(expected: expected.BlockSize, actual: actual.BlockSize);
        Assert.Equal(expected: expected.Extents.Count, actual: actual.Extents.Count);
        for (var i = 0; i < expected.Extents.Count; i++)
        {
            Assert.Equal(expected: expected.Extents[i].DataId, actual: actual.Extents[i].DataId);
            Assert.Equal(expected: expected.Extents[i].Size, actual: actual.Extents[i].Size);
            Assert.Equal(expected: expected.Extents[i].Placement, actual: actual.Extents[i].Placement);
        }
    }
}
