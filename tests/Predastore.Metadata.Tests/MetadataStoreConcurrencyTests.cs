// Invariant: concurrent requests are safe: parallel puts of different keys are all visible; parallel overwrites of
// one key leave one live manifest and every other extent on the garbage list exactly once; a reader never sees a
// half-written manifest.
using Predastore.Metadata;

namespace Predastore.Metadata.Tests;

public sealed class MetadataStoreConcurrencyTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly TestStore _test = new();

    public MetadataStoreConcurrencyTests() => _test.Store.CreateBucket("b", Manifests.Time);

    public void Dispose() => _test.Dispose();

    [Fact]
    public async Task PutObject_ParallelDifferentKeys_AllVisible()
    {
        // Arrange
        const int Writers = 8;
        const int PerWriter = 20;

        // Act
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < PerWriter; i++)
            {
                Assert.True(_test.Store.PutObject(Manifests.Create("b", $"w{w}/k{i:D2}")));
            }
        }));
        await Task.WhenAll(writers).WaitAsync(s_timeout);

        // Assert
        var listed = _test.Store.ListObjects(new ListObjectsRequest("b", null, null, null, 1000));
        Assert.Equal(expected: Writers * PerWriter, actual: listed.Objects.Count);
        Assert.False(listed.IsTruncated);
        Assert.All(Enumerable.Range(0, Writers), w => Assert.NotNull(_test.Store.GetObject("b", $"w{w}/k{PerWriter - 1:D2}")));
    }

    [Fact]
    public async Task PutObject_ParallelOverwritesOfOneKey_EveryReplacedExtentOnGarbageOnce()
    {
        // Arrange
        const int Writers = 6;
        const int PerWriter = 8;
        var written = new System.Collections.Concurrent.ConcurrentBag<Guid>();

        // Act
        var writers = Enumerable.Range(0, Writers).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < PerWriter; i++)
            {
                var dataId = Guid.NewGuid();
                written.Add(dataId);
                _test.Store.PutObject(Manifests.Create("b", "hot", dataId: dataId));
            }
        }));
        await Task.WhenAll(writers).WaitAsync(s_timeout);

        // Assert
        var live = Assert.Single(_test.Store.GetObject("b", "hot")!.Extents).DataId;
        var garbage = _test.Store.PendingGarbage(1000).Select(g => g.Extent.DataId).ToList();
        Assert.Equal(expected: Writers * PerWriter - 1, actual: garbage.Count);
        Assert.Equal(expected: written.Where(id => id != live).Order(), actual: garbage.Order());
    }

    [Fact]
    public async Task GetObject_WhileOverwriting_AlwaysWholeManifest()
    {
        // Arrange: manifests of 1..4 extents whose sizes add up to Size and whose ETag names the extent count.
        _test.Store.PutObject(Shaped(1));
        using var stop = new CancellationTokenSource();

        // Act
        var writer = Task.Run(() =>
        {
            for (var i = 0; i < 40; i++)
            {
                _test.Store.PutObject(Shaped(1 + (i % 4)));
            }

            stop.Cancel();
        });
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            var reads = 0;
            while (!stop.IsCancellationRequested || reads == 0)
            {
                var manifest = _test.Store.GetObject("b", "k")!;
                Assert.Equal(expected: manifest.Extents.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), actual: manifest.ETag);
                Assert.Equal(expected: manifest.Size, actual: manifest.Extents.Sum(e => e.Size));
                var listed = Assert.Single(_test.Store.ListObjects(new ListObjectsRequest("b", null, null, null, 10)).Objects);
                Assert.Equal(expected: listed.Extents.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), actual: listed.ETag);
                reads++;
            }

            return reads;
        })).ToList();
        await writer.WaitAsync(s_timeout);
        var reads = await Task.WhenAll(readers).WaitAsync(s_timeout);

        // Assert
        Assert.All(reads, r => Assert.True(r > 0));
    }

    private static ObjectManifest Shaped(int extentCount) => Manifests.Create("b", "k") with
    {
        ETag = extentCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Size = 10 * extentCount,
        Extents = Enumerable.Range(0, extentCount).Select(_ => new Extent(Guid.NewGuid(), 10, [0, 1, 2])).ToList(),
    };
}
