// Invariants 3 and 7: every part is placed by the final object's hash, and completion commits a manifest over
// the parts' extents without moving data; a multipart object reads back whole, by range across part boundaries
// and by part number; every bad completion gets its S3 error and changes nothing.
using System.IO.Hashing;
using System.Net;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.S3.Transfer;
using Predastore.Metadata;
using Predastore.Transport;
using Predastore.Wal;

namespace Predastore.Pipeline.FunctionalTests;

public sealed class MultipartTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IAsyncLifetime
{
    private const int MiB = 1024 * 1024;
    private readonly string _bucket = TestData.UniqueBucket("multipart");

    private AmazonS3Client Client => fixture.Client;

    public Task InitializeAsync() => Client.PutBucketAsync(_bucket);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Complete_ThreeParts_ReadsBackWholeByRangeAndByPart()
    {
        // Arrange
        byte[][] parts = [TestData.Random(5 * MiB, 1), TestData.Random(5 * MiB, 2), TestData.Random(MiB + 3, 3)];
        byte[] whole = [.. parts.SelectMany(p => p)];

        // Act
        (string uploadId, List<PartETag> etags) = await UploadPartsAsync("three", parts);
        CompleteMultipartUploadResponse complete = await Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = _bucket,
            Key = "three",
            UploadId = uploadId,
            PartETags = etags,
        });

        // Assert: S3's multipart ETag, whole object, a range across both part boundaries, each part.
        byte[] md5s = [.. parts.SelectMany(MD5.HashData)];
        Assert.Equal(expected: $"\"{Convert.ToHexStringLower(MD5.HashData(md5s))}-3\"", actual: complete.ETag);
        Assert.True(TestData.Same(whole, await GetAsync("three", null)));
        Assert.True(TestData.Same(whole.AsMemory((5 * MiB) - 10, (5 * MiB) + 20), await GetAsync("three", new ByteRange((5 * MiB) - 10, (10 * MiB) + 9))));
        for (int part = 1; part <= 3; part++)
        {
            using GetObjectResponse get = await Client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = "three", PartNumber = part });
            Assert.True(TestData.Same(parts[part - 1], await TestData.ReadAllAsync(get.ResponseStream)), $"part {part} differs");
            Assert.Equal(expected: 3, actual: get.PartsCount);
        }

        await TestData.ThrowsS3Async(
            () => Client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = "three", PartNumber = 4 }),
            "InvalidPartNumber",
            HttpStatusCode.RequestedRangeNotSatisfiable);
    }

    [Fact]
    public async Task GetByPartNumber_EmptyLastPart_NoBytesNotTheWholeObject()
    {
        // Arrange: a 5 MiB part and an empty last part (streaming uploaders flush one)
        byte[][] parts = [TestData.Random(5 * MiB, 11), []];
        (string uploadId, List<PartETag> etags) = await UploadPartsAsync("empty-last", parts);
        await Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = _bucket, Key = "empty-last", UploadId = uploadId, PartETags = etags });

        // Act
        using GetObjectResponse get = await Client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = "empty-last", PartNumber = 2 });
        GetObjectMetadataResponse head = await Client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = "empty-last", PartNumber = 2 });

        // Assert
        Assert.Empty(await TestData.ReadAllAsync(get.ResponseStream));
        Assert.Equal(expected: 0, actual: get.ContentLength);
        Assert.Equal(expected: 0, actual: head.ContentLength);
        Assert.Equal(expected: 2, actual: get.PartsCount);
    }

    [Fact]
    public async Task TransferUtility_UploadAndDownload_ByteIdentical()
    {
        byte[] content = TestData.Random((23 * MiB) + 12345, 4);
        using var transfer = new TransferUtility(Client);

        await transfer.UploadAsync(new TransferUtilityUploadRequest { BucketName = _bucket, Key = "transfer/image.img", InputStream = new MemoryStream(content), PartSize = 5 * MiB });
        string downloaded = Path.Combine(Path.GetTempPath(), $"predastore-{Guid.NewGuid():N}.img");
        try
        {
            await transfer.DownloadAsync(new TransferUtilityDownloadRequest { BucketName = _bucket, Key = "transfer/image.img", FilePath = downloaded });

            Assert.True(content.AsSpan().SequenceEqual(File.ReadAllBytes(downloaded)));
        }
        finally
        {
            File.Delete(downloaded);
        }

        GetObjectMetadataResponse head = await Client.GetObjectMetadataAsync(_bucket, "transfer/image.img");
        Assert.EndsWith("-5\"", head.ETag, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UploadPart_PlacedByFinalObjectHash_AndCompletionMovesNoData()
    {
        // Invariant 3: the part's shards sit under SHA-256(bucket/key) ‖ part data id ‖ i on the nodes the ring
        // places that hash on, before completion; invariant 7: the manifest then references those same shards.
        (string uploadId, List<PartETag> etags) = await UploadPartsAsync("placed/disk.img", [TestData.Random(5 * MiB, 5), TestData.Random(MiB, 6)]);
        byte[] objectHash = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{_bucket}/placed/disk.img"));
        int[] expectedPlacement = fixture.Server.Server.Cluster.Place(objectHash);
        ListPartsResult parts = fixture.Server.Server.Metadata.ListParts(uploadId, 0, 10);
        foreach (PartInfo part in parts.Parts)
        {
            Assert.Equal(expected: expectedPlacement, actual: part.Placement);
            for (int shard = 0; shard < expectedPlacement.Length; shard++)
            {
                var key = new ShardKey(objectHash, part.DataId.ToByteArray(bigEndian: true), (uint)shard);
                IShardNode node = fixture.Server.Server.Cluster.Nodes[expectedPlacement[shard]];
                Assert.NotNull(await node.StatAsync(key));
            }
        }

        await Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = _bucket, Key = "placed/disk.img", UploadId = uploadId, PartETags = etags });

        ObjectManifest manifest = fixture.Server.Server.Metadata.GetObject(_bucket, "placed/disk.img")!;
        Assert.Equal(expected: parts.Parts.Select(p => p.DataId), actual: manifest.Extents.Select(e => e.DataId));
        Assert.Equal(expected: [1, 2], actual: manifest.Extents.Select(e => e.PartNumber));
    }

    [Fact]
    public async Task UploadPart_SameNumberTwice_LaterPartWinsAndEarlierShardsDeleted()
    {
        int before = await fixture.Server.CountShardsAsync();
        InitiateMultipartUploadResponse upload = await Client.InitiateMultipartUploadAsync(_bucket, "replaced");
        await UploadPartAsync("replaced", upload.UploadId, 1, TestData.Random(MiB, 7));
        UploadPartResponse second = await UploadPartAsync("replaced", upload.UploadId, 1, TestData.Random(MiB, 8));

        Assert.Equal(expected: before + 3, actual: await fixture.Server.CountShardsAsync());
        await Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = _bucket,
            Key = "replaced",
            UploadId = upload.UploadId,
            PartETags = [new PartETag(1, second.ETag)],
        });
        Assert.True(TestData.Same(TestData.Random(MiB, 8), await GetAsync("replaced", null)));
    }

    [Fact]
    public async Task Complete_SubsetOfParts_UnlistedPartsDeleted()
    {
        int before = await fixture.Server.CountShardsAsync();
        byte[][] parts = [TestData.Random(5 * MiB, 9), TestData.Random(5 * MiB, 10), TestData.Random(100, 11)];
        (string uploadId, List<PartETag> etags) = await UploadPartsAsync("subset", parts);

        await Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = _bucket, Key = "subset", UploadId = uploadId, PartETags = [etags[0], etags[2]] });

        Assert.True(TestData.Same((byte[])[.. parts[0], .. parts[2]], await GetAsync("subset", null)));
        Assert.Equal(expected: before + 6, actual: await fixture.Server.CountShardsAsync());
    }

    [Fact]
    public async Task Abort_InProgress_PartsDeletedAndUploadGone()
    {
        int before = await fixture.Server.CountShardsAsync();
        (string uploadId, _) = await UploadPartsAsync("aborted", [TestData.Random(MiB, 12), TestData.Random(MiB, 13)]);

        await Client.AbortMultipartUploadAsync(_bucket, "aborted", uploadId);

        Assert.Equal(expected: before, actual: await fixture.Server.CountShardsAsync());
        await TestData.ThrowsS3Async(() => Client.ListPartsAsync(_bucket, "aborted", uploadId), "NoSuchUpload", HttpStatusCode.NotFound);
        await TestData.ThrowsS3Async(() => Client.AbortMultipartUploadAsync(_bucket, "aborted", uploadId), "NoSuchUpload", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Complete_BadPartLists_S3ErrorsAndUploadStillCompletable()
    {
        byte[][] parts = [TestData.Random(MiB, 14), TestData.Random(MiB, 15)];
        (string uploadId, List<PartETag> etags) = await UploadPartsAsync("errors", parts);

        Task Complete(List<PartETag> list) =>
            Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = _bucket, Key = "errors", UploadId = uploadId, PartETags = list });

        await TestData.ThrowsS3Async(() => Complete([new PartETag(1, "\"00000000000000000000000000000000\""), etags[1]]), "InvalidPart", HttpStatusCode.BadRequest);
        await TestData.ThrowsS3Async(() => Complete([etags[0], new PartETag(7, etags[1].ETag)]), "InvalidPart", HttpStatusCode.BadRequest);
        await TestData.ThrowsS3Async(() => Complete(etags), "EntityTooSmall", HttpStatusCode.BadRequest);
        await TestData.ThrowsS3Async(
            () => Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = _bucket, Key = "errors", UploadId = "0123abcd", PartETags = etags }),
            "NoSuchUpload",
            HttpStatusCode.NotFound);
        await TestData.ThrowsS3Async(() => Client.GetObjectAsync(_bucket, "errors"), "NoSuchKey", HttpStatusCode.NotFound);

        // The failed completions changed nothing: the single last part is a valid completion.
        await Complete([etags[1]]);
        Assert.True(TestData.Same(parts[1], await GetAsync("errors", null)));
    }

    [Fact]
    public async Task Complete_PartsOutOfOrder_InvalidPartOrder()
    {
        (string uploadId, List<PartETag> etags) = await UploadPartsAsync("order", [TestData.Random(5 * MiB, 16), TestData.Random(10, 17)]);
        string document = $"<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>{etags[1].ETag}</ETag></Part><Part><PartNumber>1</PartNumber><ETag>{etags[0].ETag}</ETag></Part></CompleteMultipartUpload>";
        using var http = new HttpClient();

        using HttpResponseMessage response = await http.SendAsync(RawS3.Signed(HttpMethod.Post, fixture.Server.Endpoint, $"/{_bucket}/order?uploadId={uploadId}", new StringContent(document)));
        using HttpResponseMessage malformed = await http.SendAsync(RawS3.Signed(HttpMethod.Post, fixture.Server.Endpoint, $"/{_bucket}/order?uploadId={uploadId}", new StringContent("<CompleteMultipartUpload><Part>")));

        Assert.Equal(expected: HttpStatusCode.BadRequest, actual: response.StatusCode);
        Assert.Contains("<Code>InvalidPartOrder</Code>", await response.Content.ReadAsStringAsync());
        Assert.Contains("<Code>MalformedXML</Code>", await malformed.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10001)]
    public async Task UploadPart_NumberOutOfRange_InvalidArgument(int partNumber)
    {
        InitiateMultipartUploadResponse upload = await Client.InitiateMultipartUploadAsync(_bucket, "range");

        await TestData.ThrowsS3Async(() => UploadPartAsync("range", upload.UploadId, partNumber, [1, 2, 3]), "InvalidArgument", HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ListParts_Paged_EveryPartOnce()
    {
        InitiateMultipartUploadResponse upload = await Client.InitiateMultipartUploadAsync(_bucket, "listparts");
        foreach (int number in new[] { 1, 2, 4, 7, 9 })
        {
            await UploadPartAsync("listparts", upload.UploadId, number, TestData.Random(100 + number, number));
        }

        var seen = new List<int>();
        int? marker = null;
        ListPartsResponse page;
        do
        {
            page = await Client.ListPartsAsync(new ListPartsRequest { BucketName = _bucket, Key = "listparts", UploadId = upload.UploadId, MaxParts = 2, PartNumberMarker = marker?.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            seen.AddRange(page.Parts.Select(p => p.PartNumber!.Value));
            Assert.All(page.Parts, p => Assert.Equal(expected: 100 + p.PartNumber, actual: p.Size));
            marker = page.NextPartNumberMarker;
        }
        while (page.IsTruncated == true);

        Assert.Equal(expected: [1, 2, 4, 7, 9], actual: seen);
    }

    [Fact]
    public async Task ListMultipartUploads_PrefixDelimiterAndPaging_AsS3()
    {
        string bucket = TestData.UniqueBucket("uploads");
        await Client.PutBucketAsync(bucket);
        var ids = new List<(string Key, string UploadId)>();
        foreach (string key in new[] { "a/1", "a/2", "b", "b", "c/x/y", "d" })
        {
            ids.Add((key, (await Client.InitiateMultipartUploadAsync(bucket, key)).UploadId));
        }

        ListMultipartUploadsResponse rolled = await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket, Delimiter = "/" });
        Assert.Equal(expected: ["a/", "c/"], actual: rolled.CommonPrefixes);
        Assert.Equal(expected: ["b", "b", "d"], actual: rolled.MultipartUploads.Select(u => u.Key));

        var paged = new List<(string, string)>();
        string? keyMarker = null;
        string? idMarker = null;
        ListMultipartUploadsResponse page;
        do
        {
            page = await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket, MaxUploads = 2, KeyMarker = keyMarker, UploadIdMarker = idMarker });
            paged.AddRange(page.MultipartUploads.Select(u => (u.Key, u.UploadId)));
            keyMarker = page.NextKeyMarker;
            idMarker = page.NextUploadIdMarker;
        }
        while (page.IsTruncated == true);

        Assert.Equal(expected: ids, actual: paged);
        ListMultipartUploadsResponse prefixed = await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket, Prefix = "a/" });
        Assert.Equal(expected: ["a/1", "a/2"], actual: prefixed.MultipartUploads.Select(u => u.Key));
    }

    [Fact]
    public async Task UploadPartCopy_Ranges_CopiesSourceBytes()
    {
        byte[] source = TestData.Random((11 * MiB) + 7, 18);
        await Client.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = "copy/source", InputStream = new MemoryStream(source) });
        InitiateMultipartUploadResponse upload = await Client.InitiateMultipartUploadAsync(_bucket, "copy/target");

        CopyPartResponse first = await Client.CopyPartAsync(new CopyPartRequest
        {
            SourceBucket = _bucket, SourceKey = "copy/source", DestinationBucket = _bucket, DestinationKey = "copy/target",
            UploadId = upload.UploadId, PartNumber = 1, FirstByte = 0, LastByte = (6 * MiB) - 1,
        });
        CopyPartResponse second = await Client.CopyPartAsync(new CopyPartRequest
        {
            SourceBucket = _bucket, SourceKey = "copy/source", DestinationBucket = _bucket, DestinationKey = "copy/target",
            UploadId = upload.UploadId, PartNumber = 2, FirstByte = 6 * MiB, LastByte = source.Length - 1,
        });
        await Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = _bucket,
            Key = "copy/target",
            UploadId = upload.UploadId,
            PartETags = [new PartETag(1, first.ETag), new PartETag(2, second.ETag)],
        });

        Assert.True(TestData.Same(source, await GetAsync("copy/target", null)));
        await TestData.ThrowsS3Async(
            () => Client.CopyPartAsync(new CopyPartRequest
            {
                SourceBucket = _bucket, SourceKey = "copy/source", DestinationBucket = _bucket, DestinationKey = "copy/target2",
                UploadId = upload.UploadId, PartNumber = 1, FirstByte = 0, LastByte = source.Length,
            }),
            null,
            HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task CompleteAndAbort_Racing_OneWinnerAndNeverAPartialObject()
    {
        for (int round = 0; round < 6; round++)
        {
            string key = $"race/{round}";
            byte[][] parts = [TestData.Random(5 * MiB, round), TestData.Random(1000, round + 100)];
            (string uploadId, List<PartETag> etags) = await UploadPartsAsync(key, parts);

            Task complete = Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = uploadId, PartETags = etags });
            Task abort = Client.AbortMultipartUploadAsync(_bucket, key, uploadId);
            Task again = Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = uploadId, PartETags = etags });
            Task[] all = [complete, abort, again];
            await Task.WhenAll(all).ContinueWith(_ => { }, TaskScheduler.Default);

            Assert.Equal(expected: 1, actual: all.Count(t => t.IsCompletedSuccessfully));
            foreach (Task loser in all.Where(t => t.IsFaulted))
            {
                Assert.Equal(expected: "NoSuchUpload", actual: Assert.IsAssignableFrom<AmazonS3Exception>(loser.Exception!.InnerException).ErrorCode);
            }

            if (!abort.IsCompletedSuccessfully)
            {
                Assert.True(TestData.Same((byte[])[.. parts[0], .. parts[1]], await GetAsync(key, null)), $"round {round}: the completed object differs");
            }
            else
            {
                await TestData.ThrowsS3Async(() => Client.GetObjectAsync(_bucket, key), "NoSuchKey", HttpStatusCode.NotFound);
            }
        }
    }

    [Fact]
    public async Task Checksums_CompositeCrc32AndFullObjectCrc32c_ComputedFromParts()
    {
        byte[][] parts = [TestData.Random(5 * MiB, 19), TestData.Random(777, 20)];

        // COMPOSITE CRC32: the SDK sends each part's CRC32 as a trailer.
        InitiateMultipartUploadResponse composite = await Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _bucket, Key = "crc/composite", ChecksumAlgorithm = ChecksumAlgorithm.CRC32 });
        var compositeParts = new List<PartETag>();
        for (int i = 0; i < parts.Length; i++)
        {
            UploadPartResponse part = await Client.UploadPartAsync(new UploadPartRequest { BucketName = _bucket, Key = "crc/composite", UploadId = composite.UploadId, PartNumber = i + 1, InputStream = new MemoryStream(parts[i]), ChecksumAlgorithm = ChecksumAlgorithm.CRC32 });
            compositeParts.Add(new PartETag(i + 1, part.ETag) { ChecksumCRC32 = part.ChecksumCRC32 });
        }

        CompleteMultipartUploadResponse compositeDone = await Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = _bucket, Key = "crc/composite", UploadId = composite.UploadId, PartETags = compositeParts });

        byte[] partCrcs = [.. parts.SelectMany(p => BigEndian(Crc32.HashToUInt32(p)))];
        Assert.Equal(expected: Convert.ToBase64String(BigEndian(Crc32.HashToUInt32(partCrcs))) + "-2", actual: compositeDone.ChecksumCRC32);

        // FULL_OBJECT CRC32C: part checksums computed here and sent as headers; the object's is the CRC of it all.
        InitiateMultipartUploadResponse full = await Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _bucket, Key = "crc/full", ChecksumAlgorithm = ChecksumAlgorithm.CRC32C, ChecksumType = ChecksumType.FULL_OBJECT });
        var fullParts = new List<PartETag>();
        for (int i = 0; i < parts.Length; i++)
        {
            string crc = Convert.ToBase64String(BigEndian(Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, parts[i])));
            UploadPartResponse part = await Client.UploadPartAsync(new UploadPartRequest { BucketName = _bucket, Key = "crc/full", UploadId = full.UploadId, PartNumber = i + 1, InputStream = new MemoryStream(parts[i]), ChecksumCRC32C = crc });
            fullParts.Add(new PartETag(i + 1, part.ETag));
        }

        await Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = _bucket, Key = "crc/full", UploadId = full.UploadId, PartETags = fullParts });
        using GetObjectResponse get = await Client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = "crc/full", ChecksumMode = ChecksumMode.ENABLED });

        byte[] whole = [.. parts.SelectMany(p => p)];
        Assert.Equal(expected: Convert.ToBase64String(BigEndian(Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, whole))), actual: get.ChecksumCRC32C);
        Assert.True(TestData.Same(whole, await TestData.ReadAllAsync(get.ResponseStream)));
    }

    [Fact]
    public async Task AbandonedUpload_OlderThanAbortAge_AbortedAndPartsDeleted()
    {
        await using TestServer server = await TestServer.StartAsync(abortIncompleteUploadsAfter: TimeSpan.FromSeconds(1));
        await server.Client.PutBucketAsync("abandoned");
        InitiateMultipartUploadResponse upload = await server.Client.InitiateMultipartUploadAsync("abandoned", "left-alone");
        await server.Client.UploadPartAsync(new UploadPartRequest { BucketName = "abandoned", Key = "left-alone", UploadId = upload.UploadId, PartNumber = 1, InputStream = new MemoryStream(TestData.Random(MiB, 21)) });
        Assert.Equal(expected: 3, actual: await server.CountShardsAsync());

        // The gateway's own maintenance finds it (it runs every quarter of the abort age, at least every second).
        DateTime deadline = DateTime.UtcNow.AddSeconds(20);
        while (await server.CountShardsAsync() != 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Equal(expected: 0, actual: await server.CountShardsAsync());
        await TestData.ThrowsS3Async(() => server.Client.ListPartsAsync("abandoned", "left-alone", upload.UploadId), "NoSuchUpload", HttpStatusCode.NotFound);
        Assert.Equal(expected: 0, actual: await server.Server.Gateway.AbortAbandonedUploadsAsync());
    }

    [Fact]
    public async Task UploadPart_AfterRestartWithAnotherBlockSize_RefusedAndEarlierPartsStillComplete()
    {
        // Arrange: part 1 uploaded with 1 MiB blocks; the gateway restarts with 256 KiB blocks
        await using TestServer server = await TestServer.StartAsync();
        await server.Client.PutBucketAsync("relayout");
        byte[] first = TestData.Random((5 * MiB) + 3, 41);
        InitiateMultipartUploadResponse upload = await server.Client.InitiateMultipartUploadAsync("relayout", "image");
        UploadPartResponse part1 = await server.Client.UploadPartAsync(new UploadPartRequest { BucketName = "relayout", Key = "image", UploadId = upload.UploadId, PartNumber = 1, InputStream = new MemoryStream(first) });
        await server.RestartAsync(blockSize: 256 * 1024);
        int shards = await server.CountShardsAsync();

        // Act: a part cut into 256 KiB blocks would be read back as 1 MiB ones
        Task second = server.Client.UploadPartAsync(new UploadPartRequest { BucketName = "relayout", Key = "image", UploadId = upload.UploadId, PartNumber = 2, InputStream = new MemoryStream(TestData.Random(3 * MiB, 42)) });

        // Assert: refused, nothing stored; the parts from before complete into an object that reads back whole
        await TestData.ThrowsS3Async(() => second, "InvalidRequest", HttpStatusCode.BadRequest);
        Assert.Equal(expected: shards, actual: await server.CountShardsAsync());
        await server.Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = "relayout", Key = "image", UploadId = upload.UploadId, PartETags = [new PartETag(1, part1.ETag)] });
        using GetObjectResponse get = await server.Client.GetObjectAsync("relayout", "image");
        Assert.True(TestData.Same(first, await TestData.ReadAllAsync(get.ResponseStream)), "the completed object does not read back as uploaded");
    }

    private async Task<(string UploadId, List<PartETag> ETags)> UploadPartsAsync(string key, byte[][] parts)
    {
        InitiateMultipartUploadResponse upload = await Client.InitiateMultipartUploadAsync(_bucket, key);
        var etags = new List<PartETag>();
        for (int i = 0; i < parts.Length; i++)
        {
            UploadPartResponse response = await UploadPartAsync(key, upload.UploadId, i + 1, parts[i]);
            etags.Add(new PartETag(i + 1, response.ETag));
        }

        return (upload.UploadId, etags);
    }

    private Task<UploadPartResponse> UploadPartAsync(string key, string uploadId, int partNumber, byte[] content) =>
        Client.UploadPartAsync(new UploadPartRequest { BucketName = _bucket, Key = key, UploadId = uploadId, PartNumber = partNumber, InputStream = new MemoryStream(content) });

    private async Task<byte[]> GetAsync(string key, ByteRange? range)
    {
        using GetObjectResponse get = await Client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = key, ByteRange = range });
        return await TestData.ReadAllAsync(get.ResponseStream);
    }

    private static byte[] BigEndian(uint value)
    {
        var bytes = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }
}
