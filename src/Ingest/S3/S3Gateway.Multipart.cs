using System.Buffers.Binary;
using System.Globalization;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Xml;
using System.Xml.Linq;
using Microsoft.AspNetCore.Http;
using Predastore.Ingest.Auth;
using Predastore.Ingest.Pipeline;
using Predastore.Ingest.Storage;
using Predastore.Metadata;
using Predastore.Transport.Placement;

namespace Predastore.Ingest.S3;

/// <summary>
/// Multipart uploads. Each part streams through the same pipeline as a PutObject, under its own data id, placed
/// by the final object's hash (invariant 3); completion validates the part list and commits one manifest over the
/// parts' extents, moving no data (invariant 7).
/// </summary>
internal sealed partial class S3Gateway
{
    private const int MaxPartNumber = 10_000;
    private const int MaxListParts = 1000;

    private async Task CreateMultipartUploadAsync(Exchange exchange, S3Request request)
    {
        string bucket = request.Bucket!;
        IHeaderDictionary headers = exchange.Request.Headers;
        (string? algorithm, string? checksumType) = UploadChecksum(headers);
        var upload = new MultipartUpload
        {
            UploadId = NewUploadId(),
            Bucket = bucket,
            Key = request.Key!,
            Initiated = _time.GetUtcNow(),
            ContentType = headers.ContentType.FirstOrDefault() ?? "binary/octet-stream",
            ContentEncoding = StoredContentEncoding(headers.ContentEncoding),
            CacheControl = headers.CacheControl.FirstOrDefault(),
            ContentDisposition = headers.ContentDisposition.FirstOrDefault(),
            UserMetadata = UserMetadata(headers),
            ChecksumAlgorithm = algorithm,
            ChecksumType = checksumType,
            DataShards = _cluster.Layout.DataShards,
            ParityShards = _cluster.Layout.ParityShards,
            BlockSize = _cluster.Layout.BlockSize,
        };

        if (!_metadata.CreateUpload(upload))
        {
            throw S3Errors.NoSuchBucket(bucket);
        }

        if (algorithm is not null)
        {
            exchange.Response.Headers["x-amz-checksum-algorithm"] = algorithm;
            exchange.Response.Headers["x-amz-checksum-type"] = checksumType;
        }

        await S3Xml.WriteAsync(exchange.Response, "InitiateMultipartUploadResult", writer =>
        {
            S3Xml.Element(writer, "Bucket", bucket);
            S3Xml.Element(writer, "Key", upload.Key);
            S3Xml.Element(writer, "UploadId", upload.UploadId);
        }).ConfigureAwait(false);
    }

    private async Task UploadPartAsync(Exchange exchange, S3Request request)
    {
        (MultipartUpload upload, int partNumber) = FindUploadAndPart(exchange, request);
        ChecksumAlgorithm? required = upload.ChecksumAlgorithm is null ? null : ParseAlgorithm(upload.ChecksumAlgorithm);
        using RequestBody body = RequestBody.Open(exchange.Request, exchange.Auth, _options.MaxObjectSize, required);
        byte[]? contentMd5 = ParseContentMd5(exchange.Request.Headers);

        PartInfo part = await StorePartAsync(exchange, upload, partNumber, body.Stream, body.Checksum, stored => VerifyBody(body, contentMd5, stored))
            .ConfigureAwait(false);

        exchange.Response.Headers.ETag = Quote(part.ETag);
        if (part.Checksum is not null)
        {
            exchange.Response.Headers[ChecksumHeaders.HeaderName(body.Checksum!.Algorithm)] = part.Checksum;
        }
    }

    private async Task UploadPartCopyAsync(Exchange exchange, S3Request request)
    {
        (MultipartUpload upload, int partNumber) = FindUploadAndPart(exchange, request);
        (string sourceBucket, string sourceKey) = ParseCopySource(exchange.Request.Headers["x-amz-copy-source"].ToString());
        (ObjectManifest source, ReadLeases.Lease lease) = LeaseObject(sourceBucket, sourceKey);
        using (lease)
        {
            await CopyPartAsync(exchange, upload, partNumber, source).ConfigureAwait(false);
        }
    }

