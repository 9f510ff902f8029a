using System.Reflection;

namespace Predastore.LoadDriver.Tests;

/// <summary>
/// <c>predastore serve</c> (EmbeddedServer: gateway + 3 in-process nodes) on a free loopback port, own data directory.
/// </summary>
/// <remarks>
/// EmbeddedServer and ServeOptions are internal to src/Server and its InternalsVisibleTo does not list this project
/// (src is not this project's to edit), so they are reached by reflection: the same start and stop the functional
/// tests' TestServer uses, with no other seam.
/// </remarks>
public sealed class InProcessServer : IAsyncDisposable
{
    public const string AccessKey = "LOADTESTACCESSKEY";
    public const string SecretKey = "load/test/secret/key/for/predastore0000";

    private readonly IAsyncDisposable _server;
    private readonly string _directory;

    private InProcessServer(IAsyncDisposable server, Uri endpoint, string directory)
    {
        _server = server;
        Endpoint = endpoint;
        _directory = directory;
    }

    public Uri Endpoint { get; }

    public static async Task<InProcessServer> StartAsync()
    {
        Assembly assembly = Assembly.Load("predastore");
        Type serverType = assembly.GetType("Predastore.Server.EmbeddedServer", throwOnError: true)!;
        Type optionsType = assembly.GetType("Predastore.Server.ServeOptions", throwOnError: true)!;
        string directory = Directory.CreateTempSubdirectory("predastore-loadtest-").FullName;
        object options = Activator.CreateInstance(optionsType, nonPublic: true)!;
        Set(optionsType, options, "DataDirectory", directory);
        Set(optionsType, options, "Port", 0);
        Set(optionsType, options, "AccessKey", AccessKey);
        Set(optionsType, options, "SecretKey", SecretKey);
        Set(optionsType, options, "LogLevel", Microsoft.Extensions.Logging.LogLevel.Warning);
        MethodInfo start = serverType.GetMethod("StartAsync", BindingFlags.Public | BindingFlags.Static)!;
        var task = (Task)start.Invoke(null, [options, CancellationToken.None])!;
        await task.WaitAsync(TimeSpan.FromSeconds(60));
        object server = task.GetType().GetProperty("Result")!.GetValue(task)!;
        var endpoint = (Uri)serverType.GetProperty("Endpoint")!.GetValue(server)!;
        return new InProcessServer((IAsyncDisposable)server, endpoint, directory);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        Directory.Delete(_directory, recursive: true);
    }

    private static void Set(Type type, object target, string property, object value) =>
        type.GetProperty(property)!.SetValue(target, value);
}

/// <summary>One server shared by the tests of a class.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public InProcessServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await InProcessServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
