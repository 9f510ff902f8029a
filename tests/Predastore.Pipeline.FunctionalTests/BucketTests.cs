// Invariant: bucket operations through the AWS SDK behave as S3 does, and every bad request gets the S3 error
// and changes nothing.
using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace Predastore.Pipeline.FunctionalTests;

public sealed class BucketTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private AmazonS3Client Client => fixture.Client;

    [Fact]
    public async Task CreateBucket_New_IsListedAndHeadable()
    {
        // Arrange
        string bucket = TestData.UniqueBucket("create");

        // Act
        await Client.PutBucketAsync(bucket);
        ListBucketsResponse list = await Client.ListBucketsAsync();
        HeadBucketResponse head = await Client.HeadBucketAsync(new HeadBucketRequest { BucketName = bucket });

        // Assert
        S3Bucket listed = Assert.Single(list.Buckets, b => b.BucketName == bucket);
        Assert.InRange(listed.CreationDate!.Value.ToUniversalTime(), DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));
        Assert.Equal(expected: HttpStatusCode.OK, actual: head.HttpStatusCode);
    }

    [Fact]
    public async Task CreateBucket_Twice_BucketAlreadyOwnedByYou()
    {
        string bucket = TestData.UniqueBucket("twice");
        await Client.PutBucketAsync(bucket);

        await TestData.ThrowsS3Async(() => Client.PutBucketAsync(bucket), "BucketAlreadyOwnedByYou", HttpStatusCode.Conflict);
    }

    [Theory]
    [InlineData("Upper-Case")]
    [InlineData("under_score")]
    [InlineData("ab")]
    [InlineData("-leading-hyphen")]
    public async Task CreateBucket_InvalidName_InvalidBucketNameAndNothingCreated(string bucket)
    {
        using var http = new HttpClient();
        using HttpRequestMessage request = RawS3.Signed(HttpMethod.Put, fixture.Server.Endpoint, "/" + bucket);

        using HttpResponseMessage response = await http.SendAsync(request);

        Assert.Equal(expected: HttpStatusCode.BadRequest, actual: response.StatusCode);
        Assert.Contains("<Code>InvalidBucketName</Code>", await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain((await Client.ListBucketsAsync()).Buckets ?? [], b => b.BucketName == bucket);
    }

    [Fact]
    public async Task CreateBucket_MalformedXml_MalformedXMLAndNothingCreated()
    {
        string bucket = TestData.UniqueBucket("malformed");
        using var http = new HttpClient();
        using HttpRequestMessage request = RawS3.Signed(HttpMethod.Put, fixture.Server.Endpoint, "/" + bucket, new StringContent("<CreateBucketConfiguration><LocationConstraint>"));

        using HttpResponseMessage response = await http.SendAsync(request);

        Assert.Equal(expected: HttpStatusCode.BadRequest, actual: response.StatusCode);
        Assert.Contains("<Code>MalformedXML</Code>", await response.Content.ReadAsStringAsync());
        await TestData.ThrowsS3Async(() => Client.HeadBucketAsync(new HeadBucketRequest { BucketName = bucket }), null, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeleteBucket_Empty_IsGone()
    {
        string bucket = TestData.UniqueBucket("delete");
        await Client.PutBucketAsync(bucket);

        await Client.DeleteBucketAsync(bucket);

        await TestData.ThrowsS3Async(() => Client.HeadBucketAsync(new HeadBucketRequest { BucketName = bucket }), null, HttpStatusCode.NotFound);
        await TestData.ThrowsS3Async(() => Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket }), "NoSuchBucket", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeleteBucket_HoldsObjects_BucketNotEmptyAndObjectKept()
    {
        string bucket = TestData.UniqueBucket("notempty");
        await Client.PutBucketAsync(bucket);
        await Client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "k", ContentBody = "kept" });

        await TestData.ThrowsS3Async(() => Client.DeleteBucketAsync(bucket), "BucketNotEmpty", HttpStatusCode.Conflict);

        using GetObjectResponse get = await Client.GetObjectAsync(bucket, "k");
        Assert.Equal(expected: "kept", actual: await new StreamReader(get.ResponseStream).ReadToEndAsync());
    }

    [Fact]
    public async Task DeleteBucket_Missing_NoSuchBucket()
    {
        await TestData.ThrowsS3Async(() => Client.DeleteBucketAsync(TestData.UniqueBucket("missing")), "NoSuchBucket", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task PutObject_MissingBucket_NoSuchBucket()
    {
        await TestData.ThrowsS3Async(
            () => Client.PutObjectAsync(new PutObjectRequest { BucketName = TestData.UniqueBucket("nobucket"), Key = "k", ContentBody = "x" }),
            "NoSuchBucket",
            HttpStatusCode.NotFound);
    }
}
