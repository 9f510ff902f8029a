using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Text;
using Predastore.Wal;

namespace Predastore.Transport.Protocol;

/// <summary>Where a remote node's streams come from: a pool of TCP connections, or streams of one QUIC connection.</summary>
internal interface INodeChannel : IAsyncDisposable
{
    string Name { get; }

    /// <summary>A stream with no request in flight: pooled, freshly dialled and authenticated, or a new QUIC stream.</summary>
    ValueTask<FrameConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>Takes a stream back after one request; a stream that failed (or any QUIC stream) is closed.</summary>
    void Release(FrameConnection connection, bool reusable);

    /// <summary>
    /// Whether the node serves a stream of this channel request after request (TCP), so an upload may keep one for
    /// all its frames (<see cref="ShardStream"/>); false when the node answers one request per stream (QUIC).
    /// </summary>
    bool CarriesManyRequests => false;
}

/// <summary>
/// A storage node in another process, reached over the node protocol. Every request is one exchange (request frame,
/// response frame) on a stream with nothing else in flight; transport failures and time-outs become
/// <see cref="ShardException"/>s with <see cref="ShardFailure.Unavailable"/>, so the read path rebuilds from parity
/// and the health tracker notices.
/// </summary>
public sealed class RemoteShardNode : IShardNode, IAsyncDisposable
{
    // A node's error message is a sentence; anything longer is not one of ours.
    private const int MaxErrorMessage = 64 * 1024;

    private readonly INodeChannel _channel;
    private readonly NodeTransportOptions _options;

    internal RemoteShardNode(int id, INodeChannel channel, NodeTransportOptions options)
    {
        options.Validate();
        Id = id;
        _channel = channel;
        _options = options;
    }

    public int Id { get; }

    public IShardUpload BeginPut(ShardKey key) => new Upload(this, key);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReadAsync(ShardKey key, long shardOffset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        Response response = await ExchangeAsync(NodeOpcode.Read, new RequestHeader(0, key, shardOffset, destination.Length), default, destination, false, cancellationToken).ConfigureAwait(false);
        return (int)response.Header.Value;
    }

    public async ValueTask DeleteAsync(ShardKey key, CancellationToken cancellationToken = default) =>
        await ExchangeAsync(NodeOpcode.Delete, new RequestHeader(0, key, 0, 0), default, default, false, cancellationToken).ConfigureAwait(false);

    public async ValueTask<long?> StatAsync(ShardKey key, CancellationToken cancellationToken = default)
    {
        Response response = await ExchangeAsync(NodeOpcode.Stat, new RequestHeader(0, key, 0, 0), default, default, false, cancellationToken).ConfigureAwait(false);
        return response.Header.Value < 0 ? null : response.Header.Value;
    }

    public async ValueTask<IReadOnlyList<ShardKey>> ListAsync(CancellationToken cancellationToken = default)
    {
        Response response = await ExchangeAsync(NodeOpcode.List, new RequestHeader(0, default, 0, 0), default, default, true, cancellationToken).ConfigureAwait(false);
        byte[] body = response.Body ?? [];
        var keys = new ShardKey[body.Length / ShardKey.Size];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = ShardKey.Read(body.AsSpan(i * ShardKey.Size, ShardKey.Size));
        }

