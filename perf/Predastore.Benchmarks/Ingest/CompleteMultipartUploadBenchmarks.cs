using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging;
using Predastore.Server;

namespace Predastore.Benchmarks.Ingest;

/// <summary>
/// CompleteMultipartUpload of a 75-part upload (the field report's 598 MB image had 75 parts and took 2 m 45 s to
/// complete), measured at the client through HTTP against `predastore serve` in process. Every iteration uploads
/// 75 real parts first (not timed), so the only thing measured is the completion: it must not grow with part size.
/// </summary>
// Each iteration writes 75 parts first, so few of them: these mutate the shared config's job instead of adding one.
[WarmupCount(1)]
[IterationCount(3)]
[InvocationCount(1)]
public class CompleteMultipartUploadBenchmarks
{
    private const int Parts = 75;
    private string _directory = null!;
    private EmbeddedServer _server = null!;
    private AmazonS3Client _client = null!;
    private byte[] _part = null!;
    private string _uploadId = null!;
    private List<PartETag> _etags = null!;
    private int _round;

    [Params(8, 64)]
    public int PartMiB { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("predastore-complete-").FullName;
        _server = EmbeddedServer.StartAsync(new ServeOptions
        {
            DataDirectory = _directory,
            Port = 0,
            AccessKey = "bench",
            SecretKey = "bench-secret",
            LogLevel = LogLevel.Warning,
        }).GetAwaiter().GetResult();
        _client = new AmazonS3Client(new BasicAWSCredentials("bench", "bench-secret"), new AmazonS3Config
        {
            ServiceURL = _server.Endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            Timeout = TimeSpan.FromMinutes(5),
        });
        _client.PutBucketAsync("complete").GetAwaiter().GetResult();
        _part = new byte[PartMiB * 1024 * 1024];
        new Random(1).NextBytes(_part);
    }

    [IterationSetup]
    public void UploadParts()
    {
        string key = $"image-{_round++}.img";
        _uploadId = _client.InitiateMultipartUploadAsync("complete", key).GetAwaiter().GetResult().UploadId;
        _etags = [];
        for (int part = 1; part <= Parts; part++)
        {
            UploadPartResponse response = _client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = "complete",
                Key = key,
                UploadId = _uploadId,
                PartNumber = part,
                InputStream = new MemoryStream(_part, writable: false),
            }).GetAwaiter().GetResult();
            _etags.Add(new PartETag(part, response.ETag));
        }
    }

    [Benchmark]
    public async Task<string> Complete()
    {
        CompleteMultipartUploadResponse response = await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = "complete",
            Key = $"image-{_round - 1}.img",
            UploadId = _uploadId,
            PartETags = _etags,
        });
        return response.ETag;
    }

    [IterationCleanup]
    public void DeleteObject() => _client.DeleteObjectAsync("complete", $"image-{_round - 1}.img").GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }
}
