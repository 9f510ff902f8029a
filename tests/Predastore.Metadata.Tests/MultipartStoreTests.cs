// Invariant: multipart state changes atomically: a replaced, unlisted or aborted part goes on the garbage list in
// the same transaction that unreferences it, completion commits the object over the parts' own extents and ends
// the upload (so a second completion or an abort finds nothing), and a deleted bucket takes its uploads with it.
using Predastore.Metadata;

namespace Predastore.Metadata.Tests;

public sealed class MultipartStoreTests : IDisposable
{
    private const long MinimumPart = 5;
    private readonly TestStore _test = new();

    public MultipartStoreTests() => _test.Store.CreateBucket("b", Manifests.Time);

    private MetadataStore Store => _test.Store;

    public void Dispose() => _test.Dispose();

    [Fact]
    public void CreateUpload_MissingBucket_FalseAndNothingStored()
    {
        Assert.False(Store.CreateUpload(Upload("u1", bucket: "missing")));
        Assert.Null(Store.GetUpload("missing", "k", "u1"));
    }

    [Fact]
    public void PutPart_SameNumberTwice_EarlierPartOnGarbageList()
    {
        Store.CreateUpload(Upload("u1"));
        PartInfo first = Part(1, size: 10);
        PartInfo second = Part(1, size: 20);

        Assert.True(Store.PutPart("b", "k", "u1", first));
        Assert.True(Store.PutPart("b", "k", "u1", second));

        Assert.Equal(expected: [second.DataId], actual: Store.ListParts("u1", 0, 10).Parts.Select(p => p.DataId));
        Assert.Equal(expected: [first.DataId], actual: _test.Reopen().PendingGarbage(10).Select(g => g.Extent.DataId));
    }

    [Fact]
    public void PutPart_UploadGone_FalseAndNothingStored()
    {
        Assert.False(Store.PutPart("b", "k", "never", Part(1)));
        Assert.Empty(Store.PendingGarbage(10));
    }

    [Fact]
    public void Complete_SubsetOfParts_ManifestOverPartExtentsAndRestOnGarbage()
    {
        Store.CreateUpload(Upload("u1"));
        PartInfo p1 = Part(1, size: 5);
        PartInfo p2 = Part(2, size: 6);
        PartInfo p3 = Part(3, size: 1);
        foreach (PartInfo part in new[] { p1, p2, p3 })
        {
            Store.PutPart("b", "k", "u1", part);
        }

        CompleteResult result = Store.CompleteUpload("b", "k", "u1", [Named(p1), Named(p3)], MinimumPart, Build);

        Assert.Equal(expected: CompleteStatus.Completed, actual: result.Status);
        ObjectManifest stored = _test.Reopen().GetObject("b", "k")!;
        Assert.Equal(expected: [p1.DataId, p3.DataId], actual: stored.Extents.Select(e => e.DataId));
        Assert.Equal(expected: [1, 3], actual: stored.Extents.Select(e => e.PartNumber));
        Assert.Equal(expected: [p2.DataId], actual: Store.PendingGarbage(10).Select(g => g.Extent.DataId));
        Assert.Null(Store.GetUpload("b", "k", "u1"));
        Assert.Equal(expected: CompleteStatus.NoSuchUpload, actual: Store.CompleteUpload("b", "k", "u1", [Named(p1)], MinimumPart, Build).Status);
        Assert.False(Store.AbortUpload("b", "k", "u1"));
    }

    [Fact]
    public void Complete_WrongETagOrUnknownPart_InvalidPartAndNothingChanged()
    {
        Store.CreateUpload(Upload("u1"));
        PartInfo p1 = Part(1, size: 5);
        Store.PutPart("b", "k", "u1", p1);

        CompleteResult wrongTag = Store.CompleteUpload("b", "k", "u1", [new CompletedPart(1, "\"other\"", null)], MinimumPart, Build);
        CompleteResult unknown = Store.CompleteUpload("b", "k", "u1", [Named(p1), new CompletedPart(2, "x", null)], MinimumPart, Build);

        Assert.Equal(expected: (CompleteStatus.InvalidPart, 1), actual: (wrongTag.Status, wrongTag.PartNumber));
        Assert.Equal(expected: (CompleteStatus.InvalidPart, 2), actual: (unknown.Status, unknown.PartNumber));
        Assert.NotNull(Store.GetUpload("b", "k", "u1"));
        Assert.Null(Store.GetObject("b", "k"));
    }

