using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Configuration;
using Predastore.Ingest.Storage;
using Predastore.Transport;
using Predastore.Transport.Placement;
using Predastore.Transport.Protocol;
using Predastore.Transport.Quic;
using Predastore.Transport.Security;
using Predastore.Transport.Tcp;

namespace Predastore.Server;

/// <summary>A setting that stops start-up; the message names the setting.</summary>
internal sealed class ClusterConfigurationException(string setting, string message)
    : Exception($"{setting}: {message}")
{
    public string Setting { get; } = setting;
}

/// <summary>One storage node as the cluster file names it.</summary>
internal sealed record ClusterNode(int Id, string Address, EndPoint EndPoint, int Weight);

/// <summary>
/// The cluster file, meant to be identical on every host (nodes, erasure code, block size, transport, TLS material,
/// the cluster secret), overlaid by environment variables (<c>PREDASTORE_</c> prefix, <c>__</c> for nesting) and
/// then by command-line flags for host-local settings. <see cref="Load"/> validates everything before anything
/// starts, and every error names its setting.
/// </summary>
internal sealed class ClusterSettings
{
    public const string EnvironmentPrefix = "PREDASTORE_";

    public required IReadOnlyList<ClusterNode> Nodes { get; init; }

    public required StripeLayout Layout { get; init; }

    public required NodeTransportKind Transport { get; init; }

    public required NodeSecurity Security { get; init; }

    public required NodeTransportOptions Timeouts { get; init; }

    public required IConfiguration Configuration { get; init; }

    /// <summary>The configuration sources in order: cluster file (when given), environment, then the flags.</summary>
    public static IConfiguration Build(string? clusterFile, IEnumerable<KeyValuePair<string, string?>> flags)
    {
        var builder = new ConfigurationBuilder();
        if (clusterFile is not null)
        {
            string path = Path.GetFullPath(clusterFile);
            if (!File.Exists(path))
            {
                throw new ClusterConfigurationException("--cluster", $"no cluster file at {path}.");
            }

            builder.AddJsonFile(path, optional: false, reloadOnChange: false);
        }

        builder.AddEnvironmentVariables(EnvironmentPrefix);
        builder.AddInMemoryCollection(flags.Where(f => f.Value is not null));
        try
        {
            return builder.Build();
        }
        catch (InvalidDataException ex)
        {
            throw new ClusterConfigurationException("--cluster", $"the cluster file is not valid JSON: {ex.Message}");
        }
        catch (FormatException ex)
        {
            throw new ClusterConfigurationException("--cluster", $"the cluster file is not valid JSON: {ex.Message}");
        }
    }

    /// <summary>What every process needs: the secret, TLS material and time-outs. Nodes may be absent (a node alone).</summary>
    public static ClusterSettings Load(IConfiguration configuration, bool requireNodes)
    {
        NodeSecurity security = LoadSecurity(configuration);
        IReadOnlyList<ClusterNode> nodes = LoadNodes(configuration, security, requireNodes);
        int dataShards = Int(configuration, "dataShards", 2);
        int parityShards = Int(configuration, "parityShards", 1);
        int blockSize = Int(configuration, "blockSize", 1024 * 1024);
        if (dataShards < 1)
        {
            throw new ClusterConfigurationException("dataShards", $"must be at least 1, not {dataShards}.");
        }

        if (parityShards < 0 || dataShards + parityShards > 255)
        {
            throw new ClusterConfigurationException("parityShards", $"RS({dataShards},{parityShards}) is not a code this store can compute (K ≥ 1, M ≥ 0, K + M ≤ 255).");
        }

        var layout = new StripeLayout(dataShards, parityShards, blockSize);
        try
        {
            layout.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new ClusterConfigurationException("blockSize", ex.Message);
        }

        if (requireNodes)
        {
            // With fewer nodes than shards some node holds several shards of every stripe; losing that node must not
            // lose more shards than parity covers.
            int perNode = (dataShards + parityShards + nodes.Count - 1) / nodes.Count;
            if (perNode > Math.Max(parityShards, 1))
            {
                throw new ClusterConfigurationException(
                    "dataShards",
                    $"RS({dataShards},{parityShards}) needs {dataShards + parityShards} shards per stripe; {nodes.Count} node(s) can place them only {perNode} to a node, more than the {parityShards} parity shard(s) can cover when one node is lost.");
            }
        }

        string transportName = configuration["transport"] ?? "tcp";
        NodeTransportKind transport = transportName.ToLowerInvariant() switch
        {
            "tcp" => NodeTransportKind.Tcp,
            "quic" => NodeTransportKind.Quic,
            _ => throw new ClusterConfigurationException("transport", $"'{transportName}' is not a transport; use \"tcp\" or \"quic\"."),
        };

        if (transport == NodeTransportKind.Quic)
        {
            if (!QuicNodeTransport.IsSupported)
            {
                throw new ClusterConfigurationException("transport", QuicNodeTransport.UnsupportedReason);
            }

            if (!security.UsesTls)
            {
                throw new ClusterConfigurationException("tls:certificate", "QUIC always runs TLS 1.3; give the member certificate and key.");
            }
        }

        var timeouts = new NodeTransportOptions
        {
            ConnectTimeout = Seconds(configuration, "timeouts:connectSeconds", 5),
            RequestTimeout = Seconds(configuration, "timeouts:requestSeconds", 10),
            IdleTimeout = Seconds(configuration, "timeouts:idleSeconds", 60),
        };

        return new ClusterSettings
        {
            Nodes = nodes,
            Layout = layout,
            Transport = transport,
            Security = security,
            Timeouts = timeouts,
            Configuration = configuration,
        };
    }

