using System.IO.Hashing;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;

namespace Predastore.LoadDriver;

/// <summary>An S3 error response (or a transport failure) of one request.</summary>
internal sealed class S3RequestException : Exception
{
    public S3RequestException(string message, HttpStatusCode? status = null, string? code = null, Exception? inner = null)
        : base(message, inner)
    {
        Status = status;
        Code = code;
    }

    public HttpStatusCode? Status { get; }

    public string? Code { get; }
}

/// <summary>The result of a GET: bytes received and their XxHash128.</summary>
internal readonly record struct ReadResult(long Length, UInt128 Hash);

/// <summary>
/// The handful of S3 calls the driver makes, path-style over one pooled <see cref="HttpClient"/>, signed with SigV4
/// and <c>UNSIGNED-PAYLOAD</c> (or not at all, for a plain HTTP server such as nginx).
/// </summary>
/// <remarks>
/// Not the AWS SDK: on a plain-HTTP endpoint the SDK signs every body (SHA-256, about 2 GB/s per core) and adds a
/// CRC32 checksum; on a 2-core machine where the driver shares the CPU with the server that is the driver measuring
/// itself. Here a request costs a few hundred bytes of hashing whatever its size.
/// </remarks>
internal sealed class S3Client : IDisposable
{
    private const int ReadChunk = 256 * 1024;
    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly SigV4Signer? _signer;

    public S3Client(Uri endpoint, SigV4Signer? signer, TimeSpan timeout, bool insecure, HttpMessageHandler? handler = null)
    {
        _endpoint = endpoint;
        _signer = signer;
        if (handler is null)
        {
            var sockets = new SocketsHttpHandler
            {
                MaxConnectionsPerServer = int.MaxValue,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
                AutomaticDecompression = DecompressionMethods.None,
                UseCookies = false,
            };
            if (insecure)
            {
                sockets.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            }

            handler = sockets;
        }

        _http = new HttpClient(handler, disposeHandler: true) { Timeout = timeout };
    }

