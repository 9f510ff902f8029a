// Invariant: a bucket name exists at most once; a bucket that holds objects cannot be deleted; buckets list in
// name order and survive a restart.
using Predastore.Metadata;

namespace Predastore.Metadata.Tests;

public sealed class MetadataStoreBucketTests : IDisposable
{
    private readonly TestStore _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void CreateBucket_Twice_SecondReturnsFalseAndKeepsFirstDate()
    {
        // Arrange
        var store = _test.Store;
        var first = new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);

        // Act
        var created = store.CreateBucket("photos", first);
        var again = store.CreateBucket("photos", first.AddDays(1));

        // Assert
        Assert.True(created);
        Assert.False(again);
        Assert.True(store.BucketExists("photos"));
        Assert.Equal(expected: [new BucketInfo("photos", first)], actual: store.ListBuckets());
    }

    [Fact]
    public void ListBuckets_SeveralBuckets_SortedByNameAndDurable()
    {
        // Arrange
        var date = new DateTimeOffset(2024, 1, 2, 3, 4, 5, 678, TimeSpan.FromHours(2));
        foreach (var name in new[] { "zeta", "alpha", "mid-1", "mid.0" })
        {
            _test.Store.CreateBucket(name, date);
        }

        // Act
        var buckets = _test.Reopen().ListBuckets();

        // Assert
        Assert.Equal(expected: ["alpha", "mid-1", "mid.0", "zeta"], actual: buckets.Select(b => b.Name));
        Assert.All(buckets, b => Assert.Equal(expected: date, actual: b.CreationDate));
    }

    [Fact]
    public void DeleteBucket_HoldsAnObject_NotEmptyAndKept()
    {
        // Arrange
        var store = _test.Store;
        store.CreateBucket("b", Manifests.Time);
        store.PutObject(Manifests.Create("b", "k"));

        // Act
        var result = store.DeleteBucket("b");

        // Assert
        Assert.Equal(expected: DeleteBucketResult.NotEmpty, actual: result);
        Assert.True(store.BucketExists("b"));
        Assert.NotNull(store.GetObject("b", "k"));
    }

    [Fact]
    public void DeleteBucket_EmptiedBucket_Deleted()
    {
        // Arrange
        var store = _test.Store;
        store.CreateBucket("b", Manifests.Time);
        store.PutObject(Manifests.Create("b", "k"));
        store.DeleteObject("b", "k");

        // Act
        var result = store.DeleteBucket("b");

        // Assert
        Assert.Equal(expected: DeleteBucketResult.Deleted, actual: result);
        Assert.False(store.BucketExists("b"));
        Assert.Empty(store.ListBuckets());
    }

    [Fact]
    public void DeleteBucket_Missing_NotFound()
    {
        // Arrange
        var store = _test.Store;
        store.CreateBucket("other", Manifests.Time);

        // Act
        var result = store.DeleteBucket("missing");

        // Assert
        Assert.Equal(expected: DeleteBucketResult.NotFound, actual: result);
        Assert.True(store.BucketExists("other"));
    }

    [Fact]
    public void CreateBucket_AfterDelete_CreatedAgain()
    {
        // Arrange
        var store = _test.Store;
        store.CreateBucket("b", Manifests.Time);
        store.DeleteBucket("b");

        // Act
        var created = store.CreateBucket("b", Manifests.Time.AddHours(1));

        // Assert
        Assert.True(created);
        Assert.Equal(expected: Manifests.Time.AddHours(1), actual: store.ListBuckets().Single().CreationDate);
    }
}
