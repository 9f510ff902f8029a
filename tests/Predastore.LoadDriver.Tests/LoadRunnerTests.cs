// Invariant: the load driver's report counts exactly the operations it ran (one per operation, bytes = sizes),
// every read is verified against the content it wrote (a corrupted byte is an error, never a success), and the
// driver leaves nothing behind: every object and upload it created is deleted, and a bucket it created is removed.
using System.Net;
using System.Text.Json;

namespace Predastore.LoadDriver.Tests;

public sealed class LoadRunnerTests : IClassFixture<ServerFixture>, IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly InProcessServer _server;
    private readonly string _reports = Directory.CreateTempSubdirectory("predastore-loadreport-").FullName;

    public LoadRunnerTests(ServerFixture fixture) => _server = fixture.Server;

    public void Dispose() => Directory.Delete(_reports, recursive: true);

    [Theory]
    [InlineData("put", "PUT", 64 * 1024)]
    [InlineData("get", "GET", 64 * 1024)]
    [InlineData("range", "RANGE", 16 * 1024)]
    [InlineData("multipart", "MPU", 6 * 1024 * 1024)]
    public async Task Run_ByCount_ReportCountsEveryOperationOnce(string workload, string operation, int bytesPerOperation)
    {
        // Arrange
        DriverOptions options = Options(workload, "--count", "12", "--size", workload == "multipart" ? "6MiB" : "64KiB", "--range-size", "16KiB", "--part-size", "5MiB");

        // Act
        LoadReport report = await new LoadRunner(options, progress: null).RunAsync().WaitAsync(s_timeout);

        // Assert
        OperationSummary result = report.Results.Single(r => r.Operation == operation);
        Assert.Equal(expected: 12, actual: result.Count);
        Assert.Equal(expected: 0, actual: report.Errors);
        Assert.Equal(expected: 12L * bytesPerOperation, actual: result.Bytes);
        Assert.Equal(expected: 12, actual: report.Operations);
        if (workload == "multipart")
        {
            Assert.Equal(expected: 24, actual: report.Results.Single(r => r.Operation == LoadRunner.Part).Count);
        }

        LoadReport written = LoadReport.Read(options.JsonPath);
        Assert.Equal(expected: 12, actual: written.Results.Single(r => r.Operation == operation).Count);
        Assert.Equal(expected: report.Timeline.Sum(p => p.Ops), actual: written.Timeline.Sum(p => p.Ops));
        Assert.Equal(expected: 12, actual: written.Timeline.Where(p => p.Operation == operation).Sum(p => p.Ops));
    }

    [Fact]
    public async Task Run_Report_JsonAndSelfContainedHtmlWithCharts()
    {
        // Arrange
        DriverOptions options = Options("mixed", "--duration", "2s", "--size", "16KiB..256KiB", "--interval", "500ms");

        // Act
        LoadReport report = await new LoadRunner(options, progress: null).RunAsync().WaitAsync(s_timeout);

        // Assert
        Assert.Equal(expected: 0, actual: report.Errors);
        Assert.True(report.Operations > 0, "no operation ran in 2 s");
        using JsonDocument json = JsonDocument.Parse(await File.ReadAllTextAsync(options.JsonPath).WaitAsync(s_timeout));
        Assert.Equal(expected: report.Operations, actual: json.RootElement.GetProperty("operations").GetInt64());
        foreach (string field in new[] { "p50Ms", "p90Ms", "p99Ms", "maxMs", "megabytesPerSecond", "opsPerSecond" })
        {
            Assert.True(json.RootElement.GetProperty("results")[0].TryGetProperty(field, out _), field);
        }

        string html = await File.ReadAllTextAsync(options.HtmlPath).WaitAsync(s_timeout);
        Assert.Equal(expected: 2, actual: html.Split("<svg").Length - 1);
        Assert.Contains("<polyline", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script src", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<link", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("get")]
    [InlineData("range")]
    public async Task Run_CorruptedRead_CountedAsVerificationError(string workload)
    {
        // Arrange: every third GET response has one byte flipped on its way to the driver.
        DriverOptions options = Options(workload, "--count", "9", "--clients", "1", "--size", "64KiB", "--range-size", "8KiB");
        using var corrupting = new CorruptingHandler(every: 3);

        // Act
        LoadReport report = await new LoadRunner(options, progress: null, corrupting).RunAsync().WaitAsync(s_timeout);

        // Assert
        OperationSummary result = report.Results.Single();
        Assert.Equal(expected: 3, actual: corrupting.Corrupted);
        Assert.Equal(expected: 3, actual: report.VerifyFailures);
        Assert.Equal(expected: 3, actual: result.Errors);
        Assert.Equal(expected: 6, actual: result.Count);
        Assert.Contains(report.ErrorMessages, m => m.Contains("verification failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_CreatedBucket_DeletedWithEverythingInIt()
    {
        // Arrange
        DriverOptions options = Options("mixed", "--count", "30", "--size", "64KiB", "--mix", "put=40,get=40,range=20");

        // Act
        var runner = new LoadRunner(options, progress: null);
        LoadReport report = await runner.RunAsync().WaitAsync(s_timeout);

        // Assert
        Assert.Equal(expected: 0, actual: report.Cleanup.Errors);
        Assert.True(report.Cleanup.BucketDeleted);
        Assert.Equal(expected: report.PreparedObjects + report.Results.Single(r => r.Operation == LoadRunner.Put).Count, actual: report.Cleanup.ObjectsDeleted);
        using S3Client client = Client();
        Assert.False(await client.BucketExistsAsync(runner.Bucket, CancellationToken.None).WaitAsync(s_timeout));
    }

    [Fact]
    public async Task Run_ExistingBucket_KeptAndEmptiedIncludingUnfinishedUploads()
    {
        // Arrange: a bucket that is not the driver's, and a CompleteMultipartUpload that always fails, so every
        // multipart upload is left open for cleanup to abort.
        string bucket = $"existing-{Guid.NewGuid():N}"[..30];
        using S3Client client = Client();
        await client.CreateBucketAsync(bucket, CancellationToken.None).WaitAsync(s_timeout);
        DriverOptions options = Options("multipart", "--count", "3", "--clients", "1", "--size", "6MiB", "--part-size", "5MiB", "--bucket", bucket);
        using var failing = new FailCompleteHandler();

        // Act
        LoadReport report = await new LoadRunner(options, progress: null, failing).RunAsync().WaitAsync(s_timeout);

        // Assert
        Assert.Equal(expected: 3, actual: report.Errors);
        Assert.Equal(expected: 3, actual: report.Cleanup.UploadsAborted);
        Assert.Equal(expected: 0, actual: report.Cleanup.Errors);
        Assert.False(report.Cleanup.BucketDeleted);
        Assert.True(await client.BucketExistsAsync(bucket, CancellationToken.None).WaitAsync(s_timeout));
        Assert.Empty(await client.ListKeysAsync(bucket, string.Empty, CancellationToken.None).WaitAsync(s_timeout));
        await client.DeleteBucketAsync(bucket, CancellationToken.None).WaitAsync(s_timeout);
    }

    private DriverOptions Options(string workload, params string[] more)
    {
        string name = Guid.NewGuid().ToString("N");
        return DriverOptions.Parse([
            "--endpoint", _server.Endpoint.ToString(),
            "--access-key", InProcessServer.AccessKey,
            "--secret-key", InProcessServer.SecretKey,
            "--workload", workload,
            "--clients", "2",
            "--json", Path.Combine(_reports, name + ".json"),
            "--html", Path.Combine(_reports, name + ".html"),
            "--request-timeout", "30s",
            .. more]);
    }

    private S3Client Client() =>
        new(_server.Endpoint, new SigV4Signer(InProcessServer.AccessKey, InProcessServer.SecretKey, "us-east-1"), TimeSpan.FromSeconds(30), insecure: false);

    /// <summary>Flips the first body byte of every <c>every</c>-th successful GET of an object.</summary>
    private sealed class CorruptingHandler(int every) : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _gets;
        private int _corrupted;

        public int Corrupted => _corrupted;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
            bool objectGet = request.Method == HttpMethod.Get && request.RequestUri!.Query.Length == 0 && response.IsSuccessStatusCode;
            if (!objectGet || Interlocked.Increment(ref _gets) % every != 0)
            {
                return response;
            }

            byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            body[0] ^= 0x5A;
            var content = new ByteArrayContent(body);
            foreach (KeyValuePair<string, IEnumerable<string>> header in response.Content.Headers)
            {
                content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            response.Content = content;
            Interlocked.Increment(ref _corrupted);
            return response;
        }
    }

    /// <summary>Answers every CompleteMultipartUpload with a 500 without sending it.</summary>
    private sealed class FailCompleteHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            request.Method == HttpMethod.Post && request.RequestUri!.Query.Contains("uploadId=", StringComparison.Ordinal)
                ? Task.FromResult(new HttpResponseMessage(HttpStatusCode.InternalServerError) { RequestMessage = request })
                : base.SendAsync(request, cancellationToken);
    }
}