    [Fact]
    public void Complete_SmallPartBeforeLast_EntityTooSmall()
    {
        Store.CreateUpload(Upload("u1"));
        PartInfo small = Part(1, size: MinimumPart - 1);
        PartInfo last = Part(2, size: 1);
        Store.PutPart("b", "k", "u1", small);
        Store.PutPart("b", "k", "u1", last);

        CompleteResult result = Store.CompleteUpload("b", "k", "u1", [Named(small), Named(last)], MinimumPart, Build);

        Assert.Equal(expected: (CompleteStatus.EntityTooSmall, 1), actual: (result.Status, result.PartNumber));
    }

    [Fact]
    public void Abort_WithParts_AllOnGarbageAndUploadGone()
    {
        Store.CreateUpload(Upload("u1"));
        PartInfo p1 = Part(1);
        PartInfo p2 = Part(2);
        Store.PutPart("b", "k", "u1", p1);
        Store.PutPart("b", "k", "u1", p2);

        Assert.True(Store.AbortUpload("b", "k", "u1"));

        Assert.Equal(expected: new[] { p1.DataId, p2.DataId }.Order(), actual: Store.PendingGarbage(10).Select(g => g.Extent.DataId).Order());
        Assert.Equal(expected: ["k", "k"], actual: Store.PendingGarbage(10).Select(g => g.Key));
        Assert.Empty(Store.ListParts("u1", 0, 10).Parts);
    }

    [Fact]
    public void DeleteBucket_UploadsInProgress_AbortedWithTheBucket()
    {
        Store.CreateUpload(Upload("u1"));
        PartInfo p1 = Part(1);
        Store.PutPart("b", "k", "u1", p1);

        Assert.Equal(expected: DeleteBucketResult.Deleted, actual: Store.DeleteBucket("b"));

        Assert.Equal(expected: [p1.DataId], actual: Store.PendingGarbage(10).Select(g => g.Extent.DataId));
        Assert.Empty(Store.ListUploads(new ListUploadsRequest("b", null, null, null, null, 10)).Uploads);
    }

    [Fact]
    public void UploadsInitiatedBefore_Cutoff_OnlyOlderOnes()
    {
        Store.CreateUpload(Upload("old") with { Initiated = Manifests.Time });
        Store.CreateUpload(Upload("new") with { Initiated = Manifests.Time.AddDays(8) });

        IReadOnlyList<MultipartUpload> old = Store.UploadsInitiatedBefore(Manifests.Time.AddDays(1), 10);

        Assert.Equal(expected: ["old"], actual: old.Select(u => u.UploadId));
    }

    [Fact]
    public void ListUploads_KeyMarkerOnCommonPrefix_SkipsThatPrefix()
    {
        foreach ((string id, string key) in new[] { ("1", "a/x"), ("2", "a/y"), ("3", "b") })
        {
            Store.CreateUpload(Upload(id, key: key));
        }

        ListUploadsResult first = Store.ListUploads(new ListUploadsRequest("b", null, "/", null, null, 1));
        ListUploadsResult second = Store.ListUploads(new ListUploadsRequest("b", null, "/", first.NextKeyMarker, first.NextUploadIdMarker, 1));

        Assert.Equal(expected: ["a/"], actual: first.CommonPrefixes);
        Assert.True(first.IsTruncated);
        Assert.Equal(expected: ["b"], actual: second.Uploads.Select(u => u.Key));
        Assert.False(second.IsTruncated);
    }

    private static MultipartUpload Upload(string uploadId, string bucket = "b", string key = "k") => new()
    {
        UploadId = uploadId,
        Bucket = bucket,
        Key = key,
        Initiated = Manifests.Time,
        DataShards = 2,
        ParityShards = 1,
        BlockSize = 1 << 20,
    };

    private static PartInfo Part(int number, long size = 10) =>
        new(number, Guid.NewGuid(), size, Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()), Manifests.Time, null, [0, 1, 2]);

    private static CompletedPart Named(PartInfo part) => new(part.PartNumber, "\"" + part.ETag + "\"", null);

    private static ObjectManifest Build(MultipartUpload upload, IReadOnlyList<PartInfo> parts) => new()
    {
        Bucket = upload.Bucket,
        Key = upload.Key,
        Size = parts.Sum(p => p.Size),
        ETag = "multipart-" + parts.Count,
        LastModified = Manifests.Time,
        DataShards = upload.DataShards,
        ParityShards = upload.ParityShards,
        BlockSize = upload.BlockSize,
        Extents = [.. parts.Select(p => p.ToExtent())],
    };
}
