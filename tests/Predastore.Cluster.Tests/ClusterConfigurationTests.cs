// Invariant: invalid cluster configuration stops start-up with a message naming the setting (K+M more than the
// nodes can place, duplicate ids or addresses, unreadable certificate, missing secret, QUIC without MsQuic).
using Predastore.Server;

namespace Predastore.Cluster.Tests;

public sealed class ClusterConfigurationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("predastore-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("""{ "nodes": [ { "id": 1, "address": "127.0.0.1:7001" }, { "id": 1, "address": "127.0.0.1:7002" }, { "id": 3, "address": "127.0.0.1:7003" } ], "secret": "0123456789abcdef0123" }""", "nodes:1:id")]
    [InlineData("""{ "nodes": [ { "id": 1, "address": "127.0.0.1:7001" }, { "id": 2, "address": "127.0.0.1:7001" }, { "id": 3, "address": "127.0.0.1:7003" } ], "secret": "0123456789abcdef0123" }""", "nodes:1:address")]
    [InlineData("""{ "nodes": [ { "id": 1, "address": "127.0.0.1:7001" }, { "id": 2, "address": "127.0.0.1:7002" } ], "dataShards": 4, "parityShards": 2, "secret": "0123456789abcdef0123" }""", "dataShards")]
    [InlineData("""{ "nodes": [ { "id": 1, "address": "127.0.0.1:7001" } ] }""", "secret")]
    [InlineData("""{ "nodes": [ { "id": 1, "address": "127.0.0.1:7001" } ], "dataShards": 1, "parityShards": 0, "secret": "0123456789abcdef0123", "tls": { "certificate": "/nonexistent/node.pem", "key": "/nonexistent/node.key" } }""", "tls:certificate")]
    [InlineData("""{ "nodes": [ { "id": 1, "address": "10.1.2.3:7001" } ], "dataShards": 1, "parityShards": 0, "secret": "0123456789abcdef0123" }""", "nodes:0:address")]
    [InlineData("""{ "nodes": [ { "id": 1, "address": "127.0.0.1:7001" } ], "dataShards": 1, "parityShards": 0, "secret": "0123456789abcdef0123", "transport": "carrier-pigeon" }""", "transport")]
    public void Load_InvalidSetting_NamesTheSetting(string json, string setting)
    {
        // Arrange
        string file = Path.Combine(_directory, "cluster.json");
        File.WriteAllText(file, json);

        // Act
        ClusterConfigurationException ex = Assert.Throws<ClusterConfigurationException>(() => ClusterSettings.Load(ClusterSettings.Build(file, []), requireNodes: true));

        // Assert
        Assert.Equal(expected: setting, actual: ex.Setting);
        Assert.StartsWith(setting + ":", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_EnvironmentAndFlags_OverrideTheFile()
    {
        string file = Path.Combine(_directory, "cluster.json");
        File.WriteAllText(file, """{ "nodes": [ { "id": 1, "address": "127.0.0.1:7001" } ], "dataShards": 1, "parityShards": 0, "secret": "0123456789abcdef0123", "timeouts": { "requestSeconds": 3 } }""");

        ClusterSettings settings = ClusterSettings.Load(ClusterSettings.Build(file, [new("timeouts:requestSeconds", "7")]), requireNodes: true);

        Assert.Equal(expected: TimeSpan.FromSeconds(7), actual: settings.Timeouts.RequestTimeout);
    }

    [Fact]
    public void Load_Quic_WithoutMsQuicStopsWithClearMessage()
    {
        if (Transport.Quic.QuicNodeTransport.IsSupported)
        {
            return;
        }

        string file = Path.Combine(_directory, "cluster.json");
        File.WriteAllText(file, """{ "nodes": [ { "id": 1, "address": "127.0.0.1:7001" } ], "dataShards": 1, "parityShards": 0, "secret": "0123456789abcdef0123", "transport": "quic" }""");

        ClusterConfigurationException ex = Assert.Throws<ClusterConfigurationException>(() => ClusterSettings.Load(ClusterSettings.Build(file, []), requireNodes: true));

        Assert.Equal(expected: "transport", actual: ex.Setting);
        Assert.Contains("MsQuic", ex.Message, StringComparison.Ordinal);
    }
}
