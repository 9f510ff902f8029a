using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Predastore.Server;

var data = new Option<string>("--data") { Description = "Data directory (nodes, metadata, credentials).", DefaultValueFactory = _ => "data" };
var address = new Option<string>("--address") { Description = "Address to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
var port = new Option<int>("--port") { Description = "Port to listen on.", DefaultValueFactory = _ => 9000 };
var tls = new Option<bool>("--tls") { Description = "Serve HTTPS (a self-signed certificate is made on first start unless --tls-cert is given)." };
var tlsCert = new Option<string?>("--tls-cert") { Description = "Certificate file, PEM or PFX." };
var tlsKey = new Option<string?>("--tls-key") { Description = "Private key file for a PEM certificate." };
var accessKey = new Option<string?>("--access-key") { Description = "Access key (default: PREDASTORE_ACCESS_KEY, else generated)." };
var secretKey = new Option<string?>("--secret-key") { Description = "Secret key (default: PREDASTORE_SECRET_KEY, else generated)." };
var region = new Option<string>("--region") { Description = "Region the gateway signs for.", DefaultValueFactory = _ => "us-east-1" };
var abortAfter = new Option<TimeSpan>("--abort-incomplete-uploads-after") { Description = "Abort multipart uploads left unfinished this long (d.hh:mm:ss).", DefaultValueFactory = _ => TimeSpan.FromDays(7) };
var logLevel = new Option<LogLevel>("--log-level") { Description = "Minimum log level.", DefaultValueFactory = _ => LogLevel.Information };

var serve = new Command("serve", "Run the S3 gateway with three in-process storage nodes, RS(2,1).")
{
    data, address, port, tls, tlsCert, tlsKey, accessKey, secretKey, region, abortAfter, logLevel,
};
serve.SetAction(async (result, cancellationToken) =>
{
    var options = new ServeOptions
    {
        DataDirectory = result.GetValue(data)!,
        Address = result.GetValue(address)!,
        Port = result.GetValue(port),
        Tls = result.GetValue(tls) || result.GetValue(tlsCert) is not null,
        TlsCertificate = result.GetValue(tlsCert),
        TlsKey = result.GetValue(tlsKey),
        AccessKey = result.GetValue(accessKey) ?? Environment.GetEnvironmentVariable("PREDASTORE_ACCESS_KEY"),
        SecretKey = result.GetValue(secretKey) ?? Environment.GetEnvironmentVariable("PREDASTORE_SECRET_KEY"),
        Region = result.GetValue(region)!,
        AbortIncompleteUploadsAfter = result.GetValue(abortAfter),
        LogLevel = result.GetValue(logLevel),
    };

    await using EmbeddedServer server = await EmbeddedServer.StartAsync(options, cancellationToken);
    if (server.CredentialsGenerated)
    {
        Console.WriteLine("Generated credentials (kept in the data directory; shown only this once):");
        Console.WriteLine($"  AWS_ACCESS_KEY_ID={server.Credentials.AccessKey}");
        Console.WriteLine($"  AWS_SECRET_ACCESS_KEY={server.Credentials.SecretKey}");
    }

    Console.WriteLine($"predastore serving S3 at {server.Endpoint} (region {options.Region}, data {Path.GetFullPath(options.DataDirectory)})");

    await server.WaitForShutdownAsync(cancellationToken);
    Console.WriteLine("predastore: draining requests and closing the storage nodes");
    return 0;
});

var nodeId = new Option<int?>("--id") { Description = "This node's id, as the cluster file names it." };
var nodeData = new Option<string?>("--data") { Description = "The node's data directory (its write-ahead log)." };
var nodeListen = new Option<string?>("--listen") { Description = "Address the node listens on, host:port." };
var nodeCluster = new Option<string?>("--cluster") { Description = "The cluster file (secret, TLS material, transport); optional when the environment gives PREDASTORE_SECRET." };
var nodeLogLevel = new Option<LogLevel>("--log-level") { Description = "Minimum log level.", DefaultValueFactory = _ => LogLevel.Information };
var node = new Command("node", "Run one storage node.") { nodeId, nodeData, nodeListen, nodeCluster, nodeLogLevel };
node.SetAction(async (result, cancellationToken) =>
{
    try
    {
        IConfiguration configuration = ClusterSettings.Build(result.GetValue(nodeCluster), [
            new("node:id", result.GetValue(nodeId)?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("node:data", result.GetValue(nodeData)),
            new("node:listen", result.GetValue(nodeListen)),
        ]);
        ClusterSettings settings = ClusterSettings.Load(configuration, requireNodes: false);
        string data = configuration["node:data"] ?? throw new ClusterConfigurationException("--data", "missing: the node's data directory.");
        string listen = configuration["node:listen"] ?? throw new ClusterConfigurationException("--listen", "missing: host:port to listen on.");
        int id = int.TryParse(configuration["node:id"], System.Globalization.CultureInfo.InvariantCulture, out int parsed) ? parsed : throw new ClusterConfigurationException("--id", "missing: the node's id.");
        using ILoggerFactory loggers = LoggerFactory.Create(logging => logging
            .AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss.fff ";
            })
            .SetMinimumLevel(result.GetValue(nodeLogLevel)));
        await using StorageNodeHost host = await StorageNodeHost.StartAsync(id, data, listen, settings, loggers, cancellationToken);
        Console.WriteLine($"predastore node {id} listening on {host.EndPoint} ({settings.Transport.ToString().ToLowerInvariant()}{(settings.Security.UsesTls ? ", TLS 1.3" : ", plaintext on loopback")}, data {Path.GetFullPath(data)})");
        await ShutdownSignal.WaitAsync(cancellationToken);
        Console.WriteLine($"predastore node {id}: closing the write-ahead log");
        return 0;
    }
    catch (ClusterConfigurationException ex)
    {
        await Console.Error.WriteLineAsync($"predastore node: invalid configuration: {ex.Message}");
        return 2;
    }
});

