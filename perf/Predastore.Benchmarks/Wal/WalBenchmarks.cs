using BenchmarkDotNet.Attributes;
using Predastore.Wal;

namespace Predastore.Benchmarks.Wal;

/// <summary>
/// WAL append throughput: <see cref="Writers"/> concurrent uploads, each appending <see cref="RecordSize"/>-byte
/// payloads to its own shard and awaiting each append (durable: group commit, one fdatasync per batch), 256 MiB in
/// all per invocation into a fresh WAL on the temp directory's disk. Mean and Allocated are per 64 KiB appended,
/// whatever the record size (OperationsPerInvoke must be a constant), so MB/s = 64 KiB / Mean on every row, and
/// a 1 MiB row's allocation per append is 16 × Allocated.
/// Allocated is the steady state of a node whose uploads commit: each shard's extent list comes from the
/// process-wide pool, where the previous iteration's WAL left it (with its capacity) when it closed. What remains
/// is per invocation, not per append: the writers' async loops and Task.WhenAll, and the fresh WAL's queue and
/// dictionary of pending shards growing to the number of writers.
/// perf/wal.sh prints this beside fio's sequential 1 MiB writes with fdatasync on the same disk.
/// </summary>
[MemoryDiagnoser]
public class WalAppendBenchmarks
{
    private const long TotalBytes = 256L * 1024 * 1024;
    private byte[] _payload = null!;
    private ShardKey[] _keys = null!;
    private string _root = null!;
    private string _directory = null!;
    private WriteAheadLog _wal = null!;

    [Params(1, 64)]
    public int Writers { get; set; }

    [Params(64 * 1024, 1024 * 1024)]
    public int RecordSize { get; set; }

    public int AppendsPerWriter => (int)(TotalBytes / RecordSize / Writers);

    [GlobalSetup]
    public void Setup()
    {
        _root = Directory.CreateTempSubdirectory("predastore-walbench-").FullName;
        _payload = GC.AllocateUninitializedArray<byte>(RecordSize, pinned: true);
        new Random(1).NextBytes(_payload);
        _keys = new ShardKey[Writers];
        var random = new Random(2);
        byte[] hash = new byte[32];
        byte[] dataId = new byte[16];
        for (int i = 0; i < Writers; i++)
        {
            random.NextBytes(hash);
            random.NextBytes(dataId);
            _keys[i] = new ShardKey(hash, dataId, (uint)i);
        }
    }

    [IterationSetup]
    public void OpenWal()
    {
        _directory = Path.Combine(_root, Guid.NewGuid().ToString("N"));
        _wal = WriteAheadLog.Open(new WalOptions { Directory = _directory, MaxRecordPayload = RecordSize, CompactionInterval = TimeSpan.Zero });
    }

    [IterationCleanup]
    public void CloseWal()
    {
        _wal.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, recursive: true);

    [Benchmark(OperationsPerInvoke = (int)(TotalBytes / (64 * 1024)))]
    public Task Append()
    {
        var writers = new Task[Writers];
        for (int w = 0; w < Writers; w++)
        {
            writers[w] = AppendAllAsync(_keys[w]);
        }

        return Task.WhenAll(writers);
    }

    private async Task AppendAllAsync(ShardKey key)
    {
        int appends = AppendsPerWriter;
        long offset = 0;
        for (int i = 0; i < appends; i++)
        {
            await _wal.AppendAsync(key, offset, _payload).ConfigureAwait(false);
            offset += _payload.Length;
        }
    }
}

/// <summary>
/// WAL read throughput: one committed 256 MiB shard of 64 KiB records, read front to back in 1 MiB ReadAsync calls
/// (every record's CRC checked), page cache warm. MB/s = 1 MiB / Mean; Mean and Allocated are per 1 MiB call.
/// perf/wal.sh prints this beside fio's warm sequential 1 MiB reads of the same disk.
/// </summary>
[MemoryDiagnoser]
public class WalReadBenchmarks
{
    private const int ShardBytes = 256 * 1024 * 1024;
    private const int ReadSize = 1024 * 1024;
    private string _directory = null!;
    private WriteAheadLog _wal = null!;
    private ShardKey _key;
    private byte[] _buffer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("predastore-walbench-").FullName;
        _wal = WriteAheadLog.Open(new WalOptions { Directory = _directory, CompactionInterval = TimeSpan.Zero });
        _key = new ShardKey(new byte[32], new byte[16], 0);
        byte[] chunk = new byte[ReadSize];
        new Random(3).NextBytes(chunk);
        for (int offset = 0; offset < ShardBytes; offset += ReadSize)
        {
            _wal.AppendAsync(_key, offset, chunk).AsTask().GetAwaiter().GetResult();
        }

        _wal.CommitAsync(_key, ShardBytes).AsTask().GetAwaiter().GetResult();
        _buffer = GC.AllocateUninitializedArray<byte>(ReadSize, pinned: true);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _wal.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = ShardBytes / ReadSize)]
    public async Task ReadShard()
    {
        for (long offset = 0; offset < ShardBytes; offset += ReadSize)
        {
            await _wal.ReadAsync(_key, offset, _buffer).ConfigureAwait(false);
        }
    }
}
