using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Predastore.Ingest.Auth;
using Predastore.Ingest.Pipeline;
using Predastore.Metadata;
using Predastore.Transport.Placement;

namespace Predastore.Ingest.S3;

internal sealed partial class S3Gateway
{
    private const string MetadataPrefix = "x-amz-meta-";
    private const int MaxUserMetadataBytes = 2048;
    private const int MaxDeleteObjects = 1000;

    private async Task PutObjectAsync(Exchange exchange, S3Request request)
    {
        string bucket = request.Bucket!;
        string key = request.Key!;
        IHeaderDictionary headers = exchange.Request.Headers;
        RequireBucket(bucket);

        // Everything about the request is checked before a byte of the body is stored.
        using RequestBody body = RequestBody.Open(exchange.Request, exchange.Auth, _options.MaxObjectSize);
        byte[]? contentMd5 = ParseContentMd5(headers);
        Dictionary<string, string> userMetadata = UserMetadata(headers);

        byte[] objectHash = ObjectHash.Compute(bucket, key);
        int[] placement = _cluster.Place(objectHash);
        var target = new ExtentTarget(objectHash, NewDataId(), placement);
        GatewayLog.Placed(_logger, Convert.ToHexStringLower(objectHash), target.DataId, string.Join(',', placement));

        UploadResult result = await _uploads.RunAsync(body.Stream, target, body.Checksum, stored => VerifyBody(body, contentMd5, stored), exchange.Aborted)
            .ConfigureAwait(false);
        exchange.Bytes = result.Size;
        bool committed = false;
        try
        {
            string? checksum = result.Checksum;
            var manifest = new ObjectManifest
            {
                Bucket = bucket,
                Key = key,
                Size = result.Size,
                ETag = Convert.ToHexStringLower(result.Md5),
                LastModified = _time.GetUtcNow(),
                ContentType = headers.ContentType.FirstOrDefault() ?? "binary/octet-stream",
                ContentEncoding = StoredContentEncoding(headers.ContentEncoding),
                CacheControl = headers.CacheControl.FirstOrDefault(),
                ContentDisposition = headers.ContentDisposition.FirstOrDefault(),
                UserMetadata = userMetadata,
                Checksums = checksum is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [ChecksumHeaders.AlgorithmName(body.Checksum!.Algorithm)] = checksum },
                DataShards = _cluster.Layout.DataShards,
                ParityShards = _cluster.Layout.ParityShards,
                BlockSize = _cluster.Layout.BlockSize,
                Extents = [new Extent(target.DataId, result.Size, placement)],
            };

            // Shards are durable; the manifest commit is what makes the object visible.
            if (!_metadata.PutObject(manifest))
            {
                throw S3Errors.NoSuchBucket(bucket);
            }

            committed = true;
            exchange.Response.Headers.ETag = Quote(manifest.ETag);
            if (checksum is not null)
            {
                exchange.Response.Headers[ChecksumHeaders.HeaderName(body.Checksum!.Algorithm)] = checksum;
            }
        }
        finally
        {
            if (!committed)
            {
                await _uploads.DeleteShardsAsync(target).ConfigureAwait(false);
            }
        }

