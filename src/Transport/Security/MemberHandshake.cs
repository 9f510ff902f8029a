using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Predastore.Transport.Security;

/// <summary>
/// The challenge every new node connection starts with, before any frame: the node sends a magic and a fresh nonce;
/// the client answers with its own nonce and an HMAC of both under the cluster secret; only if that matches does the
/// node prove itself back and start reading frames. A stranger gets the nonce and a closed connection: no shard
/// byte is read or written for it.
/// </summary>
internal static class MemberHandshake
{
    public const int NonceSize = 32;
    public const uint Magic = 0x50534E31; // "PSN1"

    private static ReadOnlySpan<byte> ClientLabel => "predastore node client v1\0\0\0\0\0\0\0"u8;

    private static ReadOnlySpan<byte> ServerLabel => "predastore node server v1\0\0\0\0\0\0\0"u8;

    public static async ValueTask ServerAsync(Stream stream, NodeSecurity security, CancellationToken cancellationToken)
    {
        byte[] challenge = new byte[4 + NonceSize];
        BinaryPrimitives.WriteUInt32BigEndian(challenge, Magic);
        RandomNumberGenerator.Fill(challenge.AsSpan(4));
        await stream.WriteAsync(challenge, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);

        byte[] answer = new byte[NonceSize + 32];
        await stream.ReadExactlyAsync(answer, cancellationToken).ConfigureAwait(false);
        byte[] expected = security.Mac(ClientLabel, challenge.AsSpan(4), answer.AsSpan(0, NonceSize));
        if (!CryptographicOperations.FixedTimeEquals(expected, answer.AsSpan(NonceSize)))
        {
            throw new MemberAuthenticationException("The peer did not prove it holds the cluster secret.");
        }

        byte[] proof = security.Mac(ServerLabel, challenge.AsSpan(4), answer.AsSpan(0, NonceSize));
        await stream.WriteAsync(proof, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public static async ValueTask ClientAsync(Stream stream, NodeSecurity security, CancellationToken cancellationToken)
    {
        byte[] challenge = new byte[4 + NonceSize];
        await stream.ReadExactlyAsync(challenge, cancellationToken).ConfigureAwait(false);
        if (BinaryPrimitives.ReadUInt32BigEndian(challenge) != Magic)
        {
            throw new MemberAuthenticationException("The peer is not a predastore node.");
        }

        byte[] answer = new byte[NonceSize + 32];
        RandomNumberGenerator.Fill(answer.AsSpan(0, NonceSize));
        security.Mac(ClientLabel, challenge.AsSpan(4), answer.AsSpan(0, NonceSize)).CopyTo(answer, NonceSize);
        await stream.WriteAsync(answer, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);

        byte[] proof = new byte[32];
        await stream.ReadExactlyAsync(proof, cancellationToken).ConfigureAwait(false);
        byte[] expected = security.Mac(ServerLabel, challenge.AsSpan(4), answer.AsSpan(0, NonceSize));
        if (!CryptographicOperations.FixedTimeEquals(expected, proof))
        {
            throw new MemberAuthenticationException("The node did not prove it holds the cluster secret.");
        }
    }
}

/// <summary>A peer on the node port is not a cluster member (wrong secret or certificate).</summary>
public sealed class MemberAuthenticationException(string message) : IOException(message);
