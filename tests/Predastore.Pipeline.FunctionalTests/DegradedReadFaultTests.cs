// Invariant: a GET succeeds with any one node's data gone or corrupt: the damaged block is detected (missing
// shard, or WAL record checksum) and rebuilt from the other shards; and a restart serves everything written before.
using System.Net;
using Amazon.S3.Model;
using Predastore.Metadata;

namespace Predastore.Pipeline.FunctionalTests;

public sealed class DegradedReadFaultTests : IAsyncLifetime
{
    private const int MiB = 1024 * 1024;
    private const string Bucket = "degraded";
    private readonly byte[] _content = TestData.Random((5 * MiB) + 777, seed: 42);
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.Client.PutBucketAsync(Bucket);
        await _server.Client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "disk.img", InputStream = new MemoryStream(_content) });
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Get_DataShardCorruptOnDisk_RebuiltFromParity()
    {
        // Arrange: flip one byte in every 64 KiB of the node holding data shard 0.
        int node = DataShardNode(0);
        foreach (string segment in Directory.GetFiles(_server.NodeDirectory(node), "*.seg"))
        {
            using var file = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite);
            for (long offset = 4096; offset < file.Length; offset += 64 * 1024)
            {
                file.Position = offset;
                int value = file.ReadByte();
                file.Position = offset;
                file.WriteByte((byte)(value ^ 0x5A));
            }
        }

        // Act & Assert: whole object and a range inside shard 0's cells.
        Assert.True(TestData.Same(_content.AsMemory(), await GetAsync(null)));
        Assert.True(TestData.Same(_content.AsMemory(100, 1000), await GetAsync(new ByteRange(100, 1099))));
    }

    [Fact]
    public async Task Get_OneNodeDirectoryDeleted_RebuiltFromOthers()
    {
        int node = DataShardNode(1);

        await _server.RestartAsync(_ => Directory.Delete(_server.NodeDirectory(node), recursive: true));

        Assert.True(TestData.Same(_content.AsMemory(), await GetAsync(null)));
        Assert.True(TestData.Same(_content.AsMemory((3 * MiB) + 600_000, 100_000), await GetAsync(new ByteRange((3 * MiB) + 600_000, (3 * MiB) + 699_999))));
    }

    [Fact]
    public async Task Get_MoreNodesLostThanParity_ServiceUnavailableNotABrokenResponse()
    {
        // Arrange: RS(2,1) with two of the three nodes' data gone
        int first = DataShardNode(0);
        int second = DataShardNode(1);
        await _server.RestartAsync(_ =>
        {
            Directory.Delete(_server.NodeDirectory(first), recursive: true);
            Directory.Delete(_server.NodeDirectory(second), recursive: true);
        });

        // Act & Assert: the first block cannot be rebuilt, and the client hears it as an S3 error
        await TestData.ThrowsS3Async(() => GetAsync(null), "ServiceUnavailable", HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task Restart_SameDataDirectory_ServesEverythingWrittenBefore()
    {
        await _server.Client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "second", ContentBody = "still here" });

        await _server.RestartAsync();

        Assert.True(TestData.Same(_content.AsMemory(), await GetAsync(null)));
        using GetObjectResponse second = await _server.Client.GetObjectAsync(Bucket, "second");
        Assert.Equal(expected: "still here", actual: await new StreamReader(second.ResponseStream).ReadToEndAsync());
    }

    private int DataShardNode(int shardIndex)
    {
        ObjectManifest manifest = _server.Server.Metadata.GetObject(Bucket, "disk.img")!;
        return manifest.Extents[0].Placement[shardIndex];
    }

    private async Task<byte[]> GetAsync(ByteRange? range)
    {
        using GetObjectResponse get = await _server.Client.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = "disk.img", ByteRange = range });
        return await TestData.ReadAllAsync(get.ResponseStream);
    }
}
