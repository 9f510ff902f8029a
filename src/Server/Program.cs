using System.CommandLine;
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
var logLevel = new Option<LogLevel>("--log-level") { Description = "Minimum log level.", DefaultValueFactory = _ => LogLevel.Information };

var serve = new Command("serve", "Run the S3 gateway with three in-process storage nodes, RS(2,1).")
{
    data, address, port, tls, tlsCert, tlsKey, accessKey, secretKey, region, logLevel,
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

var root = new RootCommand("Predastore: an S3-compatible, erasure-coded object store.") { serve };
return await root.Parse(args).InvokeAsync();
