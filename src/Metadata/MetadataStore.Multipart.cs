using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Predastore.Metadata;

/// <summary>
/// Multipart uploads. Each part is an extent of its own; completion writes the object's manifest over the parts'
/// extents in one transaction and moves no data. Every change that unreferences a part puts its extent on the
/// garbage list in the same transaction, so nothing is lost and nothing leaks across a crash.
/// </summary>
public sealed partial class MetadataStore
{
    private const string MultipartSchemaSql = """
        CREATE TABLE IF NOT EXISTS uploads (
            upload_id TEXT NOT NULL PRIMARY KEY,
            bucket TEXT NOT NULL,
            key BLOB NOT NULL,
            initiated_utc_ticks INTEGER NOT NULL,
            content_type TEXT,
            content_encoding TEXT,
            cache_control TEXT,
            content_disposition TEXT,
            user_metadata TEXT,
            checksum_algorithm TEXT,
            checksum_type TEXT,
            data_shards INTEGER NOT NULL,
            parity_shards INTEGER NOT NULL,
            block_size INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key, upload_id);
        CREATE INDEX IF NOT EXISTS uploads_by_age ON uploads (initiated_utc_ticks);
        CREATE TABLE IF NOT EXISTS parts (
            upload_id TEXT NOT NULL,
            part_number INTEGER NOT NULL,
            data_id BLOB NOT NULL,
            size INTEGER NOT NULL,
            etag TEXT NOT NULL,
            last_modified_utc_ticks INTEGER NOT NULL,
            checksum TEXT,
            placement TEXT NOT NULL,
            PRIMARY KEY (upload_id, part_number)
        ) WITHOUT ROWID;
        """;

    private const string UploadColumns =
        "upload_id, bucket, key, initiated_utc_ticks, content_type, content_encoding, cache_control, " +
        "content_disposition, user_metadata, checksum_algorithm, checksum_type, data_shards, parity_shards, block_size";

    private const string PartColumns = "part_number, data_id, size, etag, last_modified_utc_ticks, checksum, placement";

    /// <summary>Records a new upload; false when the bucket does not exist.</summary>
    public bool CreateUpload(MultipartUpload upload)
    {
        ArgumentNullException.ThrowIfNull(upload);
        byte[] keyBytes = KeyBytes.Encode(upload.Key, nameof(upload));
        return Write((connection, transaction) =>
        {
            if (!BucketExistsIn(connection, transaction, upload.Bucket))
            {
                return false;
            }

            using SqliteCommand insert = NewCommand(connection, transaction,
                "INSERT INTO uploads (" + UploadColumns + ") VALUES (@uploadId, @bucket, @key, @initiated, @contentType, " +
                "@contentEncoding, @cacheControl, @contentDisposition, @userMetadata, @checksumAlgorithm, @checksumType, " +
                "@dataShards, @parityShards, @blockSize);");
            SqliteParameterCollection p = insert.Parameters;
            p.AddWithValue("@uploadId", upload.UploadId);
            p.AddWithValue("@bucket", upload.Bucket);
            p.Add("@key", SqliteType.Blob).Value = keyBytes;
            p.AddWithValue("@initiated", upload.Initiated.UtcTicks);
            p.AddWithValue("@contentType", (object?)upload.ContentType ?? DBNull.Value);
            p.AddWithValue("@contentEncoding", (object?)upload.ContentEncoding ?? DBNull.Value);
            p.AddWithValue("@cacheControl", (object?)upload.CacheControl ?? DBNull.Value);
            p.AddWithValue("@contentDisposition", (object?)upload.ContentDisposition ?? DBNull.Value);
            p.AddWithValue("@userMetadata", (object?)SerializeMap(upload.UserMetadata) ?? DBNull.Value);
            p.AddWithValue("@checksumAlgorithm", (object?)upload.ChecksumAlgorithm ?? DBNull.Value);
            p.AddWithValue("@checksumType", (object?)upload.ChecksumType ?? DBNull.Value);
            p.AddWithValue("@dataShards", upload.DataShards);
            p.AddWithValue("@parityShards", upload.ParityShards);
            p.AddWithValue("@blockSize", upload.BlockSize);
            insert.ExecuteNonQuery();
            transaction.Commit();
            return true;
        });
    }