    private async Task CopyPartAsync(Exchange exchange, MultipartUpload upload, int partNumber, ObjectManifest source)
    {
        CheckCopySourceConditions(exchange.Request.Headers, source);
        (long start, long length) = CopySourceRange(exchange.Request.Headers["x-amz-copy-source-range"].FirstOrDefault(), source.Size);
        using IncrementalChecksum? checksum = upload.ChecksumAlgorithm is null ? null : new IncrementalChecksum(ParseAlgorithm(upload.ChecksumAlgorithm));

        // The source range streams from its shards straight into the part's pipeline: a pipe between the read path
        // and the write path, bounded by the pipe's pause threshold, never the whole range.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: _cluster.Layout.BlockSize, resumeWriterThreshold: _cluster.Layout.BlockSize / 2));
        using var copyCancellation = CancellationTokenSource.CreateLinkedTokenSource(exchange.Aborted);
        Task copy = CopyIntoAsync(source, start, length, pipe.Writer, copyCancellation.Token);
        PartInfo part;
        try
        {
            part = await StorePartAsync(exchange, upload, partNumber, pipe.Reader.AsStream(), checksum, verify: null).ConfigureAwait(false);
        }
        finally
        {
            await copyCancellation.CancelAsync().ConfigureAwait(false);
            await copy.ConfigureAwait(false);
        }

        await S3Xml.WriteAsync(exchange.Response, "CopyPartResult", writer =>
        {
            S3Xml.Element(writer, "LastModified", S3Xml.Timestamp(part.LastModified));
            S3Xml.Element(writer, "ETag", Quote(part.ETag));
            if (part.Checksum is not null)
            {
                S3Xml.Element(writer, "Checksum" + upload.ChecksumAlgorithm, part.Checksum);
            }
        }).ConfigureAwait(false);
    }

