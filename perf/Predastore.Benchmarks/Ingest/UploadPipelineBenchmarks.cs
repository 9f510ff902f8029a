using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Predastore.Ingest.Pipeline;
using Predastore.Ingest.Storage;
using Predastore.Transport;
using Predastore.Transport.InProcess;
using Predastore.Transport.Placement;
using Predastore.Wal;

namespace Predastore.Benchmarks.Ingest;

/// <summary>
/// The write path without HTTP: a body through chunk → hash (MD5) → encode RS(2,1) → send → three node WALs on the
/// data directory's disk, group-committed. MB/s of object bytes is ObjectSize / Mean.
/// </summary>
[MemoryDiagnoser]
public class UploadPipelineBenchmarks
{
    private const int BlockSize = 1024 * 1024;
    private readonly List<ShardServer> _servers = [];
    private string _directory = null!;
    private StorageCluster _cluster = null!;
    private UploadPipeline _pipeline = null!;
    private byte[] _body = null!;
    private byte[] _objectHash = null!;

    [Params(64 * 1024 * 1024)]
    public int ObjectSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("predastore-bench-").FullName;
        for (int id = 1; id <= 3; id++)
        {
            _servers.Add(new ShardServer(id, WriteAheadLog.Open(new WalOptions { Directory = Path.Combine(_directory, $"node-{id}"), SegmentSize = 256L * 1024 * 1024 })));
        }

        _cluster = new StorageCluster(
            [.. _servers.Select(s => new InProcessShardNode(s))],
            [.. _servers.Select(s => new RingNode(s.NodeId))],
            new StripeLayout(2, 1, BlockSize));
        _pipeline = new UploadPipeline(_cluster, NullLogger.Instance);
        _body = new byte[ObjectSize];
        new Random(1).NextBytes(_body);
        _objectHash = ObjectHash.Compute("bench", "object");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (ShardServer server in _servers)
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public async Task<long> Upload()
    {
        var target = new ExtentTarget(_objectHash, Guid.NewGuid(), _cluster.Ring.Place(_objectHash, 3));
        UploadResult result = await _pipeline.RunAsync(new MemoryStream(_body, writable: false), target, checksum: null);

        // Each iteration writes a new extent; deleting it keeps the WALs' index (not the disk) from growing.
        await _pipeline.DeleteShardsAsync(target);
        return result.Size;
    }
}
