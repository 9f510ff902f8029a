// Invariant: a node that does not answer costs a request one time-out, never a hang; a connection that failed is
// never reused, and the next request dials a fresh one (a restarted node is reached again).
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Predastore.Transport.Health;
using Predastore.Transport.Protocol;
using Predastore.Transport.Tcp;
using Predastore.Wal;

namespace Predastore.Transport.Tests.Network;

public sealed class NodeTimeoutFaultTests
{
    private static readonly NodeTransportOptions s_short = new()
    {
        ConnectTimeout = TimeSpan.FromMilliseconds(500),
        RequestTimeout = TimeSpan.FromMilliseconds(500),
        IdleTimeout = TimeSpan.FromSeconds(30),
    };

    [Fact]
    public async Task Read_NodeAcceptsButNeverAnswers_FailsUnavailableAfterTheConnectTimeout()
    {
        // Arrange: a port that accepts (as a stopped process's kernel backlog does) and says nothing.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        await using RemoteShardNode node = NodeTransports.Connect(NodeTransportKind.Tcp, 7, (IPEndPoint)silent.LocalEndpoint, TestCertificates.Plain(), s_short);
        var clock = Stopwatch.StartNew();

        // Act
        ShardException ex = await Assert.ThrowsAsync<ShardException>(() => node.ReadAsync(TestKeys.Key(1, 0), 0, new byte[10]).AsTask().WaitAsync(TestKeys.Timeout));

        // Assert
        Assert.Equal(expected: ShardFailure.Unavailable, actual: ex.Failure);
        Assert.Equal(expected: 7, actual: ex.NodeId);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Request_NoListener_FailsUnavailable()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var endPoint = (IPEndPoint)probe.LocalEndpoint;
        probe.Stop();
        await using RemoteShardNode node = NodeTransports.Connect(NodeTransportKind.Tcp, 3, endPoint, TestCertificates.Plain(), s_short);

        ShardException ex = await Assert.ThrowsAsync<ShardException>(() => node.StatAsync(TestKeys.Key(1, 0)).AsTask().WaitAsync(TestKeys.Timeout));

        Assert.Equal(expected: ShardFailure.Unavailable, actual: ex.Failure);
    }

