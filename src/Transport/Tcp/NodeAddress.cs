using System.Globalization;
using System.Net;

namespace Predastore.Transport.Tcp;

/// <summary>A node address as the cluster file and the flags write it: <c>host:port</c>, <c>[v6]:port</c>.</summary>
public static class NodeAddress
{
    public static EndPoint Parse(string address, string setting)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (IPEndPoint.TryParse(address, out IPEndPoint? ip) && ip.Port != 0 && address.Contains(':', StringComparison.Ordinal))
        {
            return ip;
        }

        int colon = address.LastIndexOf(':');
        if (colon > 0 && int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and <= 65535)
        {
            string host = address[..colon];
            if (Uri.CheckHostName(host) == UriHostNameType.Dns)
            {
                return new DnsEndPoint(host, port);
            }
        }

        throw new FormatException($"{setting}: '{address}' is not host:port.");
    }

    public static string HostOf(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint ip => ip.Address.ToString(),
        DnsEndPoint dns => dns.Host,
        _ => endPoint.ToString() ?? "node",
    };
}
