using System.Diagnostics;
using System.Xml;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Predastore.Ingest.Auth;
using Predastore.Ingest.Pipeline;
using Predastore.Ingest.Storage;
using Predastore.Metadata;
using Predastore.Transport;

namespace Predastore.Ingest.S3;

/// <summary>
/// The S3 endpoint: authenticates every request, routes it to its operation and answers failures with the S3
/// XML error. An operation that fails leaves stored data exactly as it was.
/// </summary>
internal sealed partial class S3Gateway
{
    private readonly MetadataStore _metadata;
    private readonly StorageCluster _cluster;
    private readonly SigV4Verifier _verifier;
    private readonly GatewayOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly UploadPipeline _uploads;
    private readonly ObjectReader _reader;
    private readonly GarbageCollector _garbage;
    private readonly ReadLeases _leases = new();

    public S3Gateway(MetadataStore metadata, StorageCluster cluster, SigV4Verifier verifier, GatewayOptions options, ILogger logger, TimeProvider time)
    {
        _metadata = metadata;
        _cluster = cluster;
        _verifier = verifier;
        _options = options;
        _logger = logger;
        _time = time;
        _uploads = new UploadPipeline(cluster, logger);
        _reader = new ObjectReader(cluster, logger);
        _garbage = new GarbageCollector(metadata, _uploads, _leases, logger);
    }

    /// <summary>Reclaims what a previous run left unreferenced (it crashed between a commit and the deletes).</summary>
    public Task ReclaimGarbageAsync() => _garbage.ReclaimAsync();

