using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging;
using Predastore.Server;

namespace Predastore.Benchmarks.EndToEnd;

/// <summary>
/// The whole pipeline as a client sees it: PUT and GET of one object through <c>predastore serve</c> in process
/// (EmbeddedServer: Kestrel gateway, SigV4, MD5, RS(2,1), three in-process nodes with their WALs on the temp
/// directory's disk, SQLite metadata) over loopback HTTP. MB/s = ObjectSize / Mean. Allocated counts every thread
/// of the process (BenchmarkDotNet reads GC.GetTotalAllocatedBytes), so it is the server's and the client's together.
/// </summary>
/// <remarks>
/// Loopback HTTP rather than the pipeline classes: the gateway's request handling, body reading and response
/// writing are part of what a PUT or GET costs. One object per iteration: a 1 GiB PUT takes seconds.
/// </remarks>
[MemoryDiagnoser]
[WarmupCount(1)]
[IterationCount(5)]
[InvocationCount(1)]
public class EndToEndBenchmarks
{
    private EndToEndServer _server = null!;
    private byte[] _buffer = null!;

    [Params(1L << 20, 64L << 20, 1L << 30)]
    public long ObjectSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _server = EndToEndServer.Start();
        _server.PutAsync("bench/get", ObjectSize).GetAwaiter().GetResult();
        _buffer = GC.AllocateUninitializedArray<byte>(256 * 1024, pinned: true);
    }

    [GlobalCleanup]
    public void Cleanup() => _server.Dispose();

    /// <summary>Overwrites one key: the replaced extents go to the garbage list the server reclaims in the background.</summary>
    [Benchmark]
    public Task Put() => _server.PutAsync("bench/put", ObjectSize);

    [Benchmark]
    public Task<long> Get() => _server.Client.GetAsync("/bench/bench/get", _buffer);
}

/// <summary>
/// An 8 MiB range GET from the middle of a large object. What it allocates must not grow with the object's size:
/// perf/gate.sh compares the 1 GiB row against a budget and against the 64 MiB row.
/// </summary>
[MemoryDiagnoser]
[WarmupCount(2)]
[IterationCount(7)]
public class RangeGetBenchmarks
{
    public const long RangeLength = 8L << 20;
    private EndToEndServer _server = null!;
    private byte[] _buffer = null!;

    [Params(64L << 20, 1L << 30)]
    public long ObjectSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _server = EndToEndServer.Start();
        _server.PutAsync("bench/range", ObjectSize).GetAwaiter().GetResult();
        _buffer = GC.AllocateUninitializedArray<byte>(256 * 1024, pinned: true);
    }

    [GlobalCleanup]
    public void Cleanup() => _server.Dispose();

    [Benchmark]
    public async Task<long> RangeGet()
    {
        long read = await _server.Client.GetAsync("/bench/bench/range", _buffer, ObjectSize / 2, RangeLength).ConfigureAwait(false);
        return read == RangeLength ? read : throw new InvalidOperationException($"range GET read {read} bytes, expected {RangeLength}");
    }
}

/// <summary><c>predastore serve</c> in process on a free loopback port, a bucket "bench", and a client for it.</summary>
internal sealed class EndToEndServer : IDisposable
{
    private const string AccessKey = "bench";
    private const string SecretKey = "bench-secret-key";
    private readonly EmbeddedServer _server;
    private readonly string _directory;
    private readonly byte[] _block;

    private EndToEndServer(EmbeddedServer server, string directory)
    {
        _server = server;
        _directory = directory;
        Client = new S3Http(server.Endpoint, AccessKey, SecretKey);
        _block = GC.AllocateUninitializedArray<byte>(8 << 20, pinned: true);
        new Random(1).NextBytes(_block);
    }

    public S3Http Client { get; }

    public static EndToEndServer Start()
    {
        string directory = Directory.CreateTempSubdirectory("predastore-e2e-").FullName;
        EmbeddedServer server = EmbeddedServer.StartAsync(new ServeOptions
        {
            DataDirectory = directory,
            Port = 0,
            AccessKey = AccessKey,
            SecretKey = SecretKey,
            LogLevel = LogLevel.Warning,
        }).GetAwaiter().GetResult();
        var started = new EndToEndServer(server, directory);
        started.Client.PutAsync("/bench", new ByteArrayContent([])).GetAwaiter().GetResult();
        return started;
    }

    public async Task PutAsync(string key, long size)
    {
        using var content = new RepeatingContent(_block, size);
        await Client.PutAsync("/bench/" + key, content).ConfigureAwait(false);
    }

    public void Dispose()
    {
        Client.Dispose();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }
}