    public IReadOnlyList<RingNode> Ring => [.. Nodes.Select(n => new RingNode(n.Id, n.Weight))];

    private static List<ClusterNode> LoadNodes(IConfiguration configuration, NodeSecurity security, bool required)
    {
        var nodes = new List<ClusterNode>();
        var ids = new HashSet<int>();
        var addresses = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (IConfigurationSection section in configuration.GetSection("nodes").GetChildren())
        {
            string setting = $"nodes:{section.Key}";
            int id = Int(section, "id", 0, $"{setting}:id");
            if (id < 1)
            {
                throw new ClusterConfigurationException($"{setting}:id", "every node needs an id of 1 or more.");
            }

            if (!ids.Add(id))
            {
                throw new ClusterConfigurationException($"{setting}:id", $"node id {id} appears twice.");
            }

            string address = section["address"] ?? throw new ClusterConfigurationException($"{setting}:address", "missing (host:port).");
            EndPoint endPoint;
            try
            {
                endPoint = NodeAddress.Parse(address, $"{setting}:address");
            }
            catch (FormatException ex)
            {
                throw new ClusterConfigurationException($"{setting}:address", ex.Message);
            }

            if (!addresses.Add(endPoint.ToString()!))
            {
                throw new ClusterConfigurationException($"{setting}:address", $"address {address} appears twice.");
            }

            try
            {
                security.EnsureAllowed(endPoint, $"{setting}:address");
            }
            catch (InvalidOperationException ex)
            {
                throw new ClusterConfigurationException($"{setting}:address", ex.Message);
            }

            int weight = Int(section, "weight", 1, $"{setting}:weight");
            if (weight < 1)
            {
                throw new ClusterConfigurationException($"{setting}:weight", "must be 1 or more.");
            }

            nodes.Add(new ClusterNode(id, address, endPoint, weight));
        }

        if (required && nodes.Count == 0)
        {
            throw new ClusterConfigurationException("nodes", "the cluster file names no storage nodes.");
        }

        return nodes;
    }

    private static NodeSecurity LoadSecurity(IConfiguration configuration)
    {
        string? secret = configuration["secret"];
        string? secretFile = configuration["secretFile"];
        if (string.IsNullOrEmpty(secret) && !string.IsNullOrEmpty(secretFile))
        {
            try
            {
                secret = File.ReadAllText(secretFile).Trim();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new ClusterConfigurationException("secretFile", $"cannot read {secretFile}: {ex.Message}");
            }
        }

        if (string.IsNullOrEmpty(secret))
        {
            throw new ClusterConfigurationException("secret", $"missing: every member needs the cluster secret (in the cluster file, secretFile, or {EnvironmentPrefix}SECRET).");
        }

        byte[] secretBytes = Encoding.UTF8.GetBytes(secret);
        if (secretBytes.Length < NodeSecurity.MinimumSecretLength)
        {
            throw new ClusterConfigurationException("secret", $"must be at least {NodeSecurity.MinimumSecretLength} bytes.");
        }

        string? certificatePath = configuration["tls:certificate"];
        if (string.IsNullOrEmpty(certificatePath))
        {
            return new NodeSecurity(secretBytes);
        }

        X509Certificate2 certificate = LoadCertificate(certificatePath, configuration["tls:key"], "tls:certificate");
        if (!certificate.HasPrivateKey)
        {
            throw new ClusterConfigurationException("tls:key", $"the certificate {certificatePath} comes with no private key.");
        }

        string? authorityPath = configuration["tls:authority"];
        X509Certificate2 authority = string.IsNullOrEmpty(authorityPath) ? certificate : LoadCertificate(authorityPath, null, "tls:authority");
        return new NodeSecurity(secretBytes, certificate, authority);
    }

    private static X509Certificate2 LoadCertificate(string path, string? keyPath, string setting)
    {
        try
        {
            if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
            {
                return X509CertificateLoader.LoadPkcs12FromFile(path, password: null);
            }

            X509Certificate2 pem = keyPath is null ? X509CertificateLoader.LoadCertificateFromFile(path) : X509Certificate2.CreateFromPemFile(path, keyPath);

            // A PFX round trip gives a key SslStream can use for client and server authentication on Linux.
            return pem.HasPrivateKey ? X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pfx), null) : pem;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new ClusterConfigurationException(setting, $"cannot read the certificate {path}: {ex.Message}");
        }
    }

    private static int Int(IConfiguration configuration, string key, int fallback, string? setting = null)
    {
        string? text = configuration[key];
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new ClusterConfigurationException(setting ?? key, $"'{text}' is not a whole number.");
    }

    private static TimeSpan Seconds(IConfiguration configuration, string key, double fallback)
    {
        string? text = configuration[key];
        if (string.IsNullOrEmpty(text))
        {
            return TimeSpan.FromSeconds(fallback);
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0
            ? TimeSpan.FromSeconds(value)
            : throw new ClusterConfigurationException(key, $"'{text}' is not a positive number of seconds.");
    }
}