    [Fact]
    public async Task Pool_NodeRestartedOnSamePort_NextRequestRedialsAndSucceeds()
    {
        // Arrange: a node, a pooled connection to it, then the node's listener restarts on the same port.
        string directory = Directory.CreateTempSubdirectory("predastore-transport-").FullName;
        try
        {
            var server = new ShardServer(1, WriteAheadLog.Open(new WalOptions { Directory = directory }));
            await using (server)
            {
                TcpNodeListener first = TcpNodeListener.Start(new IPEndPoint(IPAddress.Loopback, 0), server, TestCertificates.Plain(), NodeHost.FastOptions);
                IPEndPoint endPoint = first.LocalEndPoint;
                await using RemoteShardNode node = NodeTransports.Connect(NodeTransportKind.Tcp, 1, endPoint, TestCertificates.Plain(), NodeHost.FastOptions);
                ShardKey key = TestKeys.Key(2, 0);
                await NodeAuthenticationFaultTests.CommitAsync(node, key, 500);
                await first.DisposeAsync();
                await using TcpNodeListener second = TcpNodeListener.Start(endPoint, server, TestCertificates.Plain(), NodeHost.FastOptions);

                // Act
                long? length = await node.StatAsync(key).AsTask().WaitAsync(TestKeys.Timeout);
                byte[] read = new byte[500];
                int n = await node.ReadAsync(key, 0, read).AsTask().WaitAsync(TestKeys.Timeout);

                // Assert
                Assert.Equal(expected: 500, actual: length);
                Assert.Equal(expected: 500, actual: n);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Health_RepeatedFailures_MarksDownFailsFastThenProbesBackUp()
    {
        // Arrange: nothing listens yet on the node's port.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var endPoint = (IPEndPoint)probe.LocalEndpoint;
        probe.Stop();
        string directory = Directory.CreateTempSubdirectory("predastore-transport-").FullName;
        var server = new ShardServer(1, WriteAheadLog.Open(new WalOptions { Directory = directory }));
        await using var node = new HealthTrackedNode(
            NodeTransports.Connect(NodeTransportKind.Tcp, 1, endPoint, TestCertificates.Plain(), s_short),
            new NodeHealthOptions { FailureThreshold = 2, ProbeInterval = TimeSpan.FromMilliseconds(100), ProbeTimeout = TimeSpan.FromMilliseconds(500) });
        try
        {
            // Act: two failures mark it down; the third request fails without touching the network.
            for (int i = 0; i < 2; i++)
            {
                await Assert.ThrowsAsync<ShardException>(() => node.StatAsync(TestKeys.Key(1, 0)).AsTask().WaitAsync(TestKeys.Timeout));
            }

            Assert.False(node.IsHealthy);
            ShardException down = await Assert.ThrowsAsync<ShardException>(() => node.StatAsync(TestKeys.Key(1, 0)).AsTask().WaitAsync(TestKeys.Timeout));
            Assert.Contains("marked down", down.Message, StringComparison.Ordinal);

            // The node comes up: the probe notices.
            await using TcpNodeListener listener = TcpNodeListener.Start(endPoint, server, TestCertificates.Plain(), s_short);
            var waited = Stopwatch.StartNew();
            while (!node.IsHealthy && waited.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(50);
            }

            // Assert
            Assert.True(node.IsHealthy);
            Assert.Null(await node.StatAsync(TestKeys.Key(1, 0)).AsTask().WaitAsync(TestKeys.Timeout));
        }
        finally
        {
            await server.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Write_OneLostStreamWithFourWritesInFlight_CountsAsOneFailureOfTheNode()
    {
        // Arrange: a port that never answers, behind health tracking that marks a node down after three failures
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        await using var node = new HealthTrackedNode(
            NodeTransports.Connect(NodeTransportKind.Tcp, 7, (IPEndPoint)silent.LocalEndpoint, TestCertificates.Plain(), s_short),
            new NodeHealthOptions { FailureThreshold = 3, ProbeInterval = TimeSpan.FromSeconds(30) });
        IShardUpload upload = node.BeginPut(TestKeys.Key(7, 0));
        byte[] cell = TestKeys.Bytes(1024, 7);

        // Act: four writes in flight on the upload's one stream, as the pipeline keeps them; the stream fails once
        Task[] writes = [.. Enumerable.Range(0, 4).Select(i => upload.WriteAsync(i * cell.Length, cell).AsTask())];
        Exception[] failures = await Task.WhenAll(writes.Select(w => Record.ExceptionAsync(() => w.WaitAsync(TestKeys.Timeout))));

        // Assert: every write failed, and the node took one failure, not four
        Assert.All(failures, f => Assert.Equal(expected: ShardFailure.Unavailable, actual: Assert.IsType<ShardException>(f).Failure));
        Assert.True(node.IsHealthy, "one lost connection marked the node down");
        await upload.DisposeAsync();
    }

    [Fact]
    public async Task Dispose_UploadOnANodeMarkedDown_StillClosesItsStreamAndAbandons()
    {
        // Arrange: an upload with a write done on its stream; then other traffic marks the node down, so the
        // upload's next write fails
        var store = new NullStore();
        await using TcpNodeListener listener = TcpNodeListener.Start(new IPEndPoint(IPAddress.Loopback, 0), store, TestCertificates.Plain(), NodeHost.FastOptions);
        await using var node = new HealthTrackedNode(
            NodeTransports.Connect(NodeTransportKind.Tcp, 1, listener.LocalEndPoint, TestCertificates.Plain(), NodeHost.FastOptions),
            new NodeHealthOptions { ProbeInterval = TimeSpan.FromSeconds(30) });
        ShardKey key = TestKeys.Key(8, 0);
        IShardUpload upload = node.BeginPut(key);
        await upload.WriteAsync(0, TestKeys.Bytes(1024, 8)).AsTask().WaitAsync(TestKeys.Timeout);
        node.MarkDown("test");
        await Assert.ThrowsAsync<ShardException>(() => upload.WriteAsync(1024, TestKeys.Bytes(1024, 8)).AsTask());

        // Act
        await upload.DisposeAsync().AsTask().WaitAsync(TestKeys.Timeout);

        // Assert: the inner upload was disposed (in the background: its stream closed and the abandon sent), not
        // skipped, which left the stream's loops and connection open for the life of the process
        DateTime deadline = DateTime.UtcNow + TestKeys.Timeout;
        while (!store.Abandoned.Contains(key) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Contains(key, store.Abandoned);
    }
}
