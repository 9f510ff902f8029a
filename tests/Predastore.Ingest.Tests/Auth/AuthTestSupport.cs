// Shared fixtures for the Auth tests: the AWS documentation's example credentials and clock, requests built the
// way Kestrel presents them (undecoded RawTarget), a settable clock, and body readers that always time out.
using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Predastore.Ingest.Auth;

namespace Predastore.Ingest.Tests.Auth;

internal static class AwsExample
{
    public const string AccessKey = "AKIAIOSFODNN7EXAMPLE";
    public const string SecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    public const string Region = "us-east-1";
    public const string AmzDate = "20130524T000000Z";
    public const string Scope = "20130524/us-east-1/s3/aws4_request";
    public const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    public static readonly DateTimeOffset Time = new(2013, 5, 24, 0, 0, 0, TimeSpan.Zero);

    public static string? Lookup(string accessKey) => accessKey == AccessKey ? SecretKey : null;

    public static SigV4Verifier Verifier(DateTimeOffset? now = null, string region = Region) =>
        new(Lookup, region, new ManualTimeProvider(now ?? Time));

    /// <summary>A request as Kestrel hands it over: RawTarget undecoded, headers as sent.</summary>
    public static HttpRequest Request(string method, string rawTarget, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        HttpRequest request = context.Request;
        request.Method = method;
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = rawTarget;
        int q = rawTarget.IndexOf('?', StringComparison.Ordinal);
        if (rawTarget.StartsWith('/'))
        {
            request.Path = PathString.FromUriComponent(q < 0 ? rawTarget : rawTarget[..q]);
        }

        request.QueryString = q < 0 ? QueryString.Empty : new QueryString(rawTarget[q..]);
        foreach ((string name, string value) in headers)
        {
            request.Headers.Append(name, value);
        }

        return request;
    }

    public static SigV4Context Context(string seedSignature, PayloadMode mode) =>
        new(AccessKey, seedSignature, SigV4Signing.DeriveSigningKey(SecretKey, "20130524", Region, "s3"), Scope, AmzDate, Time, mode,
            mode switch
            {
                PayloadMode.StreamingSigned => PayloadModes.StreamingSigned,
                PayloadMode.StreamingSignedTrailer => PayloadModes.StreamingSignedTrailer,
                PayloadMode.StreamingUnsignedTrailer => PayloadModes.StreamingUnsignedTrailer,
                _ => PayloadModes.UnsignedPayload,
            },
            isPresigned: false);
}

/// <summary>A clock the test sets (Microsoft.Extensions.TimeProvider.Testing is not referenced).</summary>
internal sealed class ManualTimeProvider(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

internal static class AuthTestIo
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(Timeout);

    public static Task DefaultTimeout(this Task task) => task.WaitAsync(Timeout);

    public static Task<T> DefaultTimeout<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Timeout);

    /// <summary>
    /// A reader revealing <paramref name="body"/> <paramref name="step"/> bytes per read, over segments of
    /// <paramref name="segment"/> bytes, so lines, signatures and CRLFs straddle both reads and segments.
    /// </summary>
    public static PipeReader Feed(byte[] body, int segment = 4096, int step = int.MaxValue) => new SlicedPipeReader(body, segment, step);

    /// <summary>Reads to end of stream with a <paramref name="bufferSize"/>-byte buffer.</summary>
    public static async Task<byte[]> ReadAllAsync(Stream stream, int bufferSize = 16 * 1024)
    {
        var output = new MemoryStream();
        byte[] buffer = new byte[bufferSize];
        while (true)
        {
            int n = await stream.ReadAsync(buffer.AsMemory()).DefaultTimeout();
            if (n == 0)
            {
                return output.ToArray();
            }

            output.Write(buffer, 0, n);
        }
    }

    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    public static byte[] Letters(int count) => Enumerable.Repeat((byte)'a', count).ToArray();
}

/// <summary>A completed body delivered in slices; honours the examined position like a real pipe.</summary>
internal sealed class SlicedPipeReader : PipeReader
{
    private readonly ReadOnlySequence<byte> _whole;
    private readonly int _step;
    private long _consumed;
    private long _available;
    private bool _examinedAll = true;
    private ReadOnlySequence<byte> _last;

    public SlicedPipeReader(byte[] body, int segment, int step)
    {
        _step = step;
        _whole = Segments.Of(body, segment);
    }

    public int Reads { get; private set; }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Reads++;

        // Like a pipe: new bytes arrive only when the reader examined everything it was shown.
        if (_examinedAll)
        {
            _available = Math.Min(_whole.Length, _available + _step);
        }

        _last = _whole.Slice(_consumed, _available - _consumed);
        return new(new ReadResult(_last, isCanceled: false, isCompleted: _available == _whole.Length));
    }

    public override bool TryRead(out ReadResult result)
    {
        result = ReadAsync().Result;
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        long consumedBytes = _last.Slice(_last.Start, consumed).Length;
        long examinedBytes = _last.Slice(_last.Start, examined).Length;
        if (examinedBytes < consumedBytes)
        {
            throw new InvalidOperationException("examined before consumed");
        }

        _consumed += consumedBytes;
        _examinedAll = examinedBytes == _last.Length;
    }

    public override void CancelPendingRead() => throw new NotSupportedException();

    public override void Complete(Exception? exception = null)
    {
    }

    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Of(byte[] body, int size)
        {
            if (body.Length == 0)
            {
                return ReadOnlySequence<byte>.Empty;
            }

            var first = new Segments(body.AsMemory(0, Math.Min(size, body.Length)), 0);
            Segments last = first;
            for (int offset = last.Memory.Length; offset < body.Length; offset += size)
            {
                var next = new Segments(body.AsMemory(offset, Math.Min(size, body.Length - offset)), offset);
                last.Next = next;
                last = next;
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }
}