    private async Task CopyIntoAsync(ObjectManifest source, long start, long length, PipeWriter writer, CancellationToken cancellationToken)
    {
        Exception? failure = null;
        try
        {
            await _reader.CopyRangeAsync(source, start, length, writer.AsStream(leaveOpen: true), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Handed to the reading side, which fails the part with it.
            failure = ex;
        }
        finally
        {
            await writer.CompleteAsync(failure).ConfigureAwait(false);
        }
    }

    /// <summary>Runs a part's body through the pipeline and records it, or deletes its shards if anything fails.</summary>
    private async Task<PartInfo> StorePartAsync(
        Exchange exchange,
        MultipartUpload upload,
        int partNumber,
        Stream body,
        IncrementalChecksum? checksum,
        Action<UploadResult>? verify)
    {
        // Placed by the final object's hash, like every shard of the object it will become.
        byte[] objectHash = ObjectHash.Compute(upload.Bucket, upload.Key);
        int[] placement = _cluster.Place(objectHash);
        var target = new ExtentTarget(objectHash, NewDataId(), placement);
        GatewayLog.Placed(_logger, Convert.ToHexStringLower(objectHash), target.DataId, string.Join(',', placement));

        UploadResult result = await _uploads.RunAsync(body, target, checksum, verify, exchange.Aborted).ConfigureAwait(false);
        exchange.Bytes = result.Size;
        bool recorded = false;
        try
        {
            var part = new PartInfo(partNumber, target.DataId, result.Size, Convert.ToHexStringLower(result.Md5), _time.GetUtcNow(), result.Checksum, placement);
            if (!_metadata.PutPart(upload.Bucket, upload.Key, upload.UploadId, part))
            {
                // Completed or aborted while this part was on its way.
                throw NoSuchUpload(upload.UploadId);
            }

            recorded = true;
            return part;
        }
        finally
        {
            if (!recorded)
            {
                await _uploads.DeleteShardsAsync(target).ConfigureAwait(false);
            }
            else
            {
                // A replaced part's shards were put on the garbage list with the new part's record.
                await _garbage.ReclaimAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task CompleteMultipartUploadAsync(Exchange exchange, S3Request request)
    {
        string bucket = request.Bucket!;
        string key = request.Key!;
        string uploadId = exchange.Request.Query["uploadId"].ToString();
        RequireBucket(bucket);
        List<CompletedPart> named = await ParseCompletionAsync(exchange).ConfigureAwait(false);

        CompleteResult result = _metadata.CompleteUpload(bucket, key, uploadId, named, _options.MinimumPartSize, (upload, parts) => CompletedManifest(upload, parts));
        switch (result.Status)
        {
            case CompleteStatus.NoSuchUpload:
                throw NoSuchUpload(uploadId);
            case CompleteStatus.InvalidPart:
                throw new S3Exception(
                    "InvalidPart",
                    $"One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag: part {result.PartNumber}.",
                    400);
            case CompleteStatus.EntityTooSmall:
                throw new S3Exception(
                    "EntityTooSmall",
                    $"Your proposed upload is smaller than the minimum allowed size: part {result.PartNumber} is under {_options.MinimumPartSize} bytes and is not the last part.",
                    400);
        }

        ObjectManifest manifest = result.Manifest!;
        await _garbage.ReclaimAsync().ConfigureAwait(false);
        await S3Xml.WriteAsync(exchange.Response, "CompleteMultipartUploadResult", writer =>
        {
            S3Xml.Element(writer, "Location", $"{exchange.Request.Scheme}://{exchange.Request.Host}/{bucket}/{Uri.EscapeDataString(key).Replace("%2F", "/", StringComparison.Ordinal)}");
            S3Xml.Element(writer, "Bucket", bucket);
            S3Xml.Element(writer, "Key", key);
            S3Xml.Element(writer, "ETag", Quote(manifest.ETag));
            foreach ((string algorithm, string value) in manifest.Checksums)
            {
                S3Xml.Element(writer, "Checksum" + algorithm, value);
                S3Xml.Element(writer, "ChecksumType", value.Contains('-', StringComparison.Ordinal) ? "COMPOSITE" : "FULL_OBJECT");
            }
        }).ConfigureAwait(false);
    }

    /// <summary>The object a completion commits: the parts' extents in order, the multipart ETag and checksum.</summary>
    private static ObjectManifest CompletedManifest(MultipartUpload upload, IReadOnlyList<PartInfo> parts)
    {
        // S3's multipart ETag: MD5 of the concatenated binary part MD5s, then "-N".
        byte[] md5s = new byte[16 * parts.Count];
        for (int i = 0; i < parts.Count; i++)
        {
            Convert.FromHexString(parts[i].ETag, md5s.AsSpan(i * 16, 16), out _, out _);
        }

        var checksums = new Dictionary<string, string>();
        if (upload.ChecksumAlgorithm is { } name && parts.All(p => p.Checksum is not null))
        {
            ChecksumAlgorithm algorithm = ParseAlgorithm(name);
            checksums[name] = upload.ChecksumType == "FULL_OBJECT"
                ? MultipartChecksum.FullObject(algorithm, [.. parts.Select(p => (p.Checksum!, p.Size))])
                : MultipartChecksum.Composite(algorithm, [.. parts.Select(p => p.Checksum!)]);
        }

        return new ObjectManifest
        {
            Bucket = upload.Bucket,
            Key = upload.Key,
            Size = parts.Sum(p => p.Size),
            ETag = Convert.ToHexStringLower(MD5.HashData(md5s)) + "-" + parts.Count.ToString(CultureInfo.InvariantCulture),
            LastModified = parts.Max(p => p.LastModified),
            ContentType = upload.ContentType,
            ContentEncoding = upload.ContentEncoding,
            CacheControl = upload.CacheControl,
            ContentDisposition = upload.ContentDisposition,
            UserMetadata = upload.UserMetadata,
            Checksums = checksums,
            DataShards = upload.DataShards,
            ParityShards = upload.ParityShards,
            BlockSize = upload.BlockSize,
            Extents = [.. parts.Select(p => p.ToExtent())],
        };
    }

    private async Task AbortMultipartUploadAsync(Exchange exchange, S3Request request)
    {
        string uploadId = exchange.Request.Query["uploadId"].ToString();
        RequireBucket(request.Bucket!);
        if (!_metadata.AbortUpload(request.Bucket!, request.Key!, uploadId))
        {
            throw NoSuchUpload(uploadId);
        }

        exchange.Response.StatusCode = 204;
        await _garbage.ReclaimAsync().ConfigureAwait(false);
    }

    private Task ListPartsAsync(Exchange exchange, S3Request request)
    {
        IQueryCollection query = exchange.Request.Query;
        string uploadId = query["uploadId"].ToString();
        RequireBucket(request.Bucket!);
        MultipartUpload upload = _metadata.GetUpload(request.Bucket!, request.Key!, uploadId) ?? throw NoSuchUpload(uploadId);
        int maxParts = Math.Min(NonNegative(query, "max-parts", MaxListParts), MaxListParts);
        int marker = NonNegative(query, "part-number-marker", 0);
        ListPartsResult page = _metadata.ListParts(uploadId, marker, maxParts);

        return S3Xml.WriteAsync(exchange.Response, "ListPartsResult", writer =>
        {
            S3Xml.Element(writer, "Bucket", upload.Bucket);
            S3Xml.Element(writer, "Key", upload.Key);
            S3Xml.Element(writer, "UploadId", uploadId);
            S3Xml.Element(writer, "PartNumberMarker", marker);
            S3Xml.Element(writer, "NextPartNumberMarker", page.NextPartNumberMarker);
            S3Xml.Element(writer, "MaxParts", maxParts);
            S3Xml.Element(writer, "IsTruncated", page.IsTruncated);
            WriteInitiatorAndOwner(writer, exchange.Auth.AccessKey);
            S3Xml.Element(writer, "StorageClass", "STANDARD");
            S3Xml.Element(writer, "ChecksumAlgorithm", upload.ChecksumAlgorithm);
            S3Xml.Element(writer, "ChecksumType", upload.ChecksumType);
            foreach (PartInfo part in page.Parts)
            {
                writer.WriteStartElement("Part", S3Xml.Namespace);
                S3Xml.Element(writer, "PartNumber", part.PartNumber);
                S3Xml.Element(writer, "LastModified", S3Xml.Timestamp(part.LastModified));
                S3Xml.Element(writer, "ETag", Quote(part.ETag));
                S3Xml.Element(writer, "Size", part.Size);
                if (part.Checksum is not null)
                {
                    S3Xml.Element(writer, "Checksum" + upload.ChecksumAlgorithm, part.Checksum);
                }

                writer.WriteEndElement();
            }
        });
    }

    private Task ListMultipartUploadsAsync(Exchange exchange, S3Request request)
    {
        string bucket = request.Bucket!;
        IQueryCollection query = exchange.Request.Query;
        string? prefix = query["prefix"];
        string? delimiter = query["delimiter"];
        string? keyMarker = query["key-marker"];
        string? uploadIdMarker = query["upload-id-marker"];
        bool urlEncoded = EncodingType(query);
        int maxUploads = Math.Min(NonNegative(query, "max-uploads", MaxListKeys), MaxListKeys);
        RequireBucket(bucket);
        ListUploadsResult page = _metadata.ListUploads(new ListUploadsRequest(
            bucket, prefix, delimiter, string.IsNullOrEmpty(keyMarker) ? null : keyMarker, string.IsNullOrEmpty(uploadIdMarker) ? null : uploadIdMarker, maxUploads));

        return S3Xml.WriteAsync(exchange.Response, "ListMultipartUploadsResult", writer =>
        {
            S3Xml.Element(writer, "Bucket", bucket);
            S3Xml.Element(writer, "KeyMarker", Encode(keyMarker ?? string.Empty, urlEncoded));
            S3Xml.Element(writer, "UploadIdMarker", uploadIdMarker ?? string.Empty);
            if (page.IsTruncated)
            {
                S3Xml.Element(writer, "NextKeyMarker", Encode(page.NextKeyMarker ?? string.Empty, urlEncoded));
                S3Xml.Element(writer, "NextUploadIdMarker", page.NextUploadIdMarker ?? string.Empty);
            }

            if (!string.IsNullOrEmpty(delimiter))
            {
                S3Xml.Element(writer, "Delimiter", Encode(delimiter, urlEncoded));
            }

            S3Xml.Element(writer, "Prefix", Encode(prefix ?? string.Empty, urlEncoded));
            S3Xml.Element(writer, "MaxUploads", maxUploads);
            S3Xml.Element(writer, "IsTruncated", page.IsTruncated);
            if (urlEncoded)
            {
                S3Xml.Element(writer, "EncodingType", "url");
            }

            foreach (MultipartUpload upload in page.Uploads)
            {
                writer.WriteStartElement("Upload", S3Xml.Namespace);
                S3Xml.Element(writer, "Key", Encode(upload.Key, urlEncoded));
                S3Xml.Element(writer, "UploadId", upload.UploadId);
                WriteInitiatorAndOwner(writer, exchange.Auth.AccessKey);
                S3Xml.Element(writer, "StorageClass", "STANDARD");
                S3Xml.Element(writer, "Initiated", S3Xml.Timestamp(upload.Initiated));
                S3Xml.Element(writer, "ChecksumAlgorithm", upload.ChecksumAlgorithm);
                S3Xml.Element(writer, "ChecksumType", upload.ChecksumType);
                writer.WriteEndElement();
            }

            foreach (string commonPrefix in page.CommonPrefixes)
            {
                writer.WriteStartElement("CommonPrefixes", S3Xml.Namespace);
                S3Xml.Element(writer, "Prefix", Encode(commonPrefix, urlEncoded));
                writer.WriteEndElement();
            }
        });
    }

    /// <summary>Aborts the uploads nobody finished within <see cref="GatewayOptions.AbortIncompleteUploadsAfter"/>.</summary>
    public async Task<int> AbortAbandonedUploadsAsync(CancellationToken cancellationToken = default)
    {
        DateTimeOffset cutoff = _time.GetUtcNow() - _options.AbortIncompleteUploadsAfter;
        int aborted = 0;
        IReadOnlyList<MultipartUpload> batch;
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            batch = _metadata.UploadsInitiatedBefore(cutoff, 100);
            foreach (MultipartUpload upload in batch)
            {
                if (_metadata.AbortUpload(upload.Bucket, upload.Key, upload.UploadId))
                {
                    GatewayLog.UploadAbandoned(_logger, upload.Bucket, upload.Key, upload.UploadId, upload.Initiated);
                    aborted++;
                }
            }
        }
        while (batch.Count == 100);

        if (aborted > 0)
        {
            await _garbage.ReclaimAsync().ConfigureAwait(false);
        }

        return aborted;
    }

    /// <summary>
    /// Background upkeep until <paramref name="cancellationToken"/> fires: aborts abandoned uploads and reclaims
    /// garbage a failed delete left behind. Runs a few times per abort age, at least hourly.
    /// </summary>
    public async Task RunMaintenanceAsync(CancellationToken cancellationToken)
    {
        TimeSpan interval = TimeSpan.FromTicks(Math.Clamp(_options.AbortIncompleteUploadsAfter.Ticks / 4, TimeSpan.TicksPerSecond, TimeSpan.TicksPerHour));
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await AbortAbandonedUploadsAsync(cancellationToken).ConfigureAwait(false);
                await _garbage.ReclaimAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private (MultipartUpload Upload, int PartNumber) FindUploadAndPart(Exchange exchange, S3Request request)
    {
        IQueryCollection query = exchange.Request.Query;
        string uploadId = query["uploadId"].ToString();
        if (!int.TryParse(query["partNumber"], NumberStyles.None, CultureInfo.InvariantCulture, out int partNumber) || partNumber is < 1 or > MaxPartNumber)
        {
            throw S3Errors.InvalidArgument($"Part number must be an integer between 1 and {MaxPartNumber}, inclusive.");
        }

        RequireBucket(request.Bucket!);
        MultipartUpload upload = _metadata.GetUpload(request.Bucket!, request.Key!, uploadId) ?? throw NoSuchUpload(uploadId);

        // The completed manifest describes every part with the layout recorded when the upload was created, so a
        // part cut and coded with another one (the gateway restarted with other settings meanwhile) would read
        // back as the wrong bytes. Refused before any byte of the part is read.
        var layout = new StripeLayout(upload.DataShards, upload.ParityShards, upload.BlockSize);
        if (layout != _cluster.Layout)
        {
            throw S3Errors.InvalidRequest(
                $"This multipart upload was created for RS({layout.DataShards},{layout.ParityShards}) with {layout.BlockSize}-byte blocks, and the " +
                $"gateway now stores RS({_cluster.Layout.DataShards},{_cluster.Layout.ParityShards}) with {_cluster.Layout.BlockSize}-byte blocks; " +
                "complete it with the parts already uploaded, or abort it and upload again.");
        }

        return (upload, partNumber);
    }

    private static async Task<List<CompletedPart>> ParseCompletionAsync(Exchange exchange)
    {
        XElement document = await S3Xml.ReadAsync(exchange.Request, exchange.Aborted).ConfigureAwait(false)
            ?? throw S3Errors.MalformedXml("the request has no CompleteMultipartUpload document");
        if (document.Name.LocalName != "CompleteMultipartUpload")
        {
            throw S3Errors.MalformedXml($"expected CompleteMultipartUpload, found {document.Name.LocalName}");
        }

        var parts = new List<CompletedPart>();
        foreach (XElement part in S3Xml.Children(document, "Part"))
        {
            string? number = S3Xml.ChildValue(part, "PartNumber");
            string? etag = S3Xml.ChildValue(part, "ETag");
            if (!int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out int partNumber) || etag is null)
            {
                throw S3Errors.MalformedXml("every Part needs a PartNumber and an ETag");
            }

            string? checksum = part.Elements().FirstOrDefault(e => e.Name.LocalName.StartsWith("Checksum", StringComparison.Ordinal) && e.Name.LocalName != "ChecksumType")?.Value;
            if (parts.Count > 0 && partNumber <= parts[^1].PartNumber)
            {
                throw new S3Exception("InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.", 400);
            }

            parts.Add(new CompletedPart(partNumber, etag, checksum));
        }

        return parts.Count > 0 ? parts : throw S3Errors.MalformedXml("a CompleteMultipartUpload names at least one part");
    }

    private static (string? Algorithm, string? Type) UploadChecksum(IHeaderDictionary headers)
    {
        string? name = headers[ChecksumHeaders.AlgorithmHeader].FirstOrDefault();
        string? type = headers["x-amz-checksum-type"].FirstOrDefault()?.ToUpperInvariant();
        if (name is null)
        {
            return type is null ? (null, null) : throw S3Errors.InvalidRequest("x-amz-checksum-type needs x-amz-checksum-algorithm.");
        }

        ChecksumAlgorithm algorithm = ParseAlgorithm(name);
        type ??= algorithm is ChecksumAlgorithm.Crc64Nvme ? "FULL_OBJECT" : "COMPOSITE";
        if (type is not ("COMPOSITE" or "FULL_OBJECT"))
        {
            throw S3Errors.InvalidRequest($"x-amz-checksum-type must be COMPOSITE or FULL_OBJECT, not {type}.");
        }

        if (type == "FULL_OBJECT" && algorithm is not (ChecksumAlgorithm.Crc32 or ChecksumAlgorithm.Crc32C or ChecksumAlgorithm.Crc64Nvme))
        {
            throw S3Errors.InvalidRequest($"The FULL_OBJECT checksum type is not supported for {name}.");
        }

        if (type == "COMPOSITE" && algorithm is ChecksumAlgorithm.Crc64Nvme)
        {
            throw S3Errors.InvalidRequest("The COMPOSITE checksum type is not supported for CRC64NVME.");
        }

        return (ChecksumHeaders.AlgorithmName(algorithm), type);
    }

    private static ChecksumAlgorithm ParseAlgorithm(string name) =>
        ChecksumHeaders.TryParseAlgorithmName(name, out ChecksumAlgorithm algorithm)
            ? algorithm
            : throw S3Errors.InvalidRequest($"Checksum algorithm {name} is not supported.");

    private static (string Bucket, string Key) ParseCopySource(string header)
    {
        string source = header.TrimStart('/');
        int query = source.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            if (!source[query..].Equals("?versionId=null", StringComparison.Ordinal))
            {
                throw S3Errors.NotImplemented("copying a version other than the current one");
            }

            source = source[..query];
        }

        // Clients encode the whole value, slashes included; a bucket name holds no slash, so the first one splits.
        source = Uri.UnescapeDataString(source).TrimStart('/');
        int slash = source.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == source.Length - 1)
        {
            throw S3Errors.InvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey.");
        }

        string bucket = source[..slash];
        BucketName.Validate(bucket);
        return (bucket, source[(slash + 1)..]);
    }

    private static (long Start, long Length) CopySourceRange(string? header, long size)
    {
        if (header is null)
        {
            return (0, size);
        }

        string[] bounds = header.StartsWith("bytes=", StringComparison.Ordinal) ? header["bytes=".Length..].Split('-') : [];
        if (bounds.Length != 2
            || !long.TryParse(bounds[0], NumberStyles.None, CultureInfo.InvariantCulture, out long first)
            || !long.TryParse(bounds[1], NumberStyles.None, CultureInfo.InvariantCulture, out long last)
            || first > last
            || last >= size)
        {
            throw S3Errors.InvalidArgument($"Range specified is not valid for source object of size: {size}");
        }

        return (first, last - first + 1);
    }

    private static void CheckCopySourceConditions(IHeaderDictionary headers, ObjectManifest source)
    {
        string etag = Quote(source.ETag);
        if (headers["x-amz-copy-source-if-match"].FirstOrDefault() is { } match && !EntityTagMatches(match, etag))
        {
            throw S3Errors.PreconditionFailed("x-amz-copy-source-if-match");
        }

        if (headers["x-amz-copy-source-if-none-match"].FirstOrDefault() is { } noneMatch && EntityTagMatches(noneMatch, etag))
        {
            throw S3Errors.PreconditionFailed("x-amz-copy-source-if-none-match");
        }
    }

    private static int NonNegative(IQueryCollection query, string name, int fallback)
    {
        string? value = query[name];
        if (value is null)
        {
            return fallback;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int parsed)
            ? parsed
            : throw S3Errors.InvalidArgument($"{name} must be a non-negative integer, not '{value}'.");
    }

    private static void WriteInitiatorAndOwner(XmlWriter writer, string owner)
    {
        writer.WriteStartElement("Initiator", S3Xml.Namespace);
        S3Xml.Element(writer, "ID", owner);
        S3Xml.Element(writer, "DisplayName", owner);
        writer.WriteEndElement();
        WriteOwner(writer, owner);
    }

    private static S3Exception NoSuchUpload(string uploadId) =>
        new("NoSuchUpload", $"The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed: {uploadId}", 404);

    /// <summary>Upload ids sort by initiation time (S3 lists uploads of one key in that order), then are random.</summary>
    private string NewUploadId()
    {
        Span<byte> bytes = stackalloc byte[24];
        BinaryPrimitives.WriteInt64BigEndian(bytes, _time.GetUtcNow().UtcTicks);
        RandomNumberGenerator.Fill(bytes[8..]);
        return Convert.ToHexStringLower(bytes);
    }
}
