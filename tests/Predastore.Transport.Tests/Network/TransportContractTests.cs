// Invariant: every node transport (in-process, TCP, TCP+TLS, QUIC) behaves the same behind IShardNode: a shard is
// readable only after its commit, reads return exactly the bytes of the range asked for (shard index included, so
// shards of one object on one node never mix — invariants 1 and 6), and failures arrive as ShardException with the
// same ShardFailure whatever carried the request.
using Predastore.Wal;

namespace Predastore.Transport.Tests.Network;

public sealed class TransportContractTests
{
    [Theory]
    [Transport(TransportKind.InProcess)]
    [Transport(TransportKind.Tcp)]
    [Transport(TransportKind.TcpTls)]
    [Transport(TransportKind.Quic)]
    public async Task PutShard_WriteCellsThenCommit_ReadsBackEveryRange(TransportKind kind)
    {
        // Arrange
        await using NodeHost host = await NodeHost.StartAsync(kind);
        ShardKey key = TestKeys.Key(1, 0);
        byte[] shard = TestKeys.Bytes(3 * 256 * 1024 + 77, 7);

        // Act: cells in any order, then the commit.
        await using (IShardUpload upload = host.Node.BeginPut(key))
        {
            int cell = 256 * 1024;
            await upload.WriteAsync(cell, shard.AsMemory(cell, cell)).AsTask().WaitAsync(TestKeys.Timeout);
            await upload.WriteAsync(0, shard.AsMemory(0, cell)).AsTask().WaitAsync(TestKeys.Timeout);
            await upload.WriteAsync(2 * cell, shard.AsMemory(2 * cell)).AsTask().WaitAsync(TestKeys.Timeout);
            await upload.CommitAsync(shard.Length).AsTask().WaitAsync(TestKeys.Timeout);
        }

        // Assert
        byte[] whole = new byte[shard.Length];
        Assert.Equal(expected: shard.Length, actual: await host.Node.ReadAsync(key, 0, whole).AsTask().WaitAsync(TestKeys.Timeout));
        Assert.True(shard.AsSpan().SequenceEqual(whole));

        byte[] range = new byte[1000];
        Assert.Equal(expected: 1000, actual: await host.Node.ReadAsync(key, 300_001, range).AsTask().WaitAsync(TestKeys.Timeout));
        Assert.True(shard.AsSpan(300_001, 1000).SequenceEqual(range));

        byte[] tail = new byte[100];
        Assert.Equal(expected: 40, actual: await host.Node.ReadAsync(key, shard.Length - 40, tail).AsTask().WaitAsync(TestKeys.Timeout));
        Assert.True(shard.AsSpan(shard.Length - 40).SequenceEqual(tail.AsSpan(0, 40)));
        Assert.Equal(expected: shard.Length, actual: await host.Node.StatAsync(key).AsTask().WaitAsync(TestKeys.Timeout));
    }

    [Theory]
    [Transport(TransportKind.InProcess)]
    [Transport(TransportKind.Tcp)]
    [Transport(TransportKind.TcpTls)]
    [Transport(TransportKind.Quic)]
    public async Task Read_UncommittedOrAbandonedShard_IsNotFound(TransportKind kind)
    {
        // Arrange
        await using NodeHost host = await NodeHost.StartAsync(kind);
        ShardKey pending = TestKeys.Key(2, 0);
        ShardKey abandoned = TestKeys.Key(3, 0);
        IShardUpload open = host.Node.BeginPut(pending);
        await open.WriteAsync(0, TestKeys.Bytes(100, 1)).AsTask().WaitAsync(TestKeys.Timeout);
        await using (IShardUpload gone = host.Node.BeginPut(abandoned))
        {
            await gone.WriteAsync(0, TestKeys.Bytes(100, 2)).AsTask().WaitAsync(TestKeys.Timeout);
        }

        // Act
        ShardException notCommitted = await Assert.ThrowsAsync<ShardException>(() => host.Node.ReadAsync(pending, 0, new byte[10]).AsTask().WaitAsync(TestKeys.Timeout));
        ShardException notKept = await Assert.ThrowsAsync<ShardException>(() => host.Node.ReadAsync(abandoned, 0, new byte[10]).AsTask().WaitAsync(TestKeys.Timeout));

        // Assert
        Assert.Equal(expected: ShardFailure.NotFound, actual: notCommitted.Failure);
        Assert.Equal(expected: ShardFailure.NotFound, actual: notKept.Failure);
        Assert.Equal(expected: 1, actual: notCommitted.NodeId);
        Assert.Null(await host.Node.StatAsync(abandoned).AsTask().WaitAsync(TestKeys.Timeout));
        await open.DisposeAsync();
    }

