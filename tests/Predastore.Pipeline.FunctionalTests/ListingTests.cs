// Invariant: ListObjectsV2 and ListObjects list exactly the stored keys in UTF-8 order, with prefixes,
// delimiters, pagination and URL encoding as S3 does, over a few thousand keys.
using Amazon.S3;
using Amazon.S3.Model;

namespace Predastore.Pipeline.FunctionalTests;

public sealed class ListingFixture : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    public string Bucket { get; } = TestData.UniqueBucket("listing");

    /// <summary>2,600 keys: four folders of 600, 200 top-level keys, a few with characters that need encoding.</summary>
    public SortedSet<string> Keys { get; } = new(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync();
        await Server.Client.PutBucketAsync(Bucket);
        foreach (string folder in new[] { "alpha", "beta", "gamma", "delta" })
        {
            for (int i = 0; i < 600; i++)
            {
                Keys.Add($"{folder}/{i:D4}.img");
            }
        }

        for (int i = 0; i < 200; i++)
        {
            Keys.Add($"top-{i:D3}");
        }

        Keys.UnionWith(["space key", "plus+key", "ünïcödé/ß", "percent%20key", "deep/a/b/c"]);

        // Eight at a time, as a client with a connection pool would.
        using var gate = new SemaphoreSlim(8);
        await Task.WhenAll(Keys.Select(async key =>
        {
            await gate.WaitAsync();
            try
            {
                await Server.Client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, ContentBody = key });
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class ListingTests(ListingFixture fixture) : IClassFixture<ListingFixture>
{
    private AmazonS3Client Client => fixture.Server.Client;

    [Fact]
    public async Task ListV2_PagesOf100_ConcatenationIsEveryKeyInOrder()
    {
        var listed = new List<string>();
        string? token = null;
        int pages = 0;
        do
        {
            ListObjectsV2Response page = await Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = fixture.Bucket, MaxKeys = 100, ContinuationToken = token });
            listed.AddRange(page.S3Objects.Select(o => o.Key));
            Assert.Equal(expected: page.S3Objects.Count, actual: page.KeyCount);
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
            pages++;
        }
        while (token is not null);

        Assert.Equal(expected: fixture.Keys.ToList(), actual: listed);
        Assert.Equal(expected: (fixture.Keys.Count + 99) / 100, actual: pages);
    }

    [Fact]
    public async Task ListV2_Delimiter_RollsFoldersIntoCommonPrefixes()
    {
        ListObjectsV2Response page = await Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = fixture.Bucket, Delimiter = "/" });

        Assert.Equal(expected: ["alpha/", "beta/", "deep/", "delta/", "gamma/", "ünïcödé/"], actual: page.CommonPrefixes.Order(StringComparer.Ordinal));
        Assert.Equal(
            expected: fixture.Keys.Where(k => !k.Contains('/')).ToList(),
            actual: page.S3Objects.Select(o => o.Key).ToList());
    }

    [Fact]
    public async Task ListV2_PrefixAndDelimiterPaged_CommonPrefixesCountOnce()
    {
        var prefixes = new List<string>();
        var keys = new List<string>();
        string? token = null;
        do
        {
            ListObjectsV2Response page = await Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = fixture.Bucket, Delimiter = "/", MaxKeys = 2, ContinuationToken = token });
            prefixes.AddRange(page.CommonPrefixes ?? []);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);

        Assert.Equal(expected: 6, actual: prefixes.Count);
        Assert.Equal(expected: prefixes.Distinct().Count(), actual: prefixes.Count);
        Assert.Equal(expected: 203, actual: keys.Count);
    }

    [Fact]
    public async Task ListV2_PrefixStartAfter_OnlyLaterKeysUnderPrefix()
    {
        ListObjectsV2Response page = await Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = fixture.Bucket, Prefix = "beta/", StartAfter = "beta/0589.img" });

        Assert.Equal(expected: Enumerable.Range(590, 10).Select(i => $"beta/{i:D4}.img"), actual: page.S3Objects.Select(o => o.Key));
        Assert.False(page.IsTruncated);
    }

    [Fact]
    public async Task ListV2_EncodingTypeUrl_KeysRoundTrip()
    {
        ListObjectsV2Response page = await Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = fixture.Bucket, Prefix = "p", Encoding = EncodingType.Url });

        // The SDK hands the encoded keys over as they came; decoding them gives the stored keys back.
        Assert.Equal(expected: ["percent%20key", "plus+key"], actual: page.S3Objects.Select(o => Uri.UnescapeDataString(o.Key)));
    }

    [Fact]
    public async Task ListV2_RawEncodingTypeUrl_EscapesSpecialCharacters()
    {
        using var http = new HttpClient();
        using HttpRequestMessage request = RawS3.Signed(HttpMethod.Get, fixture.Server.Endpoint, $"/{fixture.Bucket}?list-type=2&prefix=s&encoding-type=url");

        using HttpResponseMessage response = await http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        Assert.Contains("<Key>space%20key</Key>", body);
        Assert.Contains("<EncodingType>url</EncodingType>", body);
    }

    [Fact]
    public async Task ListV1_MarkerPagination_EveryKeyInOrder()
    {
        var listed = new List<string>();
        string? marker = null;
        ListObjectsResponse page;
        do
        {
            page = await Client.ListObjectsAsync(new ListObjectsRequest { BucketName = fixture.Bucket, MaxKeys = 500, Marker = marker });
            listed.AddRange(page.S3Objects.Select(o => o.Key));
            marker = listed[^1];
        }
        while (page.IsTruncated == true);

        Assert.Equal(expected: fixture.Keys.ToList(), actual: listed);
    }

    [Fact]
    public async Task ListV1_DelimiterTruncated_NextMarkerSkipsFolder()
    {
        ListObjectsResponse first = await Client.ListObjectsAsync(new ListObjectsRequest { BucketName = fixture.Bucket, Delimiter = "/", MaxKeys = 1 });
        ListObjectsResponse second = await Client.ListObjectsAsync(new ListObjectsRequest { BucketName = fixture.Bucket, Delimiter = "/", MaxKeys = 1, Marker = first.NextMarker });

        Assert.Equal(expected: ["alpha/"], actual: first.CommonPrefixes);
        Assert.Equal(expected: "alpha/", actual: first.NextMarker);
        Assert.Equal(expected: ["beta/"], actual: second.CommonPrefixes);
    }
}