        return keys;
    }

    public ValueTask DisposeAsync() => _channel.DisposeAsync();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Response> ExchangeAsync(NodeOpcode opcode, RequestHeader header, ReadOnlyMemory<byte> body, Memory<byte> destination, bool allocateBody, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        while (true)
        {
            FrameConnection connection;
            try
            {
                connection = await _channel.OpenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransportFailure(ex, cancellationToken))
            {
                throw Unavailable($"cannot connect to {_channel.Name}", ex);
            }

            bool reusable = false;
            bool pooled = connection.Exchanges > 0;
            CancellationToken token = connection.BeginOperation(_options.RequestTimeout, cancellationToken);
            try
            {
                await connection.WriteRequestAsync(opcode, header, body, token).ConfigureAwait(false);
                FramePrefix prefix = await connection.ReadFrameAsync(token).ConfigureAwait(false);
                if (prefix.IsEnd || prefix.Opcode != NodeOpcode.Response || prefix.HeaderLength < ResponseHeader.Size)
                {
                    // A pooled connection the node closed while it sat idle (the node restarted): dial again once.
                    if (prefix.IsEnd && pooled && IsRepeatable(opcode))
                    {
                        continue;
                    }

                    ThrowBadResponse(prefix);
                }

                ResponseHeader response = ResponseHeader.Read(connection.Header(prefix.HeaderLength));
                if (response.Status != NodeStatus.Ok)
                {
                    if (response.BodyLength > MaxErrorMessage)
                    {
                        ThrowBadResponse(prefix);
                    }

                    byte[] message = new byte[response.BodyLength];
                    await connection.ReadBodyAsync(message, token).ConfigureAwait(false);
                    reusable = true;
                    throw Refused(response.Status, Encoding.UTF8.GetString(message));
                }

                byte[]? allocated = null;
                if (allocateBody)
                {
                    allocated = new byte[response.BodyLength];
                    destination = allocated;
                }
                else if (response.BodyLength > destination.Length)
                {
                    ThrowBadResponse(prefix);
                }

                await connection.ReadBodyAsync(destination[..(int)response.BodyLength], token).ConfigureAwait(false);
                reusable = true;
                return new Response(response, allocated);
            }
            catch (Exception ex) when (ex is IOException and not ShardException && pooled && !token.IsCancellationRequested && IsRepeatable(opcode))
            {
                // Same case, seen as a reset rather than an orderly close. Only a request that changes nothing
                // twice is sent again; a write or commit fails to the caller, whose upload then fails cleanly.
                continue;
            }
            catch (Exception ex) when (ex is not ShardException && IsTransportFailure(ex, cancellationToken))
            {
                throw token.IsCancellationRequested
                    ? Unavailable($"no answer from {_channel.Name} within {_options.RequestTimeout.TotalSeconds:0.###} s", ex)
                    : Unavailable($"lost the connection to {_channel.Name}", ex);
            }
            finally
            {
                connection.EndOperation();
                _channel.Release(connection, reusable);
            }
        }
    }

    internal ShardException Unavailable(string why, Exception inner) =>
        new(ShardFailure.Unavailable, Id, $"Node {Id} unavailable: {why} ({inner.Message})", inner);

    /// <summary>A request the node answered with a failure status and this message.</summary>
    internal ShardException Refused(NodeStatus status, string message) => new(Map(status), Id, $"Node {Id}: {message}");

    /// <summary>Failures of the stream, not of the request: the caller's own cancellation is not one.</summary>
    internal static bool IsTransportFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is IOException or SocketException or InvalidDataException or AuthenticationException or ObjectDisposedException or TimeoutException
        || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private static bool IsRepeatable(NodeOpcode opcode) => opcode is NodeOpcode.Read or NodeOpcode.Stat or NodeOpcode.List or NodeOpcode.Delete or NodeOpcode.Abandon;

    private static ShardFailure Map(NodeStatus status) => status switch
    {
        NodeStatus.NotFound => ShardFailure.NotFound,
        NodeStatus.Corrupt => ShardFailure.Corrupt,
        NodeStatus.InsufficientStorage => ShardFailure.InsufficientStorage,
        _ => ShardFailure.Unavailable,
    };

    [DoesNotReturn]
    private static void ThrowBadResponse(FramePrefix prefix) =>
        throw new InvalidDataException($"Node protocol violation: response opcode {(uint)prefix.Opcode}, header {prefix.HeaderLength} bytes, body {prefix.BodyLength} bytes.");

    private readonly record struct Response(ResponseHeader Header, byte[]? Body);

    /// <summary>
    /// One shard being written. Over a channel whose streams carry many requests, the upload keeps one stream for all
    /// its frames (<see cref="ShardStream"/>: writes pipelined, acks in order, the commit last); otherwise every
    /// write is an exchange of its own.
    /// </summary>
    private sealed class Upload(RemoteShardNode node, ShardKey key) : IShardUpload
    {
        private readonly ShardStream? _stream = node._channel.CarriesManyRequests ? new ShardStream(node, node._channel, key, node._options.RequestTimeout, node._options.IdleTimeout) : null;
        private bool _committed;

        public ShardKey Key => key;

        public ValueTask WriteAsync(long shardOffset, ReadOnlyMemory<byte> cells, CancellationToken cancellationToken = default)
        {
            var header = new RequestHeader(cells.Length, key, shardOffset, 0);
            return _stream is not null
                ? _stream.SubmitAsync(NodeOpcode.Write, header, cells, cancellationToken)
                : ExchangeWriteAsync(header, cells, cancellationToken);
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        private async ValueTask ExchangeWriteAsync(RequestHeader header, ReadOnlyMemory<byte> cells, CancellationToken cancellationToken) =>
            await node.ExchangeAsync(NodeOpcode.Write, header, cells, default, false, cancellationToken).ConfigureAwait(false);

        public async ValueTask CommitAsync(long shardLength, CancellationToken cancellationToken = default)
        {
            var header = new RequestHeader(0, key, 0, shardLength);
            if (_stream is not null)
            {
                // Last frame of the stream: its ack comes after every write's, so the shard is whole when it does.
                await _stream.SubmitAsync(NodeOpcode.Commit, header, default, cancellationToken).ConfigureAwait(false);
                await _stream.CloseAsync().ConfigureAwait(false);
            }
            else
            {
                await node.ExchangeAsync(NodeOpcode.Commit, header, default, default, false, cancellationToken).ConfigureAwait(false);
            }

            _committed = true;
        }

        public async ValueTask DisposeAsync()
        {
            if (_stream is not null)
            {
                await _stream.CloseAsync().ConfigureAwait(false);
            }

            if (_committed)
            {
                return;
            }

            // Best effort: a node that cannot be told drops uncommitted writes when it restarts anyway.
            try
            {
                await node.ExchangeAsync(NodeOpcode.Abandon, new RequestHeader(0, key, 0, 0), default, default, false, CancellationToken.None).ConfigureAwait(false);
            }
            catch (ShardException)
            {
            }
        }
    }
}
