using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Predastore.Ingest.Pipeline;
using Predastore.Ingest.Storage;
using Predastore.Metadata;
using Predastore.Transport;
using Predastore.Transport.InProcess;
using Predastore.Transport.Placement;
using Predastore.Wal;

namespace Predastore.Ingest.Tests.Pipeline;

/// <summary>Real WALs in a temp directory behind in-process nodes that record every request they get.</summary>
internal sealed class ClusterHarness : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("predastore-pipeline-").FullName;
    private readonly List<ShardServer> _servers = [];

    public ClusterHarness(int nodes, int dataShards, int parityShards, int blockSize)
    {
        for (int id = 1; id <= nodes; id++)
        {
            WriteAheadLog wal = WriteAheadLog.Open(new WalOptions { Directory = Path.Combine(_directory, $"node-{id}") });
            _servers.Add(new ShardServer(id, wal));
        }

        Nodes = [.. _servers.Select(s => new RecordingNode(new InProcessShardNode(s)))];
        Cluster = new StorageCluster(Nodes, [.. Nodes.Select(n => new RingNode(n.Id))], new StripeLayout(dataShards, parityShards, blockSize));
        Uploads = new UploadPipeline(Cluster, NullLogger.Instance);
        Reader = new ObjectReader(Cluster, NullLogger.Instance);
    }

    public RecordingNode[] Nodes { get; }

    public StorageCluster Cluster { get; }

    public UploadPipeline Uploads { get; }

    public ObjectReader Reader { get; }

    /// <summary>Stores <paramref name="content"/> as a single-extent object and returns its manifest.</summary>
    public async Task<ObjectManifest> PutAsync(string bucket, string key, byte[] content)
    {
        byte[] objectHash = ObjectHash.Compute(bucket, key);
        var target = new ExtentTarget(objectHash, Guid.NewGuid(), Cluster.Place(objectHash));
        UploadResult result = await Uploads.RunAsync(new MemoryStream(content), target, checksum: null).WaitAsync(TimeSpan.FromSeconds(60));
        return new ObjectManifest
        {
            Bucket = bucket,
            Key = key,
            Size = result.Size,
            ETag = Convert.ToHexStringLower(result.Md5),
            LastModified = DateTimeOffset.UtcNow,
            DataShards = Cluster.Layout.DataShards,
            ParityShards = Cluster.Layout.ParityShards,
            BlockSize = Cluster.Layout.BlockSize,
            Extents = [new Extent(target.DataId, result.Size, target.Placement)],
        };
    }

    public async Task<byte[]> GetAsync(ObjectManifest manifest, long start, long length)
    {
        using var output = new MemoryStream();
        await Reader.CopyRangeAsync(manifest, start, length, output).WaitAsync(TimeSpan.FromSeconds(60));
        return output.ToArray();
    }

    public void ClearRecords()
    {
        foreach (RecordingNode node in Nodes)
        {
            node.Reads.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ShardServer server in _servers)
        {
            await server.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }
}

internal sealed record ShardRead(int NodeId, ShardKey Key, long Offset, int Length);

/// <summary>An <see cref="IShardNode"/> that records reads and can be told to fail them.</summary>
internal sealed class RecordingNode(IShardNode inner) : IShardNode
{
    public ConcurrentQueue<ShardRead> Reads { get; } = new();

    public bool FailReads { get; set; }

    public bool FailWrites { get; set; }

    /// <summary>An exception a read of the key at the offset throws instead of reading (null: read).</summary>
    public Func<ShardKey, long, Exception?>? ReadFault { get; set; }

    /// <summary>Deletes fail as with a node that went away: what was committed stays.</summary>
    public bool FailDeletes { get; set; }

    /// <summary>Runs before every cell write: a slow disk, or a probe of the gateway's state mid-upload.</summary>
    public Func<Task>? BeforeWrite { get; set; }

    public int Id => inner.Id;

    public IShardUpload BeginPut(ShardKey key) => new Upload(this, inner.BeginPut(key));

    public ValueTask<int> ReadAsync(ShardKey key, long shardOffset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        Reads.Enqueue(new ShardRead(Id, key, shardOffset, destination.Length));
        if (ReadFault?.Invoke(key, shardOffset) is { } fault)
        {
            return ValueTask.FromException<int>(fault);
        }

        return FailReads
            ? ValueTask.FromException<int>(new ShardException(ShardFailure.Unavailable, Id, "node down (test)"))
            : inner.ReadAsync(key, shardOffset, destination, cancellationToken);
    }

    public ValueTask DeleteAsync(ShardKey key, CancellationToken cancellationToken = default) =>
        FailDeletes
            ? ValueTask.FromException(new IOException("node down (test)"))
            : inner.DeleteAsync(key, cancellationToken);

    public ValueTask<long?> StatAsync(ShardKey key, CancellationToken cancellationToken = default) => inner.StatAsync(key, cancellationToken);

    public ValueTask<IReadOnlyList<ShardKey>> ListAsync(CancellationToken cancellationToken = default) => inner.ListAsync(cancellationToken);


    private sealed class Upload(RecordingNode node, IShardUpload inner) : IShardUpload
    {
        public ShardKey Key => inner.Key;

        public async ValueTask WriteAsync(long shardOffset, ReadOnlyMemory<byte> cells, CancellationToken cancellationToken = default)
        {
            if (node.BeforeWrite is { } before)
            {
                await before();
            }

            if (node.FailWrites)
            {
                throw new ShardException(ShardFailure.Unavailable, node.Id, "disk gone (test)");
            }

            await inner.WriteAsync(shardOffset, cells, cancellationToken);
        }

        public ValueTask CommitAsync(long shardLength, CancellationToken cancellationToken = default) => inner.CommitAsync(shardLength, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
