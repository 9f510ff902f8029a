using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using Predastore.Transport;
using Predastore.Transport.Protocol;
using Predastore.Transport.Security;
using Predastore.Wal;

namespace Predastore.Benchmarks.Transport;

/// <summary>
/// A shard stream between two processes on loopback: <see cref="FramesPerInvoke"/> cells of
/// <see cref="CellSize"/> bytes written to one upload, each acknowledged once durable, against a raw socket and a
/// raw SslStream carrying the same bytes with one ack per invoke, in the same run. The node-protocol writer keeps
/// <see cref="InFlight"/> writes outstanding, as the gateway's upload pipeline does per shard (its send stage runs
/// that many stripes at once); the <c>OneInFlight</c> case awaits every ack before the next write. MB/s per stream
/// = CellSize / Mean (Mean is per frame). Goal: node protocol ≥ 80% of raw TCP, and over TLS ≥ 80% of raw
/// SslStream; 0 B allocated per frame. Only this process is measured: the node's end is covered by
/// ShardStreamAllocationTests, which runs both ends in one process.
/// </summary>
[MemoryDiagnoser]
public class ShardStreamBenchmarks
{
    // Many frames per invoke, so the invoke's own Task (about 200 B, in the raw cases as well) comes to 0.2 B per
    // frame, which Allocated rounds to 0: a frame that allocates anything shows.
    private const int FramesPerInvoke = 1024;

    // UploadPipeline.SendersInFlight.
    private const int InFlight = 4;

    private readonly List<Process> _sinks = [];
    private byte[] _cell = null!;
    private string _pfx = null!;
    private Stream _raw = null!;
    private Stream _rawTls = null!;
    private RemoteShardNode _node = null!;
    private RemoteShardNode _nodeTls = null!;
    private IShardUpload _upload = null!;
    private IShardUpload _uploadTls = null!;
    private readonly byte[] _ack = new byte[1];

    // One ring of outstanding writes per benchmark, so no two benchmark methods ever share one.
    private readonly ValueTask[] _writesTcp = new ValueTask[InFlight];
    private readonly ValueTask[] _writesTcpOne = new ValueTask[1];
    private readonly ValueTask[] _writesTls = new ValueTask[InFlight];

    [Params(1024 * 1024)]
    public int CellSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _cell = GC.AllocateArray<byte>(CellSize, pinned: true);
        RandomNumberGenerator.Fill(_cell);
        byte[] secret = RandomNumberGenerator.GetBytes(32);
        using X509Certificate2 certificate = SelfSigned();
        _pfx = Path.Combine(Path.GetTempPath(), $"predastore-bench-{Environment.ProcessId}.pfx");
        File.WriteAllBytes(_pfx, certificate.Export(X509ContentType.Pfx));
        X509Certificate2 member = X509CertificateLoader.LoadPkcs12FromFile(_pfx, null);
        long batch = (long)CellSize * FramesPerInvoke;

        _raw = ConnectRaw(Sink("raw", null, secret, batch), tls: false);
        _rawTls = ConnectRaw(Sink("raw", _pfx, secret, batch), tls: true);
        var options = new NodeTransportOptions { RequestTimeout = TimeSpan.FromSeconds(30) };
        _node = NodeTransports.Connect(NodeTransportKind.Tcp, 1, new IPEndPoint(IPAddress.Loopback, Sink("node", null, secret, batch)), new NodeSecurity(secret), options);
        _nodeTls = NodeTransports.Connect(NodeTransportKind.Tcp, 2, new IPEndPoint(IPAddress.Loopback, Sink("node", _pfx, secret, batch)), new NodeSecurity(secret, member, member), options);
        Span<byte> hash = stackalloc byte[ShardKey.ObjectHashSize];
        Span<byte> dataId = stackalloc byte[ShardKey.DataIdSize];
        _upload = _node.BeginPut(new ShardKey(hash, dataId, 0));
        _uploadTls = _nodeTls.BeginPut(new ShardKey(hash, dataId, 1));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _raw.Dispose();
        _rawTls.Dispose();
        _node.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _nodeTls.DisposeAsync().AsTask().GetAwaiter().GetResult();
        foreach (Process sink in _sinks)
        {
            sink.StandardInput.WriteLine();
            if (!sink.WaitForExit(5000))
            {
                sink.Kill();
            }

            sink.Dispose();
        }

        File.Delete(_pfx);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = FramesPerInvoke)]
    public Task RawTcpAsync() => RawAsync(_raw);

    [Benchmark(OperationsPerInvoke = FramesPerInvoke)]
    public Task NodeProtocolTcpAsync() => FramesAsync(_upload, _writesTcp);

    [Benchmark(OperationsPerInvoke = FramesPerInvoke)]
    public Task NodeProtocolTcpOneInFlightAsync() => FramesAsync(_upload, _writesTcpOne);

    [Benchmark(OperationsPerInvoke = FramesPerInvoke)]
    public Task RawSslStreamAsync() => RawAsync(_rawTls);

    [Benchmark(OperationsPerInvoke = FramesPerInvoke)]
    public Task NodeProtocolTlsAsync() => FramesAsync(_uploadTls, _writesTls);

    private async Task RawAsync(Stream stream)
    {
        for (int i = 0; i < FramesPerInvoke; i++)
        {
            await stream.WriteAsync(_cell);
        }

        await stream.ReadExactlyAsync(_ack);
    }

    private async Task FramesAsync(IShardUpload upload, ValueTask[] writes)
    {
        int inFlight = writes.Length;
        // A ring of outstanding writes: the oldest is awaited before its slot takes the next cell.
        for (int i = 0; i < FramesPerInvoke; i++)
        {
            int slot = i % inFlight;
            if (i >= inFlight)
            {
                await writes[slot];
            }

            writes[slot] = upload.WriteAsync((long)i * CellSize, _cell);
        }

        for (int i = FramesPerInvoke; i < FramesPerInvoke + inFlight; i++)
        {
            await writes[i % inFlight];
        }
    }

    private int Sink(string mode, string? pfx, byte[] secret, long batch)
    {
        Process process = TransportSink.Start(mode, pfx, secret, batch, out int port);
        _sinks.Add(process);
        return port;
    }

    private static Stream ConnectRaw(int port, bool tls)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        if (tls)
        {
            var ssl = new SslStream(stream, false);
            ssl.AuthenticateAsClient(new SslClientAuthenticationOptions { TargetHost = "localhost", EnabledSslProtocols = SslProtocols.Tls13, RemoteCertificateValidationCallback = (_, _, _, _) => true });
            stream = ssl;
        }

        return stream;
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=predastore-bench", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }
}
