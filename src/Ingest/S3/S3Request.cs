using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Predastore.Ingest.S3;

/// <summary>Which bucket and key a request addresses, path-style (<c>/bucket/key</c>) or virtual-hosted (<c>bucket.domain/key</c>).</summary>
internal sealed record S3Request(string? Bucket, string? Key)
{
    public const int MaxKeyBytes = 1024;

    public static S3Request Parse(HttpContext context, string? virtualHostDomain)
    {
        string rawPath = RawPath(context);
        string? hostBucket = VirtualHostBucket(context.Request.Host.Host, virtualHostDomain);
        string path = rawPath.TrimStart('/');

        string? bucket;
        string? encodedKey;
        if (hostBucket is not null)
        {
            bucket = hostBucket;
            encodedKey = path;
        }
        else
        {
            int slash = path.IndexOf('/', StringComparison.Ordinal);
            bucket = slash < 0 ? path : path[..slash];
            encodedKey = slash < 0 ? null : path[(slash + 1)..];
            bucket = Uri.UnescapeDataString(bucket);
        }

        string? key = string.IsNullOrEmpty(encodedKey) ? null : Uri.UnescapeDataString(encodedKey);
        if (key is not null)
        {
            int bytes = Encoding.UTF8.GetByteCount(key);
            if (bytes > MaxKeyBytes)
            {
                throw S3Errors.KeyTooLong(bytes);
            }
        }

        return new S3Request(string.IsNullOrEmpty(bucket) ? null : bucket, key);
    }

    /// <summary>
    /// The path as the client sent it: keys may contain encoded slashes and other characters that a decoded path
    /// would lose, and signatures are computed over the raw form.
    /// </summary>
    private static string RawPath(HttpContext context)
    {
        string target = context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw
            ? raw
            : context.Request.PathBase + context.Request.Path;
        if (target.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || target.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            int pathStart = target.IndexOf('/', target.IndexOf("//", StringComparison.Ordinal) + 2);
            target = pathStart < 0 ? "/" : target[pathStart..];
        }

        int query = target.IndexOf('?', StringComparison.Ordinal);
        return query < 0 ? target : target[..query];
    }

    private static string? VirtualHostBucket(string host, string? domain)
    {
        if (string.IsNullOrEmpty(domain) || host.Length <= domain.Length + 1)
        {
            return null;
        }

        return host.EndsWith("." + domain, StringComparison.OrdinalIgnoreCase) ? host[..^(domain.Length + 1)] : null;
    }
}
