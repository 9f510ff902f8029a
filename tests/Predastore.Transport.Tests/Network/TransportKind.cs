using System.Net;
using System.Reflection;
using Predastore.Transport.InProcess;
using Predastore.Transport.Protocol;
using Predastore.Transport.Quic;
using Predastore.Transport.Security;
using Predastore.Transport.Tcp;
using Predastore.Wal;
using Xunit.Sdk;

namespace Predastore.Transport.Tests.Network;

public enum TransportKind
{
    InProcess,
    Tcp,
    TcpTls,
    Quic,
}

/// <summary>
/// One row of the contract suite per transport. The QUIC row is skipped, with the reason printed, where MsQuic is
/// not installed (xUnit 2 reads <c>Skip</c> from the attribute instance, so it can be decided at run time).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class TransportAttribute : DataAttribute
{
    private readonly TransportKind _kind;

    public TransportAttribute(TransportKind kind)
    {
        _kind = kind;
        if (kind == TransportKind.Quic && !QuicNodeTransport.IsSupported)
        {
            Skip = QuicNodeTransport.UnsupportedReason;
        }
    }

    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[_kind]];
}

/// <summary>A storage node (WAL + shard server) behind a real listener on loopback, and the gateway's client for it.</summary>
internal sealed class NodeHost : IAsyncDisposable
{
    private readonly string _directory;
    private readonly IAsyncDisposable? _listener;
    private readonly IAsyncDisposable? _client;

    private NodeHost(string directory, ShardServer server, IShardNode node, IAsyncDisposable? listener, IPEndPoint? endPoint)
    {
        _directory = directory;
        Server = server;
        Node = node;
        _listener = listener;
        _client = node as IAsyncDisposable;
        EndPoint = endPoint;
    }

    public ShardServer Server { get; }

    public IShardNode Node { get; }

    public IPEndPoint? EndPoint { get; }

    public static NodeTransportOptions FastOptions { get; } = new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(2),
        RequestTimeout = TimeSpan.FromSeconds(2),
        IdleTimeout = TimeSpan.FromSeconds(30),
    };

    public static async Task<NodeHost> StartAsync(TransportKind kind, NodeTransportOptions? options = null, int nodeId = 1)
    {
        options ??= FastOptions;
        string directory = Directory.CreateTempSubdirectory("predastore-transport-").FullName;
        var server = new ShardServer(nodeId, WriteAheadLog.Open(new WalOptions { Directory = directory }));
        var loopback = new IPEndPoint(IPAddress.Loopback, 0);
        switch (kind)
        {
            case TransportKind.InProcess:
                return new NodeHost(directory, server, new InProcessShardNode(server), null, null);
            case TransportKind.Tcp:
            case TransportKind.TcpTls:
                NodeSecurity security = kind == TransportKind.Tcp ? TestCertificates.Plain() : TestCertificates.Tls();
                TcpNodeListener listener = TcpNodeListener.Start(loopback, server, security, options);
                return new NodeHost(directory, server, NodeTransports.Connect(NodeTransportKind.Tcp, nodeId, listener.LocalEndPoint, security, options), listener, listener.LocalEndPoint);
            default:
                if (!OperatingSystem.IsLinux())
                {
                    throw new PlatformNotSupportedException();
                }

                QuicNodeListener quic = await QuicNodeListener.StartAsync(loopback, server, TestCertificates.Tls(), options);
                return new NodeHost(directory, server, NodeTransports.Connect(NodeTransportKind.Quic, nodeId, quic.LocalEndPoint, TestCertificates.Tls(), options), quic, quic.LocalEndPoint);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        if (_listener is not null)
        {
            await _listener.DisposeAsync();
        }

        await Server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}

internal static class TestKeys
{
    public static ShardKey Key(int seed, uint shardIndex)
    {
        Span<byte> hash = stackalloc byte[ShardKey.ObjectHashSize];
        Span<byte> dataId = stackalloc byte[ShardKey.DataIdSize];
        new Random(seed).NextBytes(hash);
        new Random(seed + 1).NextBytes(dataId);
        return new ShardKey(hash, dataId, shardIndex);
    }

    public static byte[] Bytes(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
}

/// <summary>A node store that keeps nothing, so a test counts only the transport's work; it records abandoned uploads.</summary>
internal sealed class NullStore : IShardStore
{
    public int NodeId => 1;

    public ValueTask WriteAsync(ShardKey key, long shardOffset, ReadOnlyMemory<byte> cells, CancellationToken cancellationToken = default) => default;

    public ValueTask CommitAsync(ShardKey key, long shardLength, CancellationToken cancellationToken = default) => default;

    public System.Collections.Concurrent.ConcurrentQueue<ShardKey> Abandoned { get; } = new();

    public void Abandon(ShardKey key) => Abandoned.Enqueue(key);

    public ValueTask<int> ReadAsync(ShardKey key, long shardOffset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(0);

    public ValueTask DeleteAsync(ShardKey key, CancellationToken cancellationToken = default) => default;

    public long? Stat(ShardKey key) => null;

    public IReadOnlyList<ShardKey> List() => [];
}