    [Theory]
    [Transport(TransportKind.InProcess)]
    [Transport(TransportKind.Tcp)]
    [Transport(TransportKind.TcpTls)]
    [Transport(TransportKind.Quic)]
    public async Task Shards_OfOneObjectOnOneNode_StayApartByShardIndex(TransportKind kind)
    {
        // Arrange: three shards of one data id on one node (few nodes, invariant 8).
        await using NodeHost host = await NodeHost.StartAsync(kind);
        var shards = new byte[3][];
        for (uint i = 0; i < 3; i++)
        {
            shards[i] = TestKeys.Bytes(5000, (int)i + 10);
            await using IShardUpload upload = host.Node.BeginPut(TestKeys.Key(4, i));
            await upload.WriteAsync(0, shards[i]).AsTask().WaitAsync(TestKeys.Timeout);
            await upload.CommitAsync(5000).AsTask().WaitAsync(TestKeys.Timeout);
        }

        // Act + Assert
        for (uint i = 0; i < 3; i++)
        {
            byte[] read = new byte[5000];
            await host.Node.ReadAsync(TestKeys.Key(4, i), 0, read).AsTask().WaitAsync(TestKeys.Timeout);
            Assert.True(shards[i].AsSpan().SequenceEqual(read), $"shard {i}");
        }

        IReadOnlyList<ShardKey> listed = await host.Node.ListAsync().AsTask().WaitAsync(TestKeys.Timeout);
        Assert.Equal(expected: [0u, 1u, 2u], actual: listed.Select(k => k.ShardIndex).Order());
    }

    [Theory]
    [Transport(TransportKind.InProcess)]
    [Transport(TransportKind.Tcp)]
    [Transport(TransportKind.TcpTls)]
    [Transport(TransportKind.Quic)]
    public async Task Delete_CommittedShard_IsGoneAndDeletingAgainIsNoError(TransportKind kind)
    {
        // Arrange
        await using NodeHost host = await NodeHost.StartAsync(kind);
        ShardKey key = TestKeys.Key(5, 1);
        await using (IShardUpload upload = host.Node.BeginPut(key))
        {
            await upload.WriteAsync(0, TestKeys.Bytes(64, 5)).AsTask().WaitAsync(TestKeys.Timeout);
            await upload.CommitAsync(64).AsTask().WaitAsync(TestKeys.Timeout);
        }

        // Act
        await host.Node.DeleteAsync(key).AsTask().WaitAsync(TestKeys.Timeout);
        await host.Node.DeleteAsync(key).AsTask().WaitAsync(TestKeys.Timeout);

        // Assert
        Assert.Null(await host.Node.StatAsync(key).AsTask().WaitAsync(TestKeys.Timeout));
        ShardException ex = await Assert.ThrowsAsync<ShardException>(() => host.Node.ReadAsync(key, 0, new byte[1]).AsTask().WaitAsync(TestKeys.Timeout));
        Assert.Equal(expected: ShardFailure.NotFound, actual: ex.Failure);
        Assert.Empty(await host.Node.ListAsync().AsTask().WaitAsync(TestKeys.Timeout));
    }

    [Theory]
    [Transport(TransportKind.InProcess)]
    [Transport(TransportKind.Tcp)]
    [Transport(TransportKind.TcpTls)]
    [Transport(TransportKind.Quic)]
    public async Task Uploads_ManyAtOnce_EachReadsBackItsOwnBytes(TransportKind kind)
    {
        // Arrange
        await using NodeHost host = await NodeHost.StartAsync(kind);
        const int Uploads = 8;
        const int CellSize = 128 * 1024;

        // Act: concurrent uploads, several cells in flight each (as the pipeline's senders do).
        await Task.WhenAll(Enumerable.Range(0, Uploads).Select(async u =>
        {
            await using IShardUpload upload = host.Node.BeginPut(TestKeys.Key(100 + u, (uint)u));
            byte[] shard = TestKeys.Bytes(4 * CellSize, u);
            await Task.WhenAll(Enumerable.Range(0, 4).Select(c => upload.WriteAsync(c * CellSize, shard.AsMemory(c * CellSize, CellSize)).AsTask()));
            await upload.CommitAsync(shard.Length);
        })).WaitAsync(TestKeys.Timeout);

        // Assert
        for (int u = 0; u < Uploads; u++)
        {
            byte[] read = new byte[4 * CellSize];
            Assert.Equal(expected: read.Length, actual: await host.Node.ReadAsync(TestKeys.Key(100 + u, (uint)u), 0, read).AsTask().WaitAsync(TestKeys.Timeout));
            Assert.True(TestKeys.Bytes(4 * CellSize, u).AsSpan().SequenceEqual(read), $"upload {u}");
        }
    }

    [Theory]
    [Transport(TransportKind.InProcess)]
    [Transport(TransportKind.Tcp)]
    [Transport(TransportKind.TcpTls)]
    [Transport(TransportKind.Quic)]
    public async Task Read_Cancelled_ThrowsOperationCanceledNotShardFailure(TransportKind kind)
    {
        // Arrange
        await using NodeHost host = await NodeHost.StartAsync(kind);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        // Act + Assert: the caller's own cancellation is not the node's fault.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => host.Node.ReadAsync(TestKeys.Key(6, 0), 0, new byte[8], cancelled.Token).AsTask().WaitAsync(TestKeys.Timeout));
    }
}
