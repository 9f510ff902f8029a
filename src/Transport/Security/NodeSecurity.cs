using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Predastore.Transport.Security;

/// <summary>
/// How cluster members recognise each other on the node port: the cluster secret (an HMAC challenge on every new
/// connection) and, when <see cref="Certificate"/> is set, mutual TLS 1.3 with certificates issued by
/// <see cref="Authority"/>. Plaintext is allowed only between loopback addresses.
/// </summary>
public sealed class NodeSecurity
{
    public const int MinimumSecretLength = 16;

    public NodeSecurity(byte[] secret, X509Certificate2? certificate = null, X509Certificate2? authority = null)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (secret.Length < MinimumSecretLength)
        {
            throw new ArgumentException($"The cluster secret must be at least {MinimumSecretLength} bytes.", nameof(secret));
        }

        if (certificate is not null && !certificate.HasPrivateKey)
        {
            throw new ArgumentException("The node certificate has no private key.", nameof(certificate));
        }

        Secret = secret;
        Certificate = certificate;
        Authority = authority ?? certificate;
    }

    public byte[] Secret { get; }

    /// <summary>This member's certificate (with its key); null means plaintext, loopback only.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>The certificate every member's chain must end at.</summary>
    public X509Certificate2? Authority { get; }

    public bool UsesTls => Certificate is not null;

    /// <summary>Plaintext carries shards and the HMAC exchange in the clear: only on this host.</summary>
    public void EnsureAllowed(EndPoint endPoint, string setting)
    {
        if (!UsesTls && !IsLoopback(endPoint))
        {
            throw new InvalidOperationException($"{setting}: {endPoint} is not a loopback address; between hosts the node transport needs TLS (set a certificate).");
        }
    }

    public static bool IsLoopback(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint ip => IPAddress.IsLoopback(ip.Address),
        DnsEndPoint dns => string.Equals(dns.Host, "localhost", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    internal SslServerAuthenticationOptions ServerOptions(List<SslApplicationProtocol>? alpn = null) => new()
    {
        ServerCertificate = Certificate,
        ClientCertificateRequired = true,
        EnabledSslProtocols = SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, certificate, _, _) => IsMember(certificate),
        ApplicationProtocols = alpn,
    };

    internal SslClientAuthenticationOptions ClientOptions(string targetHost, List<SslApplicationProtocol>? alpn = null) => new()
    {
        TargetHost = targetHost,
        ClientCertificates = [Certificate!],
        EnabledSslProtocols = SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, certificate, _, _) => IsMember(certificate),
        ApplicationProtocols = alpn,
    };

    /// <summary>A member is whoever holds a certificate chaining to the cluster authority; names do not matter.</summary>
    internal bool IsMember(X509Certificate? presented)
    {
        if (presented is null || Authority is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        X509Certificate2 certificate = presented as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        try
        {
            return chain.Build(certificate);
        }
        finally
        {
            if (!ReferenceEquals(certificate, presented))
            {
                certificate.Dispose();
            }
        }
    }

    internal byte[] Mac(ReadOnlySpan<byte> label, ReadOnlySpan<byte> serverNonce, ReadOnlySpan<byte> clientNonce)
    {
        Span<byte> message = stackalloc byte[64 + 32];
        label.CopyTo(message);
        serverNonce.CopyTo(message[32..]);
        clientNonce.CopyTo(message[64..]);
        return HMACSHA256.HashData(Secret, message[..(32 + serverNonce.Length + clientNonce.Length)]);
    }
}