    /// <summary>The upload, when it is in progress for exactly this bucket and key.</summary>
    public MultipartUpload? GetUpload(string bucket, string key, string uploadId) =>
        Read((connection, transaction) => SelectUpload(connection, transaction, bucket, key, uploadId));

    /// <summary>
    /// Records a part; a part uploaded before under the same number goes on the garbage list in the same
    /// transaction. False, having changed nothing, when the upload is no longer in progress (completed or aborted):
    /// the caller then deletes the part's shards.
    /// </summary>
    public bool PutPart(string bucket, string key, string uploadId, PartInfo part)
    {
        ArgumentNullException.ThrowIfNull(part);
        return Write((connection, transaction) =>
        {
            if (SelectUpload(connection, transaction, bucket, key, uploadId) is null)
            {
                return false;
            }

            MoveToGarbage(connection, transaction, bucket, key, SelectParts(connection, transaction, uploadId, part.PartNumber, part.PartNumber));
            using SqliteCommand upsert = NewCommand(connection, transaction,
                "INSERT OR REPLACE INTO parts (upload_id, " + PartColumns + ") VALUES (@uploadId, @partNumber, @dataId, @size, " +
                "@etag, @lastModified, @checksum, @placement);");
            SqliteParameterCollection p = upsert.Parameters;
            p.AddWithValue("@uploadId", uploadId);
            p.AddWithValue("@partNumber", part.PartNumber);
            p.Add("@dataId", SqliteType.Blob).Value = part.DataId.ToByteArray(bigEndian: true);
            p.AddWithValue("@size", part.Size);
            p.AddWithValue("@etag", part.ETag);
            p.AddWithValue("@lastModified", part.LastModified.UtcTicks);
            p.AddWithValue("@checksum", (object?)part.Checksum ?? DBNull.Value);
            p.AddWithValue("@placement", JsonSerializer.Serialize(part.Placement.ToArray(), MetadataJsonContext.Default.Int32Array));
            upsert.ExecuteNonQuery();
            transaction.Commit();
            return true;
        });
    }

