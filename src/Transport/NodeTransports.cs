using System.Net;
using Predastore.Transport.Protocol;
using Predastore.Transport.Quic;
using Predastore.Transport.Security;
using Predastore.Transport.Tcp;

namespace Predastore.Transport;

/// <summary>The transports a gateway can reach its nodes with; the in-process one is not chosen by name.</summary>
public enum NodeTransportKind
{
    Tcp,
    Quic,
}

/// <summary>Builds the gateway's client for a remote node over the chosen transport.</summary>
public static class NodeTransports
{
    public static RemoteShardNode Connect(NodeTransportKind kind, int nodeId, EndPoint endPoint, NodeSecurity security, NodeTransportOptions? options = null)
    {
        options ??= new NodeTransportOptions();
        options.Validate();
        INodeChannel channel;
        if (kind == NodeTransportKind.Quic)
        {
            QuicNodeTransport.EnsureSupported("transport");
            channel = CreateQuic(endPoint, security, options);
        }
        else
        {
            channel = new TcpNodeChannel(endPoint, security, options);
        }

        return new RemoteShardNode(nodeId, channel, options);
    }

    private static INodeChannel CreateQuic(EndPoint endPoint, NodeSecurity security, NodeTransportOptions options)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsWindows())
        {
            return new QuicNodeChannel(endPoint, security, options);
        }

        throw new PlatformNotSupportedException(QuicNodeTransport.UnsupportedReason);
    }
}
