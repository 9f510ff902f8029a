using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Predastore.Encode;
using Predastore.Ingest.Pipeline;
using Predastore.Ingest.Storage;
using Predastore.Transport;
using Predastore.Transport.InProcess;
using Predastore.Transport.Placement;
using Predastore.Wal;

namespace Predastore.Benchmarks.EndToEnd;

/// <summary>
/// The gate's injections (perf/gate.sh --inject ...), read from the environment so the experiment that proves the
/// gate needs no code change: <c>PREDASTORE_GATE_KERNEL=Scalar</c> forces a codec kernel (the slowdown),
/// <c>PREDASTORE_GATE_ALLOCATE=N</c> makes every encode allocate N bytes (the allocation).
/// </summary>
internal static class GateInjection
{
    public static GfKernel Kernel =>
        Enum.TryParse(Environment.GetEnvironmentVariable("PREDASTORE_GATE_KERNEL"), ignoreCase: true, out GfKernel kernel) ? kernel : GfKernels.Best;

    public static int AllocateBytes =>
        int.TryParse(Environment.GetEnvironmentVariable("PREDASTORE_GATE_ALLOCATE"), out int bytes) ? bytes : 0;
}

/// <summary>
/// Gate: RS(2,1) encode of 1 MiB cells against a memory copy of the same 2 MiB of data, in the same process.
/// The gate checks the ratio of their times (codec GB/s ÷ memcpy GB/s) and that Encode allocates nothing.
/// </summary>
[MemoryDiagnoser]
public class GateCodecBenchmarks
{
    private const int Cell = 1024 * 1024;
    private ReedSolomon _codec = null!;
    private ReadOnlyMemory<byte>[] _data = null!;
    private Memory<byte>[] _parity = null!;
    private byte[] _copy = null!;
    private int _allocate;

    [GlobalSetup]
    public void Setup()
    {
        _codec = new ReedSolomon(2, 1, GateInjection.Kernel);
        _allocate = GateInjection.AllocateBytes;
        var random = new Random(5);
        _data = [.. Enumerable.Range(0, 2).Select(_ => (ReadOnlyMemory<byte>)Warm(random))];
        _parity = [Warm(random)];
        _copy = Warm(random, 2 * Cell);
    }

    [Benchmark]
    public void Encode()
    {
        _codec.Encode(_data, _parity);
        if (_allocate > 0)
        {
            GC.KeepAlive(new byte[_allocate]);
        }
    }

    [Benchmark]
    public void Memcpy()
    {
        _data[0].Span.CopyTo(_copy);
        _data[1].Span.CopyTo(_copy.AsSpan(Cell));
    }

    private static byte[] Warm(Random random, int length = Cell)
    {
        byte[] buffer = GC.AllocateUninitializedArray<byte>(length, pinned: true);
        random.NextBytes(buffer);
        return buffer;
    }
}

/// <summary>
/// Gate: a 64 MiB upload through the pipeline (chunk, MD5, RS(2,1), three node WALs) against appending the same
/// bytes (32 MiB to each of three WALs in 512 KiB cells, 8 in flight per WAL, committed) straight to three WALs on the same disk, same run.
/// The ratio of their times says how much of the disk's WAL speed a PUT keeps, whatever the machine's load.
/// </summary>
[MemoryDiagnoser]
[WarmupCount(1)]
[IterationCount(5)]
[InvocationCount(1)]
public class GatePipelineBenchmarks
{
    private const int ObjectSize = 64 * 1024 * 1024;
    private const int CellSize = 512 * 1024;
    private const int CellsInFlight = 8;
    private readonly List<ShardServer> _servers = [];
    private string _directory = null!;
    private StorageCluster _cluster = null!;
    private UploadPipeline _pipeline = null!;
    private byte[] _body = null!;
    private byte[] _objectHash = null!;
    private WriteAheadLog[] _wals = null!;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("predastore-gate-").FullName;
        for (int id = 1; id <= 3; id++)
        {
            _servers.Add(new ShardServer(id, WriteAheadLog.Open(new WalOptions { Directory = Path.Combine(_directory, $"node-{id}") })));
        }

        _cluster = new StorageCluster(
            [.. _servers.Select(s => new InProcessShardNode(s))],
            [.. _servers.Select(s => new RingNode(s.NodeId))],
            new StripeLayout(2, 1, 1024 * 1024));
        _pipeline = new UploadPipeline(_cluster, NullLogger.Instance);
        _body = GC.AllocateUninitializedArray<byte>(ObjectSize, pinned: true);
        new Random(1).NextBytes(_body);
        _objectHash = ObjectHash.Compute("gate", "object");
        _wals = [.. Enumerable.Range(1, 3).Select(id => WriteAheadLog.Open(new WalOptions { Directory = Path.Combine(_directory, $"raw-{id}") }))];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (ShardServer server in _servers)
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        foreach (WriteAheadLog wal in _wals)
        {
            wal.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public async Task<long> PipelinePut()
    {
        var target = new ExtentTarget(_objectHash, Guid.NewGuid(), _cluster.Ring.Place(_objectHash, 3));
        UploadResult result = await _pipeline.RunAsync(new MemoryStream(_body, writable: false), target, checksum: null);
        await _pipeline.DeleteShardsAsync(target);
        return result.Size;
    }

    [Benchmark]
    public async Task WalAppend()
    {
        await Task.WhenAll(_wals.Select((wal, i) => AppendShardAsync(wal, new ShardKey(_objectHash, Guid.NewGuid().ToByteArray(), (uint)i))));
    }

    private async Task AppendShardAsync(WriteAheadLog wal, ShardKey key)
    {
        // As the pipeline writes a shard: 512 KiB cells, several in flight so group commit can batch them.
        const int ShardBytes = ObjectSize / 2;
        var inFlight = new Queue<Task>();
        for (int offset = 0; offset < ShardBytes; offset += CellSize)
        {
            if (inFlight.Count == CellsInFlight)
            {
                await inFlight.Dequeue();
            }

            inFlight.Enqueue(wal.AppendAsync(key, offset, _body.AsMemory(offset, CellSize)).AsTask());
        }

        while (inFlight.Count > 0)
        {
            await inFlight.Dequeue();
        }

        await wal.CommitAsync(key, ShardBytes);
        await wal.DeleteAsync(key);
    }
}