var gatewayCluster = new Option<string>("--cluster") { Description = "The cluster file: nodes, erasure code, block size, transport, TLS material, secret.", Required = true };
var gatewayData = new Option<string?>("--data") { Description = "Gateway data directory (metadata, credentials).", DefaultValueFactory = _ => null };
var gatewayAddress = new Option<string?>("--address") { Description = "Address to serve S3 on (default 127.0.0.1)." };
var gatewayPort = new Option<int?>("--port") { Description = "Port to serve S3 on (default 9000; 0 picks one)." };
var gatewayLogLevel = new Option<LogLevel>("--log-level") { Description = "Minimum log level.", DefaultValueFactory = _ => LogLevel.Information };
var gateway = new Command("gateway", "Run the S3 gateway against the storage nodes of a cluster file.")
{
    gatewayCluster, gatewayData, gatewayAddress, gatewayPort, tls, tlsCert, tlsKey, accessKey, secretKey, region, abortAfter, gatewayLogLevel,
};
gateway.SetAction(async (result, cancellationToken) =>
{
    try
    {
        IConfiguration configuration = ClusterSettings.Build(result.GetValue(gatewayCluster), [
            new("gateway:data", result.GetValue(gatewayData)),
            new("gateway:address", result.GetValue(gatewayAddress)),
            new("gateway:port", result.GetValue(gatewayPort)?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ]);
        ClusterSettings settings = ClusterSettings.Load(configuration, requireNodes: true);
        int port = int.TryParse(configuration["gateway:port"] ?? "9000", System.Globalization.CultureInfo.InvariantCulture, out int p) && p is >= 0 and <= 65535
            ? p
            : throw new ClusterConfigurationException("--port", $"'{configuration["gateway:port"]}' is not a port.");
        var options = new ClusterGatewayOptions
        {
            DataDirectory = configuration["gateway:data"] ?? "gateway-data",
            Address = configuration["gateway:address"] ?? "127.0.0.1",
            Port = port,
            AccessKey = result.GetValue(accessKey) ?? Environment.GetEnvironmentVariable("PREDASTORE_ACCESS_KEY"),
            SecretKey = result.GetValue(secretKey) ?? Environment.GetEnvironmentVariable("PREDASTORE_SECRET_KEY"),
            Tls = result.GetValue(tls) || result.GetValue(tlsCert) is not null,
            TlsCertificate = result.GetValue(tlsCert),
            TlsKey = result.GetValue(tlsKey),
            Region = result.GetValue(region)!,
            AbortIncompleteUploadsAfter = result.GetValue(abortAfter),
            LogLevel = result.GetValue(gatewayLogLevel),
        };

        await using GatewayServer server = await GatewayServer.StartAsync(settings, options, cancellationToken);
        if (server.CredentialsGenerated)
        {
            Console.WriteLine("Generated credentials (kept in the data directory; shown only this once):");
            Console.WriteLine($"  AWS_ACCESS_KEY_ID={server.Credentials.AccessKey}");
            Console.WriteLine($"  AWS_SECRET_ACCESS_KEY={server.Credentials.SecretKey}");
        }

        Console.WriteLine($"predastore gateway serving S3 at {server.Endpoint} ({settings.Nodes.Count} nodes, RS({settings.Layout.DataShards},{settings.Layout.ParityShards}), {settings.Transport.ToString().ToLowerInvariant()})");
        await server.WaitForShutdownAsync(cancellationToken);
        Console.WriteLine("predastore gateway: draining requests");
        return 0;
    }
    catch (ClusterConfigurationException ex)
    {
        await Console.Error.WriteLineAsync($"predastore gateway: invalid configuration: {ex.Message}");
        return 2;
    }
});

var root = new RootCommand("Predastore: an S3-compatible, erasure-coded object store.") { serve, node, gateway };
return await root.Parse(args).InvokeAsync();
