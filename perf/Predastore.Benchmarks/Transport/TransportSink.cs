using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Predastore.Transport;
using Predastore.Transport.Security;
using Predastore.Transport.Tcp;
using Predastore.Wal;

namespace Predastore.Benchmarks.Transport;

/// <summary>
/// The far end of the transport benchmarks, in a process of its own: this executable started again with
/// <see cref="ModeVariable"/> set and itself as a startup hook, so the sink runs instead of Main. It drains a raw socket (or SslStream) and acks each batch with one byte, or
/// serves the node protocol over a store that keeps nothing, so the figures are the transport's alone.
/// </summary>
internal static class TransportSink
{
    public const string ModeVariable = "PREDASTORE_TRANSPORT_SINK";
    public const string CertificateVariable = "PREDASTORE_TRANSPORT_SINK_PFX";
    public const string SecretVariable = "PREDASTORE_TRANSPORT_SINK_SECRET";
    public const string BatchVariable = "PREDASTORE_TRANSPORT_SINK_BATCH";

    /// <summary>Called by <see cref="StartupHook"/> before Main; exits the process when it ran as a sink.</summary>
    internal static void RunIfAsked()
    {
        string? mode = Environment.GetEnvironmentVariable(ModeVariable);
        if (mode is null)
        {
            return;
        }

        // The hook runs before Main: load what the sink's thread-pool work needs here, on this thread.
        using (var warm = new SslStream(new MemoryStream()))
        {
            _ = warm.IsAuthenticated;
        }

        Environment.Exit(Task.Run(() => RunAsync(mode)).GetAwaiter().GetResult());
    }

    private static async Task<int> RunAsync(string mode)
    {
        X509Certificate2? certificate = Environment.GetEnvironmentVariable(CertificateVariable) is { Length: > 0 } pfx
            ? X509CertificateLoader.LoadPkcs12FromFile(pfx, null)
            : null;
        byte[] secret = Convert.FromBase64String(Environment.GetEnvironmentVariable(SecretVariable)!);
        long batch = long.Parse(Environment.GetEnvironmentVariable(BatchVariable)!, CultureInfo.InvariantCulture);
        var loopback = new IPEndPoint(IPAddress.Loopback, 0);
        if (mode == "node")
        {
            await using TcpNodeListener listener = TcpNodeListener.Start(loopback, new NullStore(), new NodeSecurity(secret, certificate));
            Console.WriteLine(listener.LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture));
            await Console.In.ReadLineAsync();
            return 0;
        }

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(loopback);
        socket.Listen();
        Console.WriteLine(((IPEndPoint)socket.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture));
        Task stdin = Task.Run(Console.In.ReadLine);
        while (!stdin.IsCompleted)
        {
            Socket accepted = await socket.AcceptAsync();
            accepted.NoDelay = true;
            _ = DrainAsync(accepted, certificate, batch);
        }

        return 0;
    }

    private static async Task DrainAsync(Socket socket, X509Certificate2? certificate, long batch)
    {
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            if (certificate is not null)
            {
                var tls = new SslStream(stream);
                stream = tls;
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate, EnabledSslProtocols = SslProtocols.Tls13 });
            }

            byte[] buffer = GC.AllocateArray<byte>(1024 * 1024, pinned: true);
            long received = 0;
            while (true)
            {
                int n = await stream.ReadAsync(buffer);
                if (n == 0)
                {
                    return;
                }

                received += n;
                if (received >= batch)
                {
                    received -= batch;
                    await stream.WriteAsync(buffer.AsMemory(0, 1));
                }
            }
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }

    public static Process Start(string mode, string? pfx, byte[] secret, long batch, out int port)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(typeof(TransportSink).Assembly.Location);
        }

        start.Environment["DOTNET_STARTUP_HOOKS"] = typeof(TransportSink).Assembly.Location;
        start.Environment[ModeVariable] = mode;
        start.Environment[CertificateVariable] = pfx ?? "";
        start.Environment[SecretVariable] = Convert.ToBase64String(secret);
        start.Environment[BatchVariable] = batch.ToString(CultureInfo.InvariantCulture);
        Process process = Process.Start(start)!;
        port = int.Parse(process.StandardOutput.ReadLine()!, CultureInfo.InvariantCulture);
        return process;
    }

    private sealed class NullStore : IShardStore
    {
        public int NodeId => 1;

        public ValueTask WriteAsync(ShardKey key, long shardOffset, ReadOnlyMemory<byte> cells, CancellationToken cancellationToken = default) => default;

        public ValueTask CommitAsync(ShardKey key, long shardLength, CancellationToken cancellationToken = default) => default;

        public void Abandon(ShardKey key)
        {
        }

        public ValueTask<int> ReadAsync(ShardKey key, long shardOffset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(destination.Length);

        public ValueTask DeleteAsync(ShardKey key, CancellationToken cancellationToken = default) => default;

        public long? Stat(ShardKey key) => null;

        public IReadOnlyList<ShardKey> List() => [];
    }
}
