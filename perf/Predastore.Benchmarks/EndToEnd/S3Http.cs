using System.Net;
using System.Net.Http.Headers;

using Predastore.LoadDriver;

namespace Predastore.Benchmarks.EndToEnd;

/// <summary>
/// A bare S3 client for the end-to-end suites: path-style, SigV4 with <c>UNSIGNED-PAYLOAD</c>, one pooled HttpClient.
/// </summary>
/// <remarks>
/// Not the AWS SDK: over plain HTTP it hashes every body (SHA-256 at ~2 GB/s on one of the two cores the server also
/// uses) and allocates per request; here the client costs a few hundred bytes of hashing and ~2 KB per request,
/// so the figures are the server's. Signs with the load driver's <see cref="SigV4Signer"/>.
/// </remarks>
internal sealed class S3Http : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly SigV4Signer _signer;

    public S3Http(Uri endpoint, string accessKey, string secretKey)
    {
        _endpoint = endpoint;
        _signer = new SigV4Signer(accessKey, secretKey, "us-east-1");
        _http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { Timeout = TimeSpan.FromMinutes(10) };
    }

    public async Task PutAsync(string path, HttpContent content)
    {
        using HttpRequestMessage request = Signed(HttpMethod.Put, path);
        request.Content = content;
        using HttpResponseMessage response = await _http.SendAsync(request).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    public async Task DeleteAsync(string path)
    {
        using HttpRequestMessage request = Signed(HttpMethod.Delete, path);
        using HttpResponseMessage response = await _http.SendAsync(request).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>GET of the object or of [offset, offset + length) into <paramref name="buffer"/> (reused); returns bytes read.</summary>
    public async Task<long> GetAsync(string path, byte[] buffer, long? offset = null, long length = 0)
    {
        using HttpRequestMessage request = Signed(HttpMethod.Get, path);
        if (offset is long from)
        {
            request.Headers.Range = new RangeHeaderValue(from, from + length - 1);
        }

        using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        Stream body = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            long total = 0;
            int n;
            while ((n = await body.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                total += n;
            }

            return total;
        }
    }

    public void Dispose() => _http.Dispose();

    private HttpRequestMessage Signed(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, new Uri(_endpoint, path));
        _signer.Sign(request, canonicalQuery: string.Empty, DateTimeOffset.UtcNow);
        request.Version = HttpVersion.Version11;
        return request;
    }
}

/// <summary>A body of <c>length</c> bytes that repeats one warm buffer: a 1 GiB PUT without a 1 GiB array.</summary>
internal sealed class RepeatingContent : HttpContent
{
    private readonly byte[] _block;
    private readonly long _length;

    public RepeatingContent(byte[] block, long length)
    {
        _block = block;
        _length = length;
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        for (long sent = 0; sent < _length;)
        {
            int n = (int)Math.Min(_block.Length, _length - sent);
            await stream.WriteAsync(_block.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            sent += n;
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}
