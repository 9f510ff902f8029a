using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging;
using Predastore.Server;

namespace Predastore.Benchmarks.Ingest;

/// <summary>
/// A 64 MiB PUT through HTTP into `predastore serve` in process (presigned URL, so the client hashes nothing), with
/// Kestrel's default receive path and with 64 KiB receives (<see cref="LargeBlockMemoryPool"/>), in one run.
/// </summary>
[IterationCount(8)]
[WarmupCount(2)]
public class HttpPutBenchmarks
{
    private string _directory = null!;
    private EmbeddedServer _server = null!;
    private HttpClient _http = null!;
    private Uri _url = null!;
    private byte[] _body = null!;

    [Params(false, true)]
    public bool LargeReceives { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("predastore-httpput-").FullName;
        _server = EmbeddedServer.StartAsync(new ServeOptions
        {
            DataDirectory = _directory,
            Port = 0,
            AccessKey = "bench",
            SecretKey = "bench-secret",
            LogLevel = LogLevel.Warning,
            LargeReceives = LargeReceives,
        }).GetAwaiter().GetResult();
        using var client = new AmazonS3Client(new BasicAWSCredentials("bench", "bench-secret"), new AmazonS3Config
        {
            ServiceURL = _server.Endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
        });
        client.PutBucketAsync("put").GetAwaiter().GetResult();
        _url = new Uri(client.GetPreSignedURL(new GetPreSignedUrlRequest
        {
            BucketName = "put",
            Key = "object",
            Verb = HttpVerb.PUT,
            Expires = DateTime.UtcNow.AddHours(2),
            Protocol = Protocol.HTTP,
        }));
        _http = new HttpClient();
        _body = new byte[64 * 1024 * 1024];
        new Random(1).NextBytes(_body);
    }

    [Benchmark]
    public async Task<int> Put()
    {
        using var content = new ByteArrayContent(_body);
        using HttpResponseMessage response = await _http.PutAsync(_url, content);
        return (int)response.EnsureSuccessStatusCode().StatusCode;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _http.Dispose();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }
}
