// Invariant: frames come out of a connection exactly as they went in, however the stream cuts and delays the bytes
// (a header split across reads, several frames in one read, a body partly read with its header, writes and reads
// that have to wait), and a stream that ends is an orderly end only between frames.
using Predastore.Transport.Protocol;
using Predastore.Wal;

namespace Predastore.Transport.Tests.Network;

public sealed class FrameConnectionTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task Frames_StreamCutsAndDelaysEveryReadAndWrite_ArriveWhole(int chunk)
    {
        // Arrange: a request with a large body (written after its header), one with a small body (copied behind
        // it), and a response without a body
        var stream = new TrickleStream(chunk);
        await using var connection = new FrameConnection(stream);
        ShardKey key = TestKeys.Key(1, 3);
        byte[] large = TestKeys.Bytes(100_000, 1);
        byte[] small = TestKeys.Bytes(300, 2);
        await connection.WriteRequestAsync(NodeOpcode.Write, new RequestHeader(large.Length, key, 5, 0), large, default).AsTask().WaitAsync(TestKeys.Timeout);
        await connection.WriteRequestAsync(NodeOpcode.Write, new RequestHeader(small.Length, key, 6, 0), small, default).AsTask().WaitAsync(TestKeys.Timeout);
        await connection.WriteResponseAsync(new ResponseHeader(0, NodeStatus.NotFound, 42), default, default).AsTask().WaitAsync(TestKeys.Timeout);
        stream.Rewind();

        // Act
        (FramePrefix Prefix, RequestHeader Header, byte[] Body) first = await ReadRequestAsync(connection).WaitAsync(TestKeys.Timeout);
        (FramePrefix Prefix, RequestHeader Header, byte[] Body) second = await ReadRequestAsync(connection).WaitAsync(TestKeys.Timeout);
        FramePrefix third = await connection.ReadFrameAsync(default).AsTask().WaitAsync(TestKeys.Timeout);
        ResponseHeader response = ResponseHeader.Read(connection.Header(third.HeaderLength));
        FramePrefix end = await connection.ReadFrameAsync(default).AsTask().WaitAsync(TestKeys.Timeout);

        // Assert
        Assert.Equal(expected: new RequestHeader(large.Length, key, 5, 0), actual: first.Header);
        Assert.True(large.AsSpan().SequenceEqual(first.Body));
        Assert.Equal(expected: new RequestHeader(small.Length, key, 6, 0), actual: second.Header);
        Assert.True(small.AsSpan().SequenceEqual(second.Body));
        Assert.Equal(expected: NodeOpcode.Response, actual: third.Opcode);
        Assert.Equal(expected: new ResponseHeader(0, NodeStatus.NotFound, 42), actual: response);
        Assert.True(end.IsEnd);
    }

    [Theory]
    [InlineData(5)] // inside the prefix
    [InlineData(30)] // inside the header
    [InlineData(Frame.PrefixSize + RequestHeader.Size + 10)] // inside the body
    public async Task Read_StreamEndsInsideAFrame_ThrowsClosed(int length)
    {
        // Arrange: a frame with a 100-byte body, cut short
        var stream = new TrickleStream(chunk: 16);
        await using var connection = new FrameConnection(stream);
        await connection.WriteRequestAsync(NodeOpcode.Write, new RequestHeader(100, TestKeys.Key(2, 0), 0, 0), new byte[100], default).AsTask().WaitAsync(TestKeys.Timeout);
        stream.Truncate(length);

        // Act
        Exception? failure = await Record.ExceptionAsync(() => ReadRequestAsync(connection).WaitAsync(TestKeys.Timeout));

        // Assert
        Assert.IsType<IOException>(failure);
    }

    private static async Task<(FramePrefix Prefix, RequestHeader Header, byte[] Body)> ReadRequestAsync(FrameConnection connection)
    {
        FramePrefix prefix = await connection.ReadFrameAsync(default);
        RequestHeader header = RequestHeader.Read(connection.Header(prefix.HeaderLength));
        byte[] body = new byte[header.BodyLength];
        await connection.ReadBodyAsync(body, default);
        return (prefix, header, body);
    }

    /// <summary>
    /// Bytes in memory, handed out at most <c>chunk</c> at a time; every write and every other read completes only
    /// after a yield, so the connection's reads and writes take their waiting paths as well as their direct ones.
    /// </summary>
    private sealed class TrickleStream(int chunk) : Stream
    {
        private readonly MemoryStream _bytes = new();
        private int _reads;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void Rewind() => _bytes.Position = 0;

        public void Truncate(int length)
        {
            _bytes.SetLength(length);
            Rewind();
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (++_reads % 2 == 0)
            {
                await Task.Yield();
            }

            return _bytes.Read(buffer.Span[..Math.Min(chunk, buffer.Length)]);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            _bytes.Write(buffer.Span);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
