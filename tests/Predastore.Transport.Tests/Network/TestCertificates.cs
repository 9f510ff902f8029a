using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Predastore.Transport.Security;

namespace Predastore.Transport.Tests.Network;

/// <summary>A cluster authority with one member certificate, and a stranger's authority and certificate.</summary>
internal static class TestCertificates
{
    private static readonly Lazy<(X509Certificate2 Authority, X509Certificate2 Member)> s_cluster = new(() => Issue("CN=test cluster ca"));
    private static readonly Lazy<(X509Certificate2 Authority, X509Certificate2 Member)> s_stranger = new(() => Issue("CN=stranger ca"));

    public static byte[] Secret { get; } = RandomNumberGenerator.GetBytes(32);

    public static NodeSecurity Plain() => new(Secret);

    public static NodeSecurity Tls() => new(Secret, s_cluster.Value.Member, s_cluster.Value.Authority);

    /// <summary>Knows the secret but holds a certificate from another authority.</summary>
    public static NodeSecurity StrangerTls() => new(Secret, s_stranger.Value.Member, s_stranger.Value.Authority);

    public static (X509Certificate2 Authority, X509Certificate2 Member) Issue(string authorityName)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest(authorityName, caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using X509Certificate2 ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));

        using var memberKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=member", memberKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        using X509Certificate2 issued = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1), RandomNumberGenerator.GetBytes(8));
        using X509Certificate2 withKey = issued.CopyWithPrivateKey(memberKey);

        // A PFX round trip gives a key SslStream can use on every platform.
        X509Certificate2 member = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pfx), null);
        X509Certificate2 authority = X509CertificateLoader.LoadCertificate(ca.RawData);
        return (authority, member);
    }
}
