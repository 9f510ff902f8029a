namespace Predastore.Transport.Protocol;

/// <summary>Time-outs of the node transport, either side.</summary>
public sealed class NodeTransportOptions
{
    /// <summary>Dialling, TLS and the member handshake of a new connection.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// One request, sent and answered (a cell written and durable, a range read). A hung node costs a request this
    /// much, once; then the gateway's health tracking stops sending to it.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A pooled connection unused this long is closed (client) or dropped (node).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Idle connections kept per peer.</summary>
    public int MaxIdleConnections { get; init; } = 16;

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero, nameof(ConnectTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RequestTimeout, TimeSpan.Zero, nameof(RequestTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(IdleTimeout, TimeSpan.Zero, nameof(IdleTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxIdleConnections, 1, nameof(MaxIdleConnections));
    }
}