    /// <summary>PUT /bucket. False when the bucket already existed and is ours.</summary>
    public async Task<bool> CreateBucketAsync(string bucket, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendAsync(HttpMethod.Put, bucket, null, [], null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            string code = await ErrorCodeAsync(response, cancellationToken).ConfigureAwait(false);
            if (code == "BucketAlreadyOwnedByYou")
            {
                return false;
            }

            throw new S3RequestException($"CreateBucket {bucket}: {(int)response.StatusCode} {code}", response.StatusCode, code);
        }

        await EnsureSuccessAsync(response, "CreateBucket", cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<bool> BucketExistsAsync(string bucket, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendAsync(HttpMethod.Head, bucket, null, [], null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureSuccessAsync(response, "HeadBucket", cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task DeleteBucketAsync(string bucket, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendAsync(HttpMethod.Delete, bucket, null, [], null, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "DeleteBucket", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The keys under <paramref name="prefix"/> (ListObjectsV2, every page).</summary>
    public async Task<List<string>> ListKeysAsync(string bucket, string prefix, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        string? token = null;
        do
        {
            var query = new List<KeyValuePair<string, string>> { new("list-type", "2"), new("prefix", prefix) };
            if (token is not null)
            {
                query.Add(new("continuation-token", token));
            }

            using HttpResponseMessage response = await SendAsync(HttpMethod.Get, bucket, null, query, null, cancellationToken).ConfigureAwait(false);
            await EnsureSuccessAsync(response, "ListObjectsV2", cancellationToken).ConfigureAwait(false);
            XDocument xml = XDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            XNamespace ns = xml.Root!.Name.Namespace;
            keys.AddRange(xml.Root.Elements(ns + "Contents").Select(c => (string)c.Element(ns + "Key")!));
            token = (string?)xml.Root.Element(ns + "IsTruncated") == "true" ? (string?)xml.Root.Element(ns + "NextContinuationToken") : null;
        }
        while (token is not null);
        return keys;
    }

    /// <summary>PUT of <paramref name="content"/>; returns the ETag.</summary>
    public async Task<string> PutObjectAsync(string bucket, string key, HttpContent content, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendAsync(HttpMethod.Put, bucket, key, [], content, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "PutObject", cancellationToken).ConfigureAwait(false);
        return response.Headers.ETag?.Tag ?? string.Empty;
    }

    /// <summary>GET of the whole object, or of [offset, offset + length), streamed through <paramref name="buffer"/> and hashed.</summary>
    public async Task<ReadResult> GetObjectAsync(string bucket, string key, long? offset, long length, byte[] buffer, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, bucket, key, [], null, out string canonicalQuery);
        if (offset is long from)
        {
            request.Headers.Range = new RangeHeaderValue(from, from + length - 1);
        }

        Sign(request, canonicalQuery);
        using HttpResponseMessage response = await SendRequestAsync(request, HttpCompletionOption.ResponseHeadersRead, "GetObject", cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, offset is null ? "GetObject" : "GetObject (range)", cancellationToken).ConfigureAwait(false);
        if (offset is not null && response.StatusCode != HttpStatusCode.PartialContent)
        {
            throw new S3RequestException($"GetObject (range) {key}: expected 206, got {(int)response.StatusCode}", response.StatusCode);
        }

        Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            var hash = new XxHash128();
            long total = 0;
            int n;
            while ((n = await body.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, ReadChunk)), cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.Append(buffer.AsSpan(0, n));
                total += n;
            }

            return new ReadResult(total, hash.GetCurrentHashAsUInt128());
        }
    }

    public async Task DeleteObjectAsync(string bucket, string key, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendAsync(HttpMethod.Delete, bucket, key, [], null, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "DeleteObject", cancellationToken).ConfigureAwait(false);
    }

    public async Task<string> CreateMultipartUploadAsync(string bucket, string key, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendAsync(HttpMethod.Post, bucket, key, [new("uploads", string.Empty)], null, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "CreateMultipartUpload", cancellationToken).ConfigureAwait(false);
        XDocument xml = XDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        return (string?)xml.Root!.Element(xml.Root.Name.Namespace + "UploadId")
            ?? throw new S3RequestException($"CreateMultipartUpload {key}: no UploadId in the response");
    }

    public async Task<string> UploadPartAsync(string bucket, string key, string uploadId, int partNumber, HttpContent content, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendAsync(
            HttpMethod.Put, bucket, key, [new("partNumber", partNumber.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("uploadId", uploadId)], content, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "UploadPart", cancellationToken).ConfigureAwait(false);
        return response.Headers.ETag?.Tag ?? throw new S3RequestException($"UploadPart {key} #{partNumber}: no ETag");
    }

    public async Task CompleteMultipartUploadAsync(string bucket, string key, string uploadId, IReadOnlyList<string> etags, CancellationToken cancellationToken)
    {
        var xml = new StringBuilder("<CompleteMultipartUpload>");
        for (int i = 0; i < etags.Count; i++)
        {
            xml.Append("<Part><PartNumber>").Append(i + 1).Append("</PartNumber><ETag>").Append(WebUtility.HtmlEncode(etags[i])).Append("</ETag></Part>");
        }

        xml.Append("</CompleteMultipartUpload>");
        using var content = new StringContent(xml.ToString(), Encoding.UTF8, "application/xml");
        using HttpResponseMessage response = await SendAsync(HttpMethod.Post, bucket, key, [new("uploadId", uploadId)], content, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "CompleteMultipartUpload", cancellationToken).ConfigureAwait(false);

        // S3 may answer 200 and put the error in the body.
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (body.Contains("<Error>", StringComparison.Ordinal))
        {
            throw new S3RequestException($"CompleteMultipartUpload {key}: {body}", response.StatusCode);
        }
    }

    public async Task AbortMultipartUploadAsync(string bucket, string key, string uploadId, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendAsync(HttpMethod.Delete, bucket, key, [new("uploadId", uploadId)], null, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "AbortMultipartUpload", cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>RFC 3986 encoding of each path segment, '/' kept: S3's canonical URI.</summary>
    internal static string EncodePath(string key) => string.Join('/', key.Split('/').Select(Uri.EscapeDataString));

    private async Task<HttpResponseMessage> SendAsync(
        HttpMethod method, string bucket, string? key, List<KeyValuePair<string, string>> query, HttpContent? content, CancellationToken cancellationToken)
    {
        using HttpRequestMessage request = Request(method, bucket, key, query, content, out string canonicalQuery);
        Sign(request, canonicalQuery);
        return await SendRequestAsync(request, HttpCompletionOption.ResponseContentRead, method.Method, cancellationToken).ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> SendRequestAsync(HttpRequestMessage request, HttpCompletionOption completion, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new S3RequestException($"{what} {request.RequestUri!.AbsolutePath}: {e.Message}", inner: e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new S3RequestException($"{what} {request.RequestUri!.AbsolutePath}: timed out after {_http.Timeout.TotalSeconds:0} s", inner: e);
        }
    }

    private HttpRequestMessage Request(HttpMethod method, string bucket, string? key, List<KeyValuePair<string, string>> query, HttpContent? content, out string canonicalQuery)
    {
        query.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        canonicalQuery = string.Join('&', query.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
        string path = _endpoint.AbsolutePath.TrimEnd('/') + "/" + Uri.EscapeDataString(bucket) + (key is null ? string.Empty : "/" + EncodePath(key));

        // "?uploads" goes on the wire as "uploads=" too: S3 accepts both, and the canonical form must match.
        var builder = new UriBuilder(_endpoint) { Path = path, Query = canonicalQuery };
        return new HttpRequestMessage(method, builder.Uri) { Content = content, Version = HttpVersion.Version11 };
    }

    private void Sign(HttpRequestMessage request, string canonicalQuery) => _signer?.Sign(request, canonicalQuery, DateTimeOffset.UtcNow);

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        string code = await ErrorCodeAsync(response, cancellationToken).ConfigureAwait(false);
        throw new S3RequestException($"{operation} {response.RequestMessage?.RequestUri?.AbsolutePath}: {(int)response.StatusCode} {code}", response.StatusCode, code);
    }

    private static async Task<string> ErrorCodeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            int start = body.IndexOf("<Code>", StringComparison.Ordinal);
            int end = body.IndexOf("</Code>", StringComparison.Ordinal);
            return start >= 0 && end > start ? body[(start + 6)..end] : response.ReasonPhrase ?? string.Empty;
        }
        catch (HttpRequestException)
        {
            return response.ReasonPhrase ?? string.Empty;
        }
    }
}
