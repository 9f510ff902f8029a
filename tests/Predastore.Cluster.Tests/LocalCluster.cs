using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.Logging;
using Predastore.Server;
using Predastore.Transport.Health;

namespace Predastore.Cluster.Tests;

/// <summary>
/// Real storage-node processes (<c>predastore node</c>) on loopback ports, and a gateway in the test process over
/// the TCP transport with short time-outs, so faults (SIGKILL, SIGSTOP, restart) are the real thing.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class LocalCluster : IAsyncDisposable
{
    public const string AccessKey = "AKCLUSTERTEST";
    public const string SecretKey = "cluster-test-secret-key";
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(1);

    private readonly string _root;
    private readonly Dictionary<int, Process> _nodes = [];
    private readonly Dictionary<int, int> _ports = [];

    private LocalCluster(string root, string clusterFile, int k, int m)
    {
        _root = root;
        ClusterFile = clusterFile;
        K = k;
        M = m;
    }

    public string ClusterFile { get; }

    public int K { get; }

    public int M { get; }

    public GatewayServer Gateway { get; private set; } = null!;

    public IReadOnlyCollection<int> NodeIds => _ports.Keys;

    public static async Task<LocalCluster> StartAsync(int nodes = 3, int k = 2, int m = 1)
    {
        string root = Directory.CreateTempSubdirectory("predastore-cluster-").FullName;
        var json = new StringBuilder("{ \"nodes\": [");
        var ports = new Dictionary<int, int>();
        for (int id = 1; id <= nodes; id++)
        {
            ports[id] = FreePort();
            json.Append(CultureInfo.InvariantCulture, $"{(id > 1 ? "," : "")} {{ \"id\": {id}, \"address\": \"127.0.0.1:{ports[id]}\" }}");
        }

        json.Append(CultureInfo.InvariantCulture, $"], \"dataShards\": {k}, \"parityShards\": {m}, \"blockSize\": 262144, \"transport\": \"tcp\", \"secret\": \"cluster-test-secret-0123456789\", ");
        json.Append(CultureInfo.InvariantCulture, $"\"timeouts\": {{ \"connectSeconds\": 1, \"requestSeconds\": {RequestTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}, \"idleSeconds\": 30 }} }}");
        string clusterFile = Path.Combine(root, "cluster.json");
        await File.WriteAllTextAsync(clusterFile, json.ToString());
        var cluster = new LocalCluster(root, clusterFile, k, m);
        foreach ((int id, int port) in ports)
        {
            cluster._ports[id] = port;
        }

        try
        {
            await Task.WhenAll(ports.Keys.Select(cluster.StartNodeAsync));
            ClusterSettings settings = ClusterSettings.Load(ClusterSettings.Build(clusterFile, []), requireNodes: true);
            cluster.Gateway = await GatewayServer.StartAsync(settings, new ClusterGatewayOptions
            {
                DataDirectory = Path.Combine(root, "gateway"),
                Port = 0,
                AccessKey = AccessKey,
                SecretKey = SecretKey,
                LogLevel = LogLevel.Warning,
                Health = new NodeHealthOptions { FailureThreshold = 3, ProbeInterval = TimeSpan.FromMilliseconds(200), ProbeTimeout = TimeSpan.FromSeconds(1) },
            });
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    public AmazonS3Client Client() => new(
        new BasicAWSCredentials(AccessKey, SecretKey),
        new AmazonS3Config { ServiceURL = Gateway.Endpoint.ToString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0, Timeout = TimeSpan.FromSeconds(30) });

    /// <summary>Starts (or restarts, on the same data directory and port) a node process and waits until it listens.</summary>
    public async Task StartNodeAsync(int id)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in (string[])[Path.Combine(AppContext.BaseDirectory, "predastore.dll"), "node", "--id", id.ToString(CultureInfo.InvariantCulture),
            "--data", Path.Combine(_root, $"node-{id}"), "--listen", $"127.0.0.1:{_ports[id]}", "--cluster", ClusterFile, "--log-level", "Warning"])
        {
            start.ArgumentList.Add(argument);
        }

        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new StringBuilder();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data?.Contains("listening on", StringComparison.Ordinal) == true)
            {
                listening.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (_nodes)
        {
            _nodes[id] = process;
        }

        Task exited = process.WaitForExitAsync();
        Task first = await Task.WhenAny(listening.Task, exited).WaitAsync(TimeSpan.FromSeconds(60));
        if (first == exited)
        {
            throw new InvalidOperationException($"node {id} exited at start: {output}");
        }
    }

    public async Task KillNodeAsync(int id)
    {
        Process process = _nodes[id];
        Signal("KILL", process.Id);
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
    }

    public void StopNode(int id) => Signal("STOP", _nodes[id].Id);

    public void ContinueNode(int id) => Signal("CONT", _nodes[id].Id);

    /// <summary>Waits until the gateway's health tracking has the node up (it probes every 200 ms).</summary>
    public async Task WaitHealthyAsync(int id)
    {
        var clock = Stopwatch.StartNew();
        while (!Gateway.Nodes.Single(n => n.Id == id).IsHealthy)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(20))
            {
                throw new TimeoutException($"node {id} never came back up");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (Process process in _nodes.Values)
        {
            if (!process.HasExited)
            {
                Signal("CONT", process.Id);
                process.Kill();
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }

            process.Dispose();
        }

        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        Directory.Delete(_root, recursive: true);
    }

    private static void Signal(string signal, int pid)
    {
        using Process kill = Process.Start("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)])!;
        kill.WaitForExit(10_000);
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}

internal static class TestData
{
    public static byte[] Random(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
}
