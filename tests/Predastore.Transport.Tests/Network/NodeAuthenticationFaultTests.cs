// Invariant: nothing on a node port is anonymous. A peer without the cluster secret, or without a certificate from
// the cluster authority when TLS is on, is refused before its first frame is read: it gets the challenge and a
// closed connection, never a shard byte, and nothing it sends is written.
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Predastore.Transport.Protocol;
using Predastore.Transport.Security;
using Predastore.Transport.Tcp;
using Predastore.Wal;

namespace Predastore.Transport.Tests.Network;

public sealed class NodeAuthenticationFaultTests
{
    [Fact]
    public async Task Client_WrongSecret_IsRefusedAndReadsNothing()
    {
        // Arrange: a committed shard on the node.
        await using NodeHost host = await NodeHost.StartAsync(TransportKind.Tcp);
        ShardKey key = TestKeys.Key(9, 0);
        await CommitAsync(host.Node, key, 1000);
        await using RemoteShardNode stranger = NodeTransports.Connect(NodeTransportKind.Tcp, 1, host.EndPoint!, new NodeSecurity(RandomNumberGenerator.GetBytes(32)), NodeHost.FastOptions);

        // Act
        ShardException read = await Assert.ThrowsAsync<ShardException>(() => stranger.ReadAsync(key, 0, new byte[1000]).AsTask().WaitAsync(TestKeys.Timeout));
        ShardException write = await Assert.ThrowsAsync<ShardException>(async () =>
        {
            await using IShardUpload upload = stranger.BeginPut(TestKeys.Key(10, 0));
            await upload.WriteAsync(0, new byte[10]).AsTask().WaitAsync(TestKeys.Timeout);
        });

        // Assert
        Assert.Equal(expected: ShardFailure.Unavailable, actual: read.Failure);
        Assert.Equal(expected: ShardFailure.Unavailable, actual: write.Failure);
        Assert.Equal(expected: [key], actual: host.Server.List());
    }

    [Fact]
    public async Task RawSocket_SendsFramesWithoutHandshake_GetsOnlyTheChallengeAndNothingIsWritten()
    {
        // Arrange
        await using NodeHost host = await NodeHost.StartAsync(TransportKind.Tcp);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(host.EndPoint!).WaitAsync(TestKeys.Timeout);

        // Act: a well-formed write frame, then a commit, straight away.
        byte[] frames = new byte[2 * (Frame.PrefixSize + RequestHeader.Size) + 64];
        ShardKey key = TestKeys.Key(11, 0);
        Frame.WritePrefix(frames, NodeOpcode.Write, RequestHeader.Size);
        new RequestHeader(64, key, 0, 0).WriteTo(frames.AsSpan(Frame.PrefixSize));
        int second = Frame.PrefixSize + RequestHeader.Size + 64;
        Frame.WritePrefix(frames.AsSpan(second), NodeOpcode.Commit, RequestHeader.Size);
        new RequestHeader(0, key, 0, 64).WriteTo(frames.AsSpan(second + Frame.PrefixSize));
        await socket.SendAsync(frames).WaitAsync(TestKeys.Timeout);
        byte[] received = new byte[4096];
        int total = 0;
        while (true)
        {
            int n;
            try
            {
                n = await socket.ReceiveAsync(received.AsMemory(total)).AsTask().WaitAsync(TestKeys.Timeout);
            }
            catch (SocketException)
            {
                break;
            }

            if (n == 0)
            {
                break;
            }

            total += n;
        }

        // Assert: the 36-byte challenge, then the node hung up; the shard does not exist.
        Assert.Equal(expected: 4 + MemberHandshake.NonceSize, actual: total);
        Assert.Equal(expected: MemberHandshake.Magic, actual: BinaryPrimitives.ReadUInt32BigEndian(received));
        Assert.Null(host.Server.Stat(key));
        Assert.Empty(host.Server.List());
    }

    [Fact]
    public async Task TlsClient_CertificateFromAnotherAuthority_IsRefused()
    {
        // Arrange
        await using NodeHost host = await NodeHost.StartAsync(TransportKind.TcpTls);
        ShardKey key = TestKeys.Key(12, 0);
        await CommitAsync(host.Node, key, 100);
        await using RemoteShardNode stranger = NodeTransports.Connect(NodeTransportKind.Tcp, 1, host.EndPoint!, TestCertificates.StrangerTls(), NodeHost.FastOptions);

        // Act
        ShardException ex = await Assert.ThrowsAsync<ShardException>(() => stranger.ReadAsync(key, 0, new byte[100]).AsTask().WaitAsync(TestKeys.Timeout));

        // Assert
        Assert.Equal(expected: ShardFailure.Unavailable, actual: ex.Failure);
    }

    [Fact]
    public async Task PlainClient_ToTlsNode_IsRefused()
    {
        await using NodeHost host = await NodeHost.StartAsync(TransportKind.TcpTls);
        await using RemoteShardNode plain = NodeTransports.Connect(NodeTransportKind.Tcp, 1, host.EndPoint!, TestCertificates.Plain(), NodeHost.FastOptions);

        ShardException ex = await Assert.ThrowsAsync<ShardException>(() => plain.StatAsync(TestKeys.Key(13, 0)).AsTask().WaitAsync(TestKeys.Timeout));

        Assert.Equal(expected: ShardFailure.Unavailable, actual: ex.Failure);
    }

    [Fact]
    public void Plaintext_OffLoopback_IsRefusedAtStart()
    {
        string directory = Directory.CreateTempSubdirectory("predastore-transport-").FullName;
        try
        {
            var store = new NullStore();
            InvalidOperationException listen = Assert.Throws<InvalidOperationException>(() => TcpNodeListener.Start(new IPEndPoint(IPAddress.Any, 0), store, TestCertificates.Plain()));
            InvalidOperationException dial = Assert.Throws<InvalidOperationException>(() => NodeTransports.Connect(NodeTransportKind.Tcp, 1, new IPEndPoint(IPAddress.Parse("192.0.2.1"), 7000), TestCertificates.Plain()));

            Assert.Contains("--listen", listen.Message, StringComparison.Ordinal);
            Assert.Contains("TLS", dial.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    internal static async Task CommitAsync(IShardNode node, ShardKey key, int length)
    {
        await using IShardUpload upload = node.BeginPut(key);
        await upload.WriteAsync(0, TestKeys.Bytes(length, 1)).AsTask().WaitAsync(TestKeys.Timeout);
        await upload.CommitAsync(length).AsTask().WaitAsync(TestKeys.Timeout);
    }

    private sealed class NullStore : IShardStore
    {
        public int NodeId => 1;

        public ValueTask WriteAsync(ShardKey key, long shardOffset, ReadOnlyMemory<byte> cells, CancellationToken cancellationToken = default) => default;

        public ValueTask CommitAsync(ShardKey key, long shardLength, CancellationToken cancellationToken = default) => default;

        public void Abandon(ShardKey key)
        {
        }

        public ValueTask<int> ReadAsync(ShardKey key, long shardOffset, Memory<byte> destination, CancellationToken cancellationToken = default) => ValueTask.FromResult(0);

        public ValueTask DeleteAsync(ShardKey key, CancellationToken cancellationToken = default) => default;

        public long? Stat(ShardKey key) => null;

        public IReadOnlyList<ShardKey> List() => [];
    }
}
