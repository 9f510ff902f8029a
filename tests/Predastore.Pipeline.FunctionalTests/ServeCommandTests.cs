// Invariant: `predastore serve` is one command with no set-up: it generates and keeps owner-only credentials on
// first start, serves HTTPS with a kept self-signed certificate under --tls, drains and closes cleanly on SIGTERM,
// and serves every object again after a restart on the same data directory.
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Predastore.Pipeline.FunctionalTests;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class ServeCommandTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("predastore-serve-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public async Task Serve_FirstStart_GeneratesPrivateCredentialsThatWork()
    {
        // Act
        await using ServeProcess serve = await ServeProcess.StartAsync(_data);

        // Assert: printed once, kept with mode 0600, and accepted.
        Assert.NotNull(serve.PrintedAccessKey);
        Assert.Equal(expected: UnixFileMode.UserRead | UnixFileMode.UserWrite, actual: File.GetUnixFileMode(Path.Combine(_data, "credentials.json")));
        using AmazonS3Client client = serve.Client(serve.PrintedAccessKey!, serve.PrintedSecretKey!);
        await client.PutBucketAsync("generated");
        await client.PutObjectAsync(new PutObjectRequest { BucketName = "generated", Key = "k", ContentBody = "v" });
    }

    [Fact]
    public async Task Serve_SigtermThenRestart_ExitsCleanlyAndServesEverything()
    {
        // Arrange
        string accessKey;
        string secretKey;
        await using (ServeProcess first = await ServeProcess.StartAsync(_data))
        {
            accessKey = first.PrintedAccessKey!;
            secretKey = first.PrintedSecretKey!;
            using AmazonS3Client client = first.Client(accessKey, secretKey);
            await client.PutBucketAsync("durable");
            await client.PutObjectAsync(new PutObjectRequest { BucketName = "durable", Key = "image.img", InputStream = new MemoryStream(TestData.Random(3_000_000, 3)) });

            // Act
            int exitCode = await first.TerminateAsync();

            // Assert
            Assert.Equal(expected: 0, actual: exitCode);
            Assert.Contains("draining requests and closing the storage nodes", first.Output);
        }

        await using ServeProcess second = await ServeProcess.StartAsync(_data);
        Assert.Null(second.PrintedAccessKey);
        using AmazonS3Client again = second.Client(accessKey, secretKey);
        using GetObjectResponse get = await again.GetObjectAsync("durable", "image.img");
        Assert.True(TestData.Same(TestData.Random(3_000_000, 3), await TestData.ReadAllAsync(get.ResponseStream)));
    }

    [Fact]
    public async Task Serve_Tls_ServesHttpsWithKeptSelfSignedCertificate()
    {
        await using ServeProcess serve = await ServeProcess.StartAsync(_data, "--tls");
        string certificate = Path.Combine(_data, "tls-selfsigned.pfx");
        using AmazonS3Client signer = serve.Client(serve.PrintedAccessKey!, serve.PrintedSecretKey!);
        string url = signer.GetPreSignedURL(new GetPreSignedUrlRequest { BucketName = "secure", Verb = HttpVerb.GET, Key = "none", Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTPS });
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Subject == "CN=predastore" };
        using var http = new HttpClient(handler);

        using HttpResponseMessage response = await http.GetAsync(url);

        Assert.StartsWith("https://", serve.Endpoint.ToString(), StringComparison.Ordinal);
        Assert.Equal(expected: UnixFileMode.UserRead | UnixFileMode.UserWrite, actual: File.GetUnixFileMode(certificate));

        // Signed, over TLS, for a bucket that does not exist: the S3 answer proves the whole HTTPS path works.
        Assert.Equal(expected: HttpStatusCode.NotFound, actual: response.StatusCode);
        Assert.Contains("<Code>NoSuchBucket</Code>", await response.Content.ReadAsStringAsync());
    }

    private sealed partial class ServeProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly System.Text.StringBuilder _output = new();
        private readonly TaskCompletionSource<Uri> _endpoint = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private ServeProcess(Process process) => _process = process;

        public Uri Endpoint { get; private set; } = null!;

        public string? PrintedAccessKey { get; private set; }

        public string? PrintedSecretKey { get; private set; }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public static async Task<ServeProcess> StartAsync(string data, params string[] extra)
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "predastore.dll"));
            foreach (string argument in (string[])["serve", "--data", data, "--port", "0", "--log-level", "Warning", .. extra])
            {
                start.ArgumentList.Add(argument);
            }

            start.Environment.Remove("PREDASTORE_ACCESS_KEY");
            start.Environment.Remove("PREDASTORE_SECRET_KEY");
            var serve = new ServeProcess(Process.Start(start)!);
            serve._process.OutputDataReceived += (_, e) => serve.OnLine(e.Data);
            serve._process.ErrorDataReceived += (_, e) => serve.OnLine(e.Data);
            serve._process.BeginOutputReadLine();
            serve._process.BeginErrorReadLine();
            serve.Endpoint = await serve._endpoint.Task.WaitAsync(TimeSpan.FromSeconds(60));
            return serve;
        }

        public AmazonS3Client Client(string accessKey, string secretKey) =>
            new(new BasicAWSCredentials(accessKey, secretKey), new AmazonS3Config { ServiceURL = Endpoint.ToString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 });

        /// <summary>Sends SIGTERM, as a service manager does, and waits for the exit code.</summary>
        public async Task<int> TerminateAsync()
        {
            using (Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
            }

            if (ServingLine().Match(line) is { Success: true } serving)
            {
                _endpoint.TrySetResult(new Uri(serving.Groups[1].Value));
            }
            else if (line.Contains("AWS_ACCESS_KEY_ID=", StringComparison.Ordinal))
            {
                PrintedAccessKey = line.Split('=', 2)[1];
            }
            else if (line.Contains("AWS_SECRET_ACCESS_KEY=", StringComparison.Ordinal))
            {
                PrintedSecretKey = line.Split('=', 2)[1];
            }
        }

        [GeneratedRegex("serving S3 at (\\S+)")]
        private static partial Regex ServingLine();
    }
}
