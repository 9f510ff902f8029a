using Microsoft.Extensions.Logging;
using Predastore.Server;

namespace Predastore.LoadDriver.Tests;

/// <summary>
/// <c>predastore serve</c> (EmbeddedServer: gateway + 3 in-process nodes) on a free loopback port, own data directory.
/// </summary>
public sealed class InProcessServer : IAsyncDisposable
{
    public const string AccessKey = "LOADTESTACCESSKEY";
    public const string SecretKey = "load/test/secret/key/for/predastore0000";

    private readonly EmbeddedServer _server;
    private readonly string _directory;

    private InProcessServer(EmbeddedServer server, string directory)
    {
        _server = server;
        _directory = directory;
    }

    public Uri Endpoint => _server.Endpoint;

    public static async Task<InProcessServer> StartAsync()
    {
        string directory = Directory.CreateTempSubdirectory("predastore-loadtest-").FullName;
        EmbeddedServer server = await EmbeddedServer.StartAsync(new ServeOptions
        {
            DataDirectory = directory,
            Port = 0,
            AccessKey = AccessKey,
            SecretKey = SecretKey,
            LogLevel = LogLevel.Warning,
        }).WaitAsync(TimeSpan.FromSeconds(60));
        return new InProcessServer(server, directory);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>One server shared by the tests of a class.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public InProcessServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await InProcessServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