    public async Task HandleAsync(HttpContext context)
    {
        long started = Stopwatch.GetTimestamp();
        string operation = "Unknown";
        S3Request? request = null;
        var exchange = new Exchange(context);
        context.Response.Headers["x-amz-request-id"] = exchange.RequestId;
        context.Response.Headers.Server = "Predastore";
        try
        {
            request = S3Request.Parse(context, _options.VirtualHostDomain);
            exchange.Auth = _verifier.Verify(context.Request).GetContextOrThrow();
            (operation, Func<Exchange, S3Request, Task> handler) = Route(context.Request, request);
            await handler(exchange, request).ConfigureAwait(false);
        }
        catch (S3Exception ex)
        {
            await WriteErrorAsync(context, ex, request).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ConnectionResetException && context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing of its request was kept and nobody is left to answer.
        }
        catch (BadHttpRequestException ex)
        {
            GatewayLog.RequestFailed(_logger, operation, request?.Bucket, request?.Key, ex);
            await WriteErrorAsync(context, S3Errors.IncompleteBody(), request).ConfigureAwait(false);
        }
        catch (ShardException ex)
        {
            GatewayLog.RequestFailed(_logger, operation, request?.Bucket, request?.Key, ex);
            S3Exception error = ex.Failure == ShardFailure.InsufficientStorage
                ? S3Errors.InsufficientStorage(ex.Message)
                : S3Errors.ServiceUnavailable(ex.Message);
            await WriteErrorAsync(context, error, request).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            GatewayLog.RequestFailed(_logger, operation, request?.Bucket, request?.Key, ex);
            await WriteErrorAsync(context, S3Errors.InternalError(), request).ConfigureAwait(false);
        }
        finally
        {
            GatewayLog.Request(
                _logger,
                operation,
                request?.Bucket,
                request?.Key,
                context.Response.StatusCode,
                exchange.Bytes,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private (string Operation, Func<Exchange, S3Request, Task> Handler) Route(HttpRequest http, S3Request request)
    {
        IQueryCollection query = http.Query;
        string method = http.Method;
        if (request.Bucket is null)
        {
            return HttpMethods.IsGet(method) ? ("ListBuckets", ListBucketsAsync) : throw S3Errors.MethodNotAllowed(method);
        }

        BucketName.Validate(request.Bucket);
        if (request.Key is null)
        {
            RejectUnsupported(query, s_bucketSubresources);
            return method switch
            {
                _ when HttpMethods.IsPut(method) => ("CreateBucket", CreateBucketAsync),
                _ when HttpMethods.IsHead(method) => ("HeadBucket", HeadBucketAsync),
                _ when HttpMethods.IsDelete(method) => ("DeleteBucket", DeleteBucketAsync),
                _ when HttpMethods.IsGet(method) && query.ContainsKey("location") => ("GetBucketLocation", GetBucketLocationAsync),
                _ when HttpMethods.IsGet(method) && query.ContainsKey("uploads") => ("ListMultipartUploads", ListMultipartUploadsAsync),
                _ when HttpMethods.IsGet(method) && query["list-type"] == "2" => ("ListObjectsV2", ListObjectsV2Async),
                _ when HttpMethods.IsGet(method) => ("ListObjects", ListObjectsV1Async),
                _ when HttpMethods.IsPost(method) && query.ContainsKey("delete") => ("DeleteObjects", DeleteObjectsAsync),
                _ => throw S3Errors.MethodNotAllowed(method),
            };
        }

        RejectUnsupported(query, s_objectSubresources);
        bool copy = http.Headers.ContainsKey("x-amz-copy-source");
        if (query.ContainsKey("uploadId"))
        {
            return method switch
            {
                _ when HttpMethods.IsPut(method) && copy => ("UploadPartCopy", UploadPartCopyAsync),
                _ when HttpMethods.IsPut(method) => ("UploadPart", UploadPartAsync),
                _ when HttpMethods.IsPost(method) => ("CompleteMultipartUpload", CompleteMultipartUploadAsync),
                _ when HttpMethods.IsDelete(method) => ("AbortMultipartUpload", AbortMultipartUploadAsync),
                _ when HttpMethods.IsGet(method) => ("ListParts", ListPartsAsync),
                _ => throw S3Errors.MethodNotAllowed(method),
            };
        }

        return method switch
        {
            _ when HttpMethods.IsPost(method) && query.ContainsKey("uploads") => ("CreateMultipartUpload", CreateMultipartUploadAsync),
            _ when HttpMethods.IsPut(method) && copy => throw S3Errors.NotImplemented("CopyObject"),
            _ when HttpMethods.IsPut(method) => ("PutObject", PutObjectAsync),
            _ when HttpMethods.IsGet(method) => ("GetObject", GetObjectAsync),
            _ when HttpMethods.IsHead(method) => ("HeadObject", HeadObjectAsync),
            _ when HttpMethods.IsDelete(method) => ("DeleteObject", DeleteObjectAsync),
            _ => throw S3Errors.MethodNotAllowed(method),
        };
    }

    // Sub-resources this gateway does not serve yet: answered NotImplemented rather than mistaken for a plain request.
    private static readonly string[] s_bucketSubresources =
        ["acl", "policy", "versioning", "versions", "cors", "lifecycle", "tagging", "website", "logging", "notification", "replication", "encryption", "object-lock", "accelerate", "requestPayment", "ownershipControls", "publicAccessBlock", "analytics", "metrics", "inventory", "intelligent-tiering"];

    private static readonly string[] s_objectSubresources =
        ["acl", "tagging", "retention", "legal-hold", "torrent", "restore", "select", "attributes", "versionId"];

    private static void RejectUnsupported(IQueryCollection query, string[] subresources)
    {
        foreach (string name in subresources)
        {
            if (query.ContainsKey(name))
            {
                throw S3Errors.NotImplemented(name);
            }
        }
    }

    private static async Task WriteErrorAsync(HttpContext context, S3Exception error, S3Request? request)
    {
        if (context.Response.HasStarted)
        {
            // Part of the body is out already: the only honest signal left is a broken connection.
            context.Abort();
            return;
        }

        context.Response.Clear();
        context.Response.Headers["x-amz-request-id"] = context.TraceIdentifier;
        context.Response.StatusCode = error.StatusCode;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        string resource = request is null ? context.Request.Path.Value ?? "/" : "/" + request.Bucket + (request.Key is null ? string.Empty : "/" + request.Key);
        try
        {
            await S3Xml.WriteAsync(
                context.Response,
                "Error",
                writer =>
                {
                    writer.WriteElementString("Code", error.Code);
                    writer.WriteElementString("Message", error.Message);
                    writer.WriteElementString("Resource", resource);
                    writer.WriteElementString("RequestId", context.TraceIdentifier);
                },
                error.StatusCode,
                ns: null,
                context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left before reading its error.
        }
    }

    /// <summary>One request as it goes through the gateway.</summary>
    private sealed class Exchange(HttpContext context)
    {
        public HttpContext Context { get; } = context;

        public HttpRequest Request => Context.Request;

        public HttpResponse Response => Context.Response;

        public CancellationToken Aborted => Context.RequestAborted;

        public string RequestId => Context.TraceIdentifier;

        public SigV4Context Auth { get; set; } = null!;

        /// <summary>Body bytes stored or served, for the request log.</summary>
        public long Bytes { get; set; }
    }
}
