using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Predastore.Wal;

namespace Predastore.Transport.Protocol;

/// <summary>
/// The node side of a stream: reads request frames, runs them against the node's <see cref="IShardStore"/> and
/// answers each with one response frame. A shard failure is an answer (the stream carries on); a protocol error,
/// a time-out or a broken stream ends the stream.
/// </summary>
internal static class NodeRequestHandler
{
    /// <summary>Serves requests until the peer closes, goes idle too long, or <paramref name="stopping"/> fires.</summary>
    /// <remarks>
    /// Writes, the bulk of a stream, are served in this loop rather than in a method of their own: an async method
    /// called per frame would allocate (see <see cref="FrameReader"/>), and this one lives as long as the stream.
    /// </remarks>
    public static async Task ServeAsync(FrameConnection connection, IShardStore store, NodeTransportOptions options, ILogger logger, bool single, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            FramePrefix prefix;
            CancellationToken idle = connection.BeginOperation(options.IdleTimeout, stopping);
            try
            {
                prefix = await connection.ReadFrameAsync(idle).ConfigureAwait(false);
            }
            finally
            {
                connection.EndOperation();
            }

            if (prefix.IsEnd)
            {
                return;
            }

            if (prefix.Opcode is < NodeOpcode.Write or > NodeOpcode.List || prefix.HeaderLength < RequestHeader.Size)
            {
                throw new InvalidDataException($"Node protocol violation: opcode {(uint)prefix.Opcode} with a {prefix.HeaderLength}-byte header.");
            }

            RequestHeader header = RequestHeader.Read(connection.Header(prefix.HeaderLength));
            CancellationToken request = connection.BeginOperation(options.RequestTimeout, stopping);
            try
            {
                if (prefix.Opcode == NodeOpcode.Write)
                {
                    // The cells land in a pooled buffer straight from the socket and are handed to the WAL from there.
                    int length = (int)header.BodyLength;
                    byte[] cells = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
                    Exception? refusal = null;
                    try
                    {
                        await connection.ReadBodyAsync(cells.AsMemory(0, length), request).ConfigureAwait(false);
                        try
                        {
                            await store.WriteAsync(header.Key, header.Offset, cells.AsMemory(0, length), request).ConfigureAwait(false);
                        }
                        catch (Exception ex) when (IsAnswerable(ex, request))
                        {
                            refusal = ex;
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(cells);
                    }

                    if (refusal is null)
                    {
                        await connection.WriteResponseAsync(new ResponseHeader(0, NodeStatus.Ok, length), default, request).ConfigureAwait(false);
                    }
                    else
                    {
                        await FailAsync(connection, refusal, logger, header.Key, request).ConfigureAwait(false);
                    }
                }
                else
                {
                    await HandleAsync(connection, prefix.Opcode, header, store, logger, request).ConfigureAwait(false);
                }
            }
            finally
            {
                connection.EndOperation();
            }

            if (single)
            {
                return;
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask HandleAsync(FrameConnection connection, NodeOpcode opcode, RequestHeader header, IShardStore store, ILogger logger, CancellationToken cancellationToken)
    {
        if (header.BodyLength > 0)
        {
            await connection.SkipBodyAsync(header.BodyLength, cancellationToken).ConfigureAwait(false);
        }

        switch (opcode)
        {
            case NodeOpcode.Read:
                await ReadAsync(connection, header, store, logger, cancellationToken).ConfigureAwait(false);
                break;
            case NodeOpcode.List:
                await ListAsync(connection, store, cancellationToken).ConfigureAwait(false);
                break;
            default:
                ResponseHeader answer;
                try
                {
                    answer = await RunAsync(opcode, header, store, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsAnswerable(ex, cancellationToken))
                {
                    await FailAsync(connection, ex, logger, header.Key, cancellationToken).ConfigureAwait(false);
                    return;
                }

                await connection.WriteResponseAsync(answer, default, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private static async ValueTask<ResponseHeader> RunAsync(NodeOpcode opcode, RequestHeader header, IShardStore store, CancellationToken cancellationToken)
    {
        switch (opcode)
        {
            case NodeOpcode.Commit:
                await store.CommitAsync(header.Key, header.Length, cancellationToken).ConfigureAwait(false);
                return new ResponseHeader(0, NodeStatus.Ok, 0);
            case NodeOpcode.Abandon:
                store.Abandon(header.Key);
                return new ResponseHeader(0, NodeStatus.Ok, 0);
            case NodeOpcode.Delete:
                await store.DeleteAsync(header.Key, cancellationToken).ConfigureAwait(false);
                return new ResponseHeader(0, NodeStatus.Ok, 0);
            default:
                return new ResponseHeader(0, NodeStatus.Ok, store.Stat(header.Key) ?? -1);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask ReadAsync(FrameConnection connection, RequestHeader header, IShardStore store, ILogger logger, CancellationToken cancellationToken)
    {
        if (header.Length is < 0 or > Frame.MaxBodyLength)
        {
            throw new InvalidDataException($"Node protocol violation: a read of {header.Length} bytes.");
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max((int)header.Length, 1));
        try
        {
            int read;
            try
            {
                read = await store.ReadAsync(header.Key, header.Offset, buffer.AsMemory(0, (int)header.Length), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsAnswerable(ex, cancellationToken))
            {
                await FailAsync(connection, ex, logger, header.Key, cancellationToken).ConfigureAwait(false);
                return;
            }

            await connection.WriteResponseAsync(new ResponseHeader(read, NodeStatus.Ok, read), buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async ValueTask ListAsync(FrameConnection connection, IShardStore store, CancellationToken cancellationToken)
    {
        IReadOnlyList<ShardKey> keys = store.List();
        byte[] body = new byte[keys.Count * ShardKey.Size];
        for (int i = 0; i < keys.Count; i++)
        {
            keys[i].WriteTo(body.AsSpan(i * ShardKey.Size, ShardKey.Size));
        }

        await connection.WriteResponseAsync(new ResponseHeader(body.Length, NodeStatus.Ok, keys.Count), body, cancellationToken).ConfigureAwait(false);
    }

    private static bool IsAnswerable(Exception ex, CancellationToken cancellationToken) =>
        ex is ShardException or IOException or InvalidOperationException or ArgumentException
        || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private static ValueTask FailAsync(FrameConnection connection, Exception ex, ILogger logger, ShardKey key, CancellationToken cancellationToken)
    {
        NodeStatus status = ex switch
        {
            ShardException { Failure: ShardFailure.NotFound } => NodeStatus.NotFound,
            ShardException { Failure: ShardFailure.Corrupt } => NodeStatus.Corrupt,
            ShardException { Failure: ShardFailure.InsufficientStorage } => NodeStatus.InsufficientStorage,
            ArgumentException => NodeStatus.BadRequest,
            _ => NodeStatus.Unavailable,
        };

        if (status is NodeStatus.Unavailable or NodeStatus.BadRequest)
        {
            TransportLog.RequestFailed(logger, key, ex);
        }

        byte[] message = Encoding.UTF8.GetBytes(ex.Message);
        return connection.WriteResponseAsync(new ResponseHeader(message.Length, status, 0), message, cancellationToken);
    }
}
