using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.Logging;
using Predastore.Server;

namespace Predastore.Pipeline.FunctionalTests;

/// <summary>
/// A real <c>predastore serve</c> on a free loopback port with its own data directory, and AWS SDK clients for it.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string AccessKey = "PSTESTACCESSKEY";
    public const string SecretKey = "test/secret+key/for/predastore/tests000";

    private readonly int _nodes;
    private readonly bool _ownsDirectory;
    private readonly TimeSpan _abortIncompleteUploadsAfter;
    private int? _blockSize;

    private TestServer(string dataDirectory, int nodes, bool ownsDirectory, TimeSpan abortIncompleteUploadsAfter)
    {
        DataDirectory = dataDirectory;
        _nodes = nodes;
        _ownsDirectory = ownsDirectory;
        _abortIncompleteUploadsAfter = abortIncompleteUploadsAfter;
    }

    public string DataDirectory { get; }

    internal EmbeddedServer Server { get; private set; } = null!;

    public Uri Endpoint => Server.Endpoint;

    public AmazonS3Client Client { get; private set; } = null!;

    public static async Task<TestServer> StartAsync(int nodes = 3, string? dataDirectory = null, TimeSpan? abortIncompleteUploadsAfter = null)
    {
        bool owns = dataDirectory is null;
        dataDirectory ??= Directory.CreateTempSubdirectory("predastore-test-").FullName;
        var server = new TestServer(dataDirectory, nodes, owns, abortIncompleteUploadsAfter ?? TimeSpan.FromDays(7));
        await server.StartServerAsync();
        return server;
    }

    public AmazonS3Client CreateClient(string accessKey = AccessKey, string secretKey = SecretKey, int retries = 0) =>
        new(new BasicAWSCredentials(accessKey, secretKey), new AmazonS3Config
        {
            ServiceURL = Endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = retries,
            Timeout = TimeSpan.FromSeconds(120),
        });

    /// <summary>Stops the server cleanly and starts it again on the same data directory (with another block size if given).</summary>
    public async Task RestartAsync(Action<string>? whileStopped = null, int? blockSize = null)
    {
        Client.Dispose();
        await Server.DisposeAsync();
        whileStopped?.Invoke(DataDirectory);
        _blockSize = blockSize ?? _blockSize;
        await StartServerAsync();
    }

    /// <summary>Shards committed on all nodes together.</summary>
    public async Task<int> CountShardsAsync()
    {
        int count = 0;
        foreach (Transport.IShardNode node in Server.Cluster.Nodes.Values)
        {
            count += (await node.ListAsync()).Count;
        }

        return count;
    }

    public string NodeDirectory(int nodeId) => EmbeddedServer.NodeDirectory(DataDirectory, nodeId);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        if (_ownsDirectory)
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    private async Task StartServerAsync()
    {
        Server = await EmbeddedServer.StartAsync(new ServeOptions
        {
            DataDirectory = DataDirectory,
            Port = 0,
            AccessKey = AccessKey,
            SecretKey = SecretKey,
            Nodes = _nodes,
            BlockSize = _blockSize ?? ServeOptions.DefaultBlockSize,
            AbortIncompleteUploadsAfter = _abortIncompleteUploadsAfter,
            LogLevel = LogLevel.Warning,
        }).WaitAsync(TimeSpan.FromSeconds(60));
        Client = CreateClient();
    }
}

/// <summary>One server shared by the tests of a class.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    public AmazonS3Client Client => Server.Client;

    public async Task InitializeAsync() => Server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

internal static class TestData
{
    public static byte[] Random(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Byte equality that can sit next to an await (spans cannot).</summary>
    public static bool Same(ReadOnlyMemory<byte> expected, byte[] actual) => expected.Span.SequenceEqual(actual);

    public static string UniqueBucket(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 33)];

    public static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    /// <summary>Asserts the S3 error; <paramref name="code"/> is null for HEAD, whose errors have no body.</summary>
    public static async Task<AmazonS3Exception> ThrowsS3Async(Func<Task> action, string? code, HttpStatusCode status)
    {
        AmazonS3Exception error = await Assert.ThrowsAnyAsync<AmazonS3Exception>(action);
        Assert.Equal(expected: status, actual: error.StatusCode);
        if (code is not null)
        {
            Assert.Equal(expected: code, actual: error.ErrorCode);
        }

        return error;
    }
}
