// Invariant: an upload keeps one stream with several writes in flight, so one broken stream must fail every write in
// flight, queued or submitted later (each with a shard failure, never a hang and never a success), and a caller's
// cancellation of one write loses the whole upload, since a frame on the wire cannot be taken back.
using System.Net;
using System.Net.Sockets;
using Predastore.Transport.Protocol;
using Predastore.Wal;

namespace Predastore.Transport.Tests.Network;

public sealed class ShardStreamFaultTests
{
    private static readonly NodeTransportOptions s_short = new()
    {
        ConnectTimeout = TimeSpan.FromMilliseconds(500),
        RequestTimeout = TimeSpan.FromMilliseconds(500),
        IdleTimeout = TimeSpan.FromSeconds(30),
    };

    [Fact]
    public async Task Write_ManyInFlightToANodeThatNeverAnswers_AllFailUnavailableAndLaterWritesToo()
    {
        // Arrange: a port that accepts and says nothing, so the stream never gets past the member handshake.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        await using RemoteShardNode node = NodeTransports.Connect(NodeTransportKind.Tcp, 5, (IPEndPoint)silent.LocalEndpoint, TestCertificates.Plain(), s_short);
        IShardUpload upload = node.BeginPut(TestKeys.Key(1, 0));
        byte[] cell = TestKeys.Bytes(64 * 1024, 1);

        // Act: four writes in flight at once, as the pipeline's senders keep them.
        Task[] writes = [.. Enumerable.Range(0, 4).Select(i => upload.WriteAsync(i * cell.Length, cell).AsTask())];
        Exception[] failures = await Task.WhenAll(writes.Select(w => Record.ExceptionAsync(() => w.WaitAsync(TestKeys.Timeout))));
        Exception later = await Record.ExceptionAsync(() => upload.WriteAsync(4 * cell.Length, cell).AsTask().WaitAsync(TestKeys.Timeout));

        // Assert
        Assert.All(failures, f => Assert.Equal(expected: ShardFailure.Unavailable, actual: Assert.IsType<ShardException>(f).Failure));
        Assert.Equal(expected: ShardFailure.Unavailable, actual: Assert.IsType<ShardException>(later).Failure);
        Assert.All(failures, f => Assert.Equal(expected: 5, actual: ((ShardException)f).NodeId));
        await upload.DisposeAsync().AsTask().WaitAsync(TestKeys.Timeout);
    }

    [Fact]
    public async Task Write_CallerCancelsOneOfSeveralInFlight_ThatWriteIsCancelledAndTheUploadIsLost()
    {
        // Arrange: a silent node keeps the writes pending until the cancellation.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var patient = new NodeTransportOptions { ConnectTimeout = TimeSpan.FromSeconds(30), RequestTimeout = TimeSpan.FromSeconds(30) };
        await using RemoteShardNode node = NodeTransports.Connect(NodeTransportKind.Tcp, 6, (IPEndPoint)silent.LocalEndpoint, TestCertificates.Plain(), patient);
        IShardUpload upload = node.BeginPut(TestKeys.Key(2, 0));
        byte[] cell = TestKeys.Bytes(1024, 2);
        using var cancel = new CancellationTokenSource();
        Task other = upload.WriteAsync(0, cell).AsTask();
        Task cancelled = upload.WriteAsync(cell.Length, cell, cancel.Token).AsTask();

        // Act
        await cancel.CancelAsync();
        Exception cancelledFailure = await Record.ExceptionAsync(() => cancelled.WaitAsync(TestKeys.Timeout));
        Exception otherFailure = await Record.ExceptionAsync(() => other.WaitAsync(TestKeys.Timeout));
        Exception commit = await Record.ExceptionAsync(() => upload.CommitAsync(2 * cell.Length).AsTask().WaitAsync(TestKeys.Timeout));

        // Assert: nothing of the upload succeeds after a lost frame.
        Assert.IsAssignableFrom<OperationCanceledException>(cancelledFailure);
        Assert.NotNull(otherFailure);
        Assert.NotNull(commit);
        Assert.IsNotType<TimeoutException>(commit);

        // Disposing abandons the shard on a fresh connection: refused at once once nothing listens.
        silent.Stop();
        await upload.DisposeAsync().AsTask().WaitAsync(TestKeys.Timeout);
    }

    [Fact]
    public async Task Write_AfterAPauseLongerThanTheNodesIdleTimeout_Succeeds()
    {
        // Arrange: node and gateway with a 1 s idle time-out (cluster.json gives both the same)
        var idle = new NodeTransportOptions { ConnectTimeout = TimeSpan.FromSeconds(2), RequestTimeout = TimeSpan.FromSeconds(2), IdleTimeout = TimeSpan.FromSeconds(1) };
        await using NodeHost host = await NodeHost.StartAsync(TransportKind.Tcp, idle);
        byte[] cell = TestKeys.Bytes(4096, 40);
        ShardKey key = TestKeys.Key(40, 0);
        IShardUpload upload = host.Node.BeginPut(key);
        await upload.WriteAsync(0, cell).AsTask().WaitAsync(TestKeys.Timeout);

        // Act: a slow client; its next block is ready only after the node's idle time-out
        await Task.Delay(TimeSpan.FromMilliseconds(1600));
        await upload.WriteAsync(cell.Length, cell).AsTask().WaitAsync(TestKeys.Timeout);
        await upload.CommitAsync(2 * cell.Length).AsTask().WaitAsync(TestKeys.Timeout);
        await upload.DisposeAsync();

        // Assert: the stream stayed open through the pause, and the shard is whole
        byte[] read = new byte[2 * cell.Length];
        Assert.Equal(expected: read.Length, actual: await host.Node.ReadAsync(key, 0, read).AsTask().WaitAsync(TestKeys.Timeout));
        Assert.True(read.AsSpan(0, cell.Length).SequenceEqual(cell) && read.AsSpan(cell.Length).SequenceEqual(cell));
    }
}