        await _garbage.ReclaimAsync().ConfigureAwait(false);
    }

    private Task GetObjectAsync(Exchange exchange, S3Request request) => ServeObjectAsync(exchange, request, withBody: true);

    private Task HeadObjectAsync(Exchange exchange, S3Request request) => ServeObjectAsync(exchange, request, withBody: false);

    private async Task ServeObjectAsync(Exchange exchange, S3Request request, bool withBody)
    {
        (ObjectManifest manifest, ReadLeases.Lease lease) = LeaseObject(request.Bucket!, request.Key!);
        using (lease)
        {
            await ServeObjectAsync(exchange, manifest, withBody).ConfigureAwait(false);
        }
    }

    private async Task ServeObjectAsync(Exchange exchange, ObjectManifest manifest, bool withBody)
    {
        HttpResponse response = exchange.Response;
        if (!CheckConditions(exchange.Request.Headers, manifest, response))
        {
            return;
        }

        ByteRange? range = exchange.Request.Query.ContainsKey("partNumber")
            ? PartRange(exchange.Request, manifest, response)
            : ByteRange.Parse(exchange.Request.Headers.Range, manifest.Size);
        WriteObjectHeaders(response, manifest, exchange.Request.Query);
        long start = range?.Start ?? 0;
        long length = range?.Length ?? manifest.Size;
        if (range is { } r)
        {
            // An empty part of a multipart object is a range too, of no bytes, which Content-Range cannot name: 200.
            if (r.Length > 0)
            {
                response.StatusCode = 206;
                response.Headers.ContentRange = $"bytes {r.Start}-{r.End}/{manifest.Size}";
            }
        }
        else if (string.Equals(exchange.Request.Headers["x-amz-checksum-mode"], "ENABLED", StringComparison.OrdinalIgnoreCase))
        {
            // A checksum describes the whole object, so it goes out only with the whole object.
            foreach ((string algorithm, string value) in manifest.Checksums)
            {
                response.Headers["x-amz-checksum-" + algorithm.ToLowerInvariant()] = value;
                response.Headers["x-amz-checksum-type"] = "FULL_OBJECT";
            }
        }

        response.ContentLength = length;
        if (!withBody || length == 0)
        {
            return;
        }

        // The response starts with the first block's bytes, not before: a first block that cannot be read or rebuilt
        // is then answered with an S3 error, where afterwards only a broken connection can say so.
        await _reader.CopyRangeAsync(manifest, start, length, response.Body, exchange.Aborted).ConfigureAwait(false);
        exchange.Bytes = length;
    }

    /// <summary>
    /// The bytes of part N of a multipart object (<c>?partNumber=N</c>). An object stored by a single PUT has one
    /// part, the whole object.
    /// </summary>
    private static ByteRange? PartRange(HttpRequest request, ObjectManifest manifest, HttpResponse response)
    {
        if (!string.IsNullOrEmpty(request.Headers.Range))
        {
            throw S3Errors.InvalidRequest("Cannot specify both Range header and partNumber query parameter.");
        }

        if (!int.TryParse(request.Query["partNumber"], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int partNumber)
            || partNumber is < 1 or > MaxPartNumber)
        {
            throw S3Errors.InvalidArgument($"Part number must be an integer between 1 and {MaxPartNumber}, inclusive.");
        }

        bool multipart = manifest.Extents.Count > 0 && manifest.Extents[0].PartNumber > 0;
        if (!multipart)
        {
            return partNumber == 1 ? null : throw InvalidPartNumber();
        }

        long start = 0;
        foreach (Extent extent in manifest.Extents)
        {
            if (extent.PartNumber == partNumber)
            {
                response.Headers["x-amz-mp-parts-count"] = manifest.Extents.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return new ByteRange(start, extent.Size);
            }

            start += extent.Size;
        }

        throw InvalidPartNumber();

        static S3Exception InvalidPartNumber() => new("InvalidPartNumber", "The requested partnumber is not satisfiable.", 416);
    }

    private async Task DeleteObjectAsync(Exchange exchange, S3Request request)
    {
        RequireBucket(request.Bucket!);

        // Deleting a key that does not exist succeeds, as in S3.
        if (_metadata.DeleteObject(request.Bucket!, request.Key!) is not null)
        {
            await _garbage.ReclaimAsync().ConfigureAwait(false);
        }

        exchange.Response.StatusCode = 204;
    }

    private async Task DeleteObjectsAsync(Exchange exchange, S3Request request)
    {
        string bucket = request.Bucket!;
        RequireBucket(bucket);
        XElement document = await S3Xml.ReadAsync(exchange.Request, exchange.Aborted).ConfigureAwait(false)
            ?? throw S3Errors.MalformedXml("the request has no Delete document");
        if (document.Name.LocalName != "Delete")
        {
            throw S3Errors.MalformedXml($"expected Delete, found {document.Name.LocalName}");
        }

        bool quiet = string.Equals(S3Xml.ChildValue(document, "Quiet"), "true", StringComparison.OrdinalIgnoreCase);
        List<string> keys = [.. S3Xml.Children(document, "Object").Select(o => S3Xml.ChildValue(o, "Key") ?? throw S3Errors.MalformedXml("an Object has no Key"))];
        if (keys.Count is 0 or > MaxDeleteObjects)
        {
            throw S3Errors.MalformedXml($"a Delete names 1 to {MaxDeleteObjects} objects, this one {keys.Count}");
        }

        var deleted = new List<string>(keys.Count);
        var failed = new List<(string Key, S3Exception Error)>();
        foreach (string key in keys)
        {
            int bytes = Encoding.UTF8.GetByteCount(key);
            if (bytes > S3Request.MaxKeyBytes)
            {
                failed.Add((key, S3Errors.KeyTooLong(bytes)));
                continue;
            }

            _metadata.DeleteObject(bucket, key);
            deleted.Add(key);
        }

        await _garbage.ReclaimAsync().ConfigureAwait(false);
        await S3Xml.WriteAsync(exchange.Response, "DeleteResult", writer =>
        {
            if (!quiet)
            {
                foreach (string key in deleted)
                {
                    writer.WriteStartElement("Deleted", S3Xml.Namespace);
                    S3Xml.Element(writer, "Key", key);
                    writer.WriteEndElement();
                }
            }

            foreach ((string key, S3Exception error) in failed)
            {
                writer.WriteStartElement("Error", S3Xml.Namespace);
                S3Xml.Element(writer, "Key", key);
                S3Xml.Element(writer, "Code", error.Code);
                S3Xml.Element(writer, "Message", error.Message);
                writer.WriteEndElement();
            }
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// The object's manifest with a read lease on its extents. The lease is taken, then the manifest read again:
    /// if an overwrite committed in between, its garbage pass may not have seen the lease, so the newer version is
    /// served instead; otherwise the lease is in place before any collection of these extents can start.
    /// </summary>
    private (ObjectManifest Manifest, ReadLeases.Lease Lease) LeaseObject(string bucket, string key)
    {
        ObjectManifest manifest = FindObject(bucket, key);
        while (true)
        {
            ReadLeases.Lease lease = _leases.Acquire(manifest.Extents);
            ObjectManifest current;
            try
            {
                current = FindObject(bucket, key);
            }
            catch
            {
                // Deleted in between (NoSuchKey, or NoSuchBucket): a lease left behind would keep the garbage
                // collector off these extents for the life of the process.
                lease.Dispose();
                throw;
            }

            if (current.Extents.Select(e => e.DataId).SequenceEqual(manifest.Extents.Select(e => e.DataId)))
            {
                return (manifest, lease);
            }

            lease.Dispose();
            manifest = current;
        }
    }

    /// <summary>The checks that need the whole body: its length, Content-MD5, and the checksum sent (header or trailer).</summary>
    private static void VerifyBody(RequestBody body, byte[]? contentMd5, UploadResult stored)
    {
        body.VerifyComplete(stored.Size);
        if (contentMd5 is not null && !CryptographicOperations.FixedTimeEquals(contentMd5, stored.Md5))
        {
            throw S3Errors.BadDigest("Content-MD5");
        }

        body.VerifyChecksum(stored.Checksum);
    }

    private ObjectManifest FindObject(string bucket, string key)
    {
        ObjectManifest? manifest = _metadata.GetObject(bucket, key);
        if (manifest is not null)
        {
            return manifest;
        }

        RequireBucket(bucket);
        throw S3Errors.NoSuchKey(key);
    }

    /// <summary>If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, with S3's precedence. False when answered already (304).</summary>
    private static bool CheckConditions(IHeaderDictionary headers, ObjectManifest manifest, HttpResponse response)
    {
        string etag = Quote(manifest.ETag);
        DateTimeOffset lastModified = TruncateToSeconds(manifest.LastModified);
        StringValues ifMatch = headers.IfMatch;
        StringValues ifNoneMatch = headers.IfNoneMatch;
        if (!StringValues.IsNullOrEmpty(ifMatch))
        {
            if (!EntityTagMatches(ifMatch, etag))
            {
                throw S3Errors.PreconditionFailed("If-Match");
            }
        }
        else if (TryParseDate(headers.IfUnmodifiedSince, out DateTimeOffset unmodifiedSince) && lastModified > unmodifiedSince)
        {
            throw S3Errors.PreconditionFailed("If-Unmodified-Since");
        }

        bool notModified = !StringValues.IsNullOrEmpty(ifNoneMatch)
            ? EntityTagMatches(ifNoneMatch, etag)
            : TryParseDate(headers.IfModifiedSince, out DateTimeOffset modifiedSince) && lastModified <= modifiedSince;
        if (notModified)
        {
            response.StatusCode = 304;
            response.Headers.ETag = etag;
            response.Headers.LastModified = HeaderUtilities.FormatDate(lastModified);
            return false;
        }

        return true;
    }

    private static bool EntityTagMatches(StringValues header, string etag)
    {
        foreach (string? value in header)
        {
            foreach (string candidate in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                string bare = candidate.StartsWith("W/", StringComparison.Ordinal) ? candidate[2..] : candidate;
                if (bare == "*" || bare == etag || "\"" + bare + "\"" == etag)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool TryParseDate(StringValues header, out DateTimeOffset value) =>
        HeaderUtilities.TryParseDate(header.ToString(), out value);

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset time) => new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), time.Offset);

    private static void WriteObjectHeaders(HttpResponse response, ObjectManifest manifest, IQueryCollection query)
    {
        IHeaderDictionary headers = response.Headers;
        headers.ETag = Quote(manifest.ETag);
        headers.LastModified = HeaderUtilities.FormatDate(TruncateToSeconds(manifest.LastModified));
        headers.AcceptRanges = "bytes";
        headers.ContentType = query["response-content-type"].FirstOrDefault() ?? manifest.ContentType ?? "binary/octet-stream";
        SetIfPresent(headers, HeaderNames.ContentEncoding, query["response-content-encoding"].FirstOrDefault() ?? manifest.ContentEncoding);
        SetIfPresent(headers, HeaderNames.CacheControl, query["response-cache-control"].FirstOrDefault() ?? manifest.CacheControl);
        SetIfPresent(headers, HeaderNames.ContentDisposition, query["response-content-disposition"].FirstOrDefault() ?? manifest.ContentDisposition);
        SetIfPresent(headers, HeaderNames.ContentLanguage, query["response-content-language"].FirstOrDefault());
        SetIfPresent(headers, HeaderNames.Expires, query["response-expires"].FirstOrDefault());
        foreach ((string name, string value) in manifest.UserMetadata)
        {
            headers[MetadataPrefix + name] = value;
        }
    }

    private static void SetIfPresent(IHeaderDictionary headers, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            headers[name] = value;
        }
    }

    private static byte[]? ParseContentMd5(IHeaderDictionary headers)
    {
        string? value = headers["Content-MD5"].FirstOrDefault();
        if (value is null)
        {
            return null;
        }

        byte[] digest = new byte[16];
        return Convert.TryFromBase64String(value, digest, out int written) && written == digest.Length
            ? digest
            : throw S3Errors.InvalidDigest("Content-MD5");
    }

    private static Dictionary<string, string> UserMetadata(IHeaderDictionary headers)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        int bytes = 0;
        foreach ((string name, StringValues value) in headers)
        {
            if (name.StartsWith(MetadataPrefix, StringComparison.OrdinalIgnoreCase))
            {
                string key = name[MetadataPrefix.Length..].ToLowerInvariant();
                string joined = value.ToString();
                metadata[key] = joined;
                bytes += Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(joined);
            }
        }

        if (bytes > MaxUserMetadataBytes)
        {
            throw new S3Exception("MetadataTooLarge", $"Your metadata headers exceed the maximum allowed metadata size: {bytes} > {MaxUserMetadataBytes} bytes.", 400);
        }

        return metadata;
    }

    /// <summary><c>aws-chunked</c> describes how this request was sent, not the object: it is not stored.</summary>
    private static string? StoredContentEncoding(StringValues header)
    {
        string[] codings = header.ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string stored = string.Join(',', codings.Where(c => !c.Equals("aws-chunked", StringComparison.OrdinalIgnoreCase)));
        return stored.Length == 0 ? null : stored;
    }

    private static Guid NewDataId()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return new Guid(bytes);
    }
}