    /// <summary>Parts after <paramref name="partNumberMarker"/>, in part-number order.</summary>
    public ListPartsResult ListParts(string uploadId, int partNumberMarker, int maxParts)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxParts);
        return Read((connection, transaction) =>
        {
            List<PartInfo> parts = SelectParts(connection, transaction, uploadId, partNumberMarker + 1, int.MaxValue, limit: maxParts + 1);
            bool truncated = parts.Count > maxParts;
            if (truncated)
            {
                parts.RemoveAt(parts.Count - 1);
            }

            return new ListPartsResult(parts, truncated, parts.Count > 0 ? parts[^1].PartNumber : 0);
        });
    }

    /// <summary>
    /// Uploads in progress in key order (then upload id, which sorts by initiation), after the markers, with keys
    /// that contain the delimiter after the prefix rolled up into common prefixes.
    /// </summary>
    public ListUploadsResult ListUploads(ListUploadsRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        byte[] prefix = KeyBytes.Encode(request.Prefix ?? string.Empty, nameof(request));
        return Read((connection, transaction) =>
        {
            var uploads = new List<MultipartUpload>();
            var commonPrefixes = new List<string>();
            string? lastKey = null;
            string? lastUploadId = null;
            using SqliteCommand select = NewCommand(connection, transaction,
                "SELECT " + UploadColumns + " FROM uploads WHERE bucket = @bucket AND key >= @prefix ORDER BY key, upload_id;");
            select.Parameters.AddWithValue("@bucket", request.Bucket);
            select.Parameters.Add("@prefix", SqliteType.Blob).Value = prefix;
            using SqliteDataReader reader = select.ExecuteReader();
            while (reader.Read())
            {
                MultipartUpload upload = ReadUpload(reader);
                if (!upload.Key.StartsWith(request.Prefix ?? string.Empty, StringComparison.Ordinal))
                {
                    break;
                }

                if (!AfterMarkers(upload, request))
                {
                    continue;
                }

                string? commonPrefix = CommonPrefixOf(upload.Key, request.Prefix, request.Delimiter);
                if (commonPrefix is not null && commonPrefixes.Count > 0 && commonPrefixes[^1] == commonPrefix)
                {
                    continue;
                }

                if (request.KeyMarker is not null && commonPrefix is not null && KeyBytes.Compare(commonPrefix, request.KeyMarker) <= 0)
                {
                    // A previous page returned this common prefix (the marker is the prefix, or a key under it).
                    continue;
                }

                if (uploads.Count + commonPrefixes.Count == request.MaxUploads)
                {
                    return new ListUploadsResult(uploads, commonPrefixes, IsTruncated: true, lastKey, lastUploadId);
                }

                if (commonPrefix is not null)
                {
                    commonPrefixes.Add(commonPrefix);
                    lastKey = commonPrefix;
                    lastUploadId = null;
                }
                else
                {
                    uploads.Add(upload);
                    lastKey = upload.Key;
                    lastUploadId = upload.UploadId;
                }
            }

            return new ListUploadsResult(uploads, commonPrefixes, IsTruncated: false, null, null);
        });
    }

    /// <summary>
    /// Completes an upload: checks the named parts against the stored ones (uploaded, same ETag and checksum, every
    /// part but the last at least <paramref name="minimumPartSize"/>), then, in one transaction, commits the manifest
    /// <paramref name="buildManifest"/> makes from them (the previous object's extents and every part not named go
    /// on the garbage list) and ends the upload. A concurrent completion or abort finds the upload gone.
    /// </summary>
    public CompleteResult CompleteUpload(
        string bucket,
        string key,
        string uploadId,
        IReadOnlyList<CompletedPart> named,
        long minimumPartSize,
        Func<MultipartUpload, IReadOnlyList<PartInfo>, ObjectManifest> buildManifest)
    {
        ArgumentNullException.ThrowIfNull(named);
        ArgumentNullException.ThrowIfNull(buildManifest);
        return Write((connection, transaction) =>
        {
            MultipartUpload? upload = SelectUpload(connection, transaction, bucket, key, uploadId);
            if (upload is null)
            {
                return new CompleteResult(CompleteStatus.NoSuchUpload);
            }

            Dictionary<int, PartInfo> stored = SelectParts(connection, transaction, uploadId, 1, int.MaxValue).ToDictionary(p => p.PartNumber);
            var chosen = new List<PartInfo>(named.Count);
            foreach (CompletedPart part in named)
            {
                if (!stored.TryGetValue(part.PartNumber, out PartInfo? found)
                    || !string.Equals(found.ETag, part.ETag.Trim('"'), StringComparison.Ordinal)
                    || (part.Checksum is not null && !string.Equals(found.Checksum, part.Checksum, StringComparison.Ordinal)))
                {
                    return new CompleteResult(CompleteStatus.InvalidPart, part.PartNumber);
                }

                chosen.Add(found);
            }

            // Sizes only once every named part is known to exist, as S3 reports them.
            for (int i = 0; i < chosen.Count - 1; i++)
            {
                if (chosen[i].Size < minimumPartSize)
                {
                    return new CompleteResult(CompleteStatus.EntityTooSmall, chosen[i].PartNumber);
                }
            }

            ObjectManifest manifest = buildManifest(upload, chosen);
            byte[] keyBytes = Validate(manifest);
            if (!PutObject(connection, transaction, manifest, keyBytes))
            {
                return new CompleteResult(CompleteStatus.NoSuchUpload);
            }

            var completed = chosen.Select(p => p.PartNumber).ToHashSet();
            MoveToGarbage(connection, transaction, bucket, key, stored.Values.Where(p => !completed.Contains(p.PartNumber)));
            DeleteUpload(connection, transaction, uploadId);
            transaction.Commit();
            return new CompleteResult(CompleteStatus.Completed, Manifest: manifest);
        });
    }

    /// <summary>Ends an upload; its parts go on the garbage list. False when it is not in progress.</summary>
    public bool AbortUpload(string bucket, string key, string uploadId) => Write((connection, transaction) =>
    {
        if (SelectUpload(connection, transaction, bucket, key, uploadId) is null)
        {
            return false;
        }

        MoveToGarbage(connection, transaction, bucket, key, SelectParts(connection, transaction, uploadId, 1, int.MaxValue));
        DeleteUpload(connection, transaction, uploadId);
        transaction.Commit();
        return true;
    });

    /// <summary>Uploads initiated before <paramref name="cutoff"/>, oldest first: candidates for the automatic abort.</summary>
    public IReadOnlyList<MultipartUpload> UploadsInitiatedBefore(DateTimeOffset cutoff, int max) => Read((connection, transaction) =>
    {
        using SqliteCommand select = NewCommand(connection, transaction,
            "SELECT " + UploadColumns + " FROM uploads WHERE initiated_utc_ticks < @cutoff ORDER BY initiated_utc_ticks LIMIT @max;");
        select.Parameters.AddWithValue("@cutoff", cutoff.UtcTicks);
        select.Parameters.AddWithValue("@max", max);
        using SqliteDataReader reader = select.ExecuteReader();
        var uploads = new List<MultipartUpload>();
        while (reader.Read())
        {
            uploads.Add(ReadUpload(reader));
        }

        return uploads;
    });

    /// <summary>Aborts every upload of a bucket being deleted, in the caller's transaction.</summary>
    private static void AbortUploadsOf(SqliteConnection connection, SqliteTransaction transaction, string bucket)
    {
        var uploads = new List<(string UploadId, string Key)>();
        using (SqliteCommand select = NewCommand(connection, transaction, "SELECT upload_id, key FROM uploads WHERE bucket = @bucket;"))
        {
            select.Parameters.AddWithValue("@bucket", bucket);
            using SqliteDataReader reader = select.ExecuteReader();
            while (reader.Read())
            {
                uploads.Add((reader.GetString(0), KeyBytes.Decode(reader.GetFieldValue<byte[]>(1))));
            }
        }

        foreach ((string uploadId, string key) in uploads)
        {
            MoveToGarbage(connection, transaction, bucket, key, SelectParts(connection, transaction, uploadId, 1, int.MaxValue));
            DeleteUpload(connection, transaction, uploadId);
        }
    }

    private static MultipartUpload? SelectUpload(SqliteConnection connection, SqliteTransaction transaction, string bucket, string key, string uploadId)
    {
        using SqliteCommand select = NewCommand(connection, transaction,
            "SELECT " + UploadColumns + " FROM uploads WHERE upload_id = @uploadId AND bucket = @bucket AND key = @key;");
        select.Parameters.AddWithValue("@uploadId", uploadId);
        select.Parameters.AddWithValue("@bucket", bucket);
        select.Parameters.Add("@key", SqliteType.Blob).Value = KeyBytes.Encode(key, nameof(key));
        using SqliteDataReader reader = select.ExecuteReader();
        return reader.Read() ? ReadUpload(reader) : null;
    }

    private static List<PartInfo> SelectParts(SqliteConnection connection, SqliteTransaction transaction, string uploadId, int from, int to, int limit = -1)
    {
        using SqliteCommand select = NewCommand(connection, transaction,
            "SELECT " + PartColumns + " FROM parts WHERE upload_id = @uploadId AND part_number BETWEEN @from AND @to ORDER BY part_number LIMIT @limit;");
        select.Parameters.AddWithValue("@uploadId", uploadId);
        select.Parameters.AddWithValue("@from", from);
        select.Parameters.AddWithValue("@to", to);
        select.Parameters.AddWithValue("@limit", limit);
        using SqliteDataReader reader = select.ExecuteReader();
        var parts = new List<PartInfo>();
        while (reader.Read())
        {
            parts.Add(new PartInfo(
                reader.GetInt32(0),
                ReadDataId(reader, 1),
                reader.GetInt64(2),
                reader.GetString(3),
                FromUtcTicks(reader.GetInt64(4)),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                JsonSerializer.Deserialize(reader.GetString(6), MetadataJsonContext.Default.Int32Array)!));
        }

        return parts;
    }

    private static void MoveToGarbage(SqliteConnection connection, SqliteTransaction transaction, string bucket, string key, IEnumerable<PartInfo> parts)
    {
        using SqliteCommand insert = NewCommand(connection, transaction,
            "INSERT INTO garbage (bucket, key, data_id, size, placement) VALUES (@bucket, @key, @dataId, @size, @placement);");
        insert.Parameters.AddWithValue("@bucket", bucket);
        insert.Parameters.Add("@key", SqliteType.Blob).Value = KeyBytes.Encode(key, nameof(key));
        SqliteParameter dataId = insert.Parameters.Add("@dataId", SqliteType.Blob);
        SqliteParameter size = insert.Parameters.Add("@size", SqliteType.Integer);
        SqliteParameter placement = insert.Parameters.Add("@placement", SqliteType.Text);
        foreach (PartInfo part in parts)
        {
            dataId.Value = part.DataId.ToByteArray(bigEndian: true);
            size.Value = part.Size;
            placement.Value = JsonSerializer.Serialize(part.Placement.ToArray(), MetadataJsonContext.Default.Int32Array);
            insert.ExecuteNonQuery();
        }
    }

    private static void DeleteUpload(SqliteConnection connection, SqliteTransaction transaction, string uploadId)
    {
        using SqliteCommand delete = NewCommand(connection, transaction,
            "DELETE FROM parts WHERE upload_id = @uploadId; DELETE FROM uploads WHERE upload_id = @uploadId;");
        delete.Parameters.AddWithValue("@uploadId", uploadId);
        delete.ExecuteNonQuery();
    }

    private static MultipartUpload ReadUpload(SqliteDataReader reader) => new()
    {
        UploadId = reader.GetString(0),
        Bucket = reader.GetString(1),
        Key = KeyBytes.Decode(reader.GetFieldValue<byte[]>(2)),
        Initiated = FromUtcTicks(reader.GetInt64(3)),
        ContentType = reader.IsDBNull(4) ? null : reader.GetString(4),
        ContentEncoding = reader.IsDBNull(5) ? null : reader.GetString(5),
        CacheControl = reader.IsDBNull(6) ? null : reader.GetString(6),
        ContentDisposition = reader.IsDBNull(7) ? null : reader.GetString(7),
        UserMetadata = DeserializeMap(reader, 8),
        ChecksumAlgorithm = reader.IsDBNull(9) ? null : reader.GetString(9),
        ChecksumType = reader.IsDBNull(10) ? null : reader.GetString(10),
        DataShards = reader.GetInt32(11),
        ParityShards = reader.GetInt32(12),
        BlockSize = reader.GetInt32(13),
    };

    private static bool AfterMarkers(MultipartUpload upload, ListUploadsRequest request)
    {
        if (request.KeyMarker is null)
        {
            return true;
        }

        int byKey = KeyBytes.Compare(upload.Key, request.KeyMarker);

        // S3: with an upload-id marker, uploads of the marker key after that id follow; without one, the marker key is done.
        return byKey > 0 || (byKey == 0 && request.UploadIdMarker is not null && string.CompareOrdinal(upload.UploadId, request.UploadIdMarker) > 0);
    }

    private static string? CommonPrefixOf(string key, string? prefix, string? delimiter)
    {
        if (string.IsNullOrEmpty(delimiter))
        {
            return null;
        }

        int start = prefix?.Length ?? 0;
        int at = key.IndexOf(delimiter, start, StringComparison.Ordinal);
        return at < 0 ? null : key[..(at + delimiter.Length)];
    }
}
