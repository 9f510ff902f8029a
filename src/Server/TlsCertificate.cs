using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Predastore.Server;

/// <summary>The certificate <c>--tls</c> serves: the one given, or a self-signed one made on first start and kept.</summary>
internal static class TlsCertificate
{
    public const string SelfSignedFileName = "tls-selfsigned.pfx";

    public static X509Certificate2 Load(string dataDirectory, string? certificatePath, string? keyPath)
    {
        if (certificatePath is not null)
        {
            if (!File.Exists(certificatePath))
            {
                throw new FileNotFoundException($"--tls-cert: no certificate at {certificatePath}.", certificatePath);
            }

            return certificatePath.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || certificatePath.EndsWith(".p12", StringComparison.OrdinalIgnoreCase)
                ? X509CertificateLoader.LoadPkcs12FromFile(certificatePath, password: null)
                : X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }

        string path = Path.Combine(dataDirectory, SelfSignedFileName);
        if (File.Exists(path))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, password: null);
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=predastore", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using X509Certificate2 created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
        byte[] pfx = created.Export(X509ContentType.Pfx);
        PrivateFile.Write(path, pfx);
        return X509CertificateLoader.LoadPkcs12(pfx, password: null);
    }
}
