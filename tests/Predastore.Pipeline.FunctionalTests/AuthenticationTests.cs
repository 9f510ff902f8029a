// Invariant: every request is authenticated with SigV4 (header or presigned); unsigned, mis-signed or expired
// requests get 403 with the S3 error code and change nothing.
using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace Predastore.Pipeline.FunctionalTests;

public sealed class AuthenticationTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IAsyncLifetime
{
    private readonly string _bucket = TestData.UniqueBucket("auth");

    private AmazonS3Client Client => fixture.Client;

    public async Task InitializeAsync()
    {
        await Client.PutBucketAsync(_bucket);
        await Client.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = "existing", ContentBody = "original" });
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Put_WrongSecret_SignatureDoesNotMatchAndNothingChanged()
    {
        using AmazonS3Client wrong = fixture.Server.CreateClient(secretKey: "not-the-secret");

        await TestData.ThrowsS3Async(
            () => wrong.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = "existing", ContentBody = "overwritten" }),
            "SignatureDoesNotMatch",
            HttpStatusCode.Forbidden);

        await AssertOriginalAsync();
    }

    [Fact]
    public async Task Get_UnknownAccessKey_InvalidAccessKeyId()
    {
        using AmazonS3Client stranger = fixture.Server.CreateClient(accessKey: "PSUNKNOWNKEY", secretKey: "whatever");

        await TestData.ThrowsS3Async(() => stranger.GetObjectAsync(_bucket, "existing"), "InvalidAccessKeyId", HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Anonymous_AnyRequest_AccessDenied()
    {
        using var http = new HttpClient();

        using HttpResponseMessage get = await http.GetAsync(new Uri(fixture.Server.Endpoint, $"/{_bucket}/existing"));
        using HttpResponseMessage put = await http.PutAsync(new Uri(fixture.Server.Endpoint, $"/{_bucket}/existing"), new StringContent("anonymous"));

        Assert.Equal(expected: HttpStatusCode.Forbidden, actual: get.StatusCode);
        Assert.Contains("<Code>AccessDenied</Code>", await get.Content.ReadAsStringAsync());
        Assert.Equal(expected: HttpStatusCode.Forbidden, actual: put.StatusCode);
        await AssertOriginalAsync();
    }

    [Fact]
    public async Task HeaderAuth_ClockSkewed_RequestTimeTooSkewed()
    {
        using var http = new HttpClient();
        using HttpRequestMessage request = RawS3.Signed(HttpMethod.Get, fixture.Server.Endpoint, $"/{_bucket}/existing", time: DateTimeOffset.UtcNow.AddHours(-1));

        using HttpResponseMessage response = await http.SendAsync(request);

        Assert.Equal(expected: HttpStatusCode.Forbidden, actual: response.StatusCode);
        Assert.Contains("<Code>RequestTimeTooSkewed</Code>", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Presigned_GetAndPut_Work()
    {
        using var http = new HttpClient();
        string put = Client.GetPreSignedURL(new GetPreSignedUrlRequest { BucketName = _bucket, Key = "presigned", Verb = HttpVerb.PUT, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP });
        string get = Client.GetPreSignedURL(new GetPreSignedUrlRequest { BucketName = _bucket, Key = "presigned", Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP });

        using HttpResponseMessage stored = await http.PutAsync(put, new ByteArrayContent("via presigned url"u8.ToArray()));
        string read = await http.GetStringAsync(get);

        Assert.Equal(expected: HttpStatusCode.OK, actual: stored.StatusCode);
        Assert.Equal(expected: "via presigned url", actual: read);
    }

    [Fact]
    public async Task Presigned_Expired_AccessDenied()
    {
        using var http = new HttpClient();
        string url = Client.GetPreSignedURL(new GetPreSignedUrlRequest { BucketName = _bucket, Key = "existing", Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddSeconds(1), Protocol = Protocol.HTTP });
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        using HttpResponseMessage response = await http.GetAsync(url);

        Assert.Equal(expected: HttpStatusCode.Forbidden, actual: response.StatusCode);
        Assert.Contains("<Code>AccessDenied</Code>", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Presigned_TamperedKey_SignatureDoesNotMatch()
    {
        using var http = new HttpClient();
        string url = Client.GetPreSignedURL(new GetPreSignedUrlRequest { BucketName = _bucket, Key = "existing", Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP });

        using HttpResponseMessage response = await http.GetAsync(url.Replace("/existing?", "/other?", StringComparison.Ordinal));

        Assert.Equal(expected: HttpStatusCode.Forbidden, actual: response.StatusCode);
        Assert.Contains("<Code>SignatureDoesNotMatch</Code>", await response.Content.ReadAsStringAsync());
    }

    private async Task AssertOriginalAsync()
    {
        using GetObjectResponse get = await Client.GetObjectAsync(_bucket, "existing");
        Assert.Equal(expected: "original", actual: await new StreamReader(get.ResponseStream).ReadToEndAsync());
    }
}
