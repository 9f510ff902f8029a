using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Predastore.Metadata;

/// <summary>
/// The embedded metadata store: buckets, object manifests and the garbage list of extents whose shards are to be
/// deleted, in one SQLite database (WAL, synchronous=FULL: a method that returns has made its change durable).
/// </summary>
/// <remarks>
/// <para>Thread-safe. Every operation runs on its own pooled connection inside one transaction. Reads run
/// concurrently on a snapshot; writes are serialised by a lock and run in <c>BEGIN IMMEDIATE</c> transactions.</para>
/// <para>Keys are stored as their UTF-8 bytes, so index order is S3's UTF-8 binary order.</para>
/// <para>Shards first, metadata second: when a manifest is replaced or removed, its extents are put on the garbage
/// list in the same transaction. The caller deletes their shards after the commit, then calls
/// <see cref="ReleaseGarbage"/>; a crash in between leaves the entries listed by <see cref="PendingGarbage"/>.</para>
/// </remarks>
public sealed partial class MetadataStore : IDisposable
{
    private const int SchemaVersion = 1;

    private const string CoreSchemaSql = """
        CREATE TABLE IF NOT EXISTS buckets (
            name TEXT NOT NULL PRIMARY KEY,
            created_utc_ticks INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS objects (
            bucket TEXT NOT NULL,
            key BLOB NOT NULL,
            size INTEGER NOT NULL,
            etag TEXT NOT NULL,
            last_modified_utc_ticks INTEGER NOT NULL,
            content_type TEXT,
            content_encoding TEXT,
            cache_control TEXT,
            content_disposition TEXT,
            user_metadata TEXT,
            checksums TEXT,
            data_shards INTEGER NOT NULL,
            parity_shards INTEGER NOT NULL,
            block_size INTEGER NOT NULL,
            PRIMARY KEY (bucket, key)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS extents (
            bucket TEXT NOT NULL,
            key BLOB NOT NULL,
            ordinal INTEGER NOT NULL,
            data_id BLOB NOT NULL,
            size INTEGER NOT NULL,
            placement TEXT NOT NULL,
            part_number INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (bucket, key, ordinal)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS garbage (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            bucket TEXT NOT NULL,
            key BLOB NOT NULL,
            data_id BLOB NOT NULL,
            size INTEGER NOT NULL,
            placement TEXT NOT NULL
        );
        """;

    // Each area's tables, created if missing on every open (each script is idempotent). An area that needs a
    // table adds its script here, in its own partial file.
    private static readonly string[] s_schema = [CoreSchemaSql, MultipartSchemaSql, ReplacementSchemaSql];

    // Column order read by ReadManifest.
    private const string ObjectColumns =
        "key, size, etag, last_modified_utc_ticks, content_type, content_encoding, cache_control, " +
        "content_disposition, user_metadata, checksums, data_shards, parity_shards, block_size";

    private const string SelectObjectSql =
        "SELECT " + ObjectColumns + " FROM objects WHERE bucket = @bucket AND key = @key;";

    // One range of the listing: [@low, @high) in byte order. Prefix, StartAfter and the seek past a common prefix
    // all become a lower or upper bound, so every query is an index range scan.
    private const string ListRangeSql =
        "SELECT " + ObjectColumns + " FROM objects " +
        "WHERE bucket = @bucket AND key >= @low AND key < @high ORDER BY key;";

    private const string SelectExtentsSql =
        "SELECT data_id, size, placement, part_number FROM extents WHERE bucket = @bucket AND key = @key ORDER BY ordinal;";

    private const string BucketExistsSql = "SELECT 1 FROM buckets WHERE name = @bucket;";

    private readonly string _connectionString;
    private readonly Lock _writeLock = new();
    private volatile bool _disposed;

    private MetadataStore(string connectionString) => _connectionString = connectionString;

    /// <summary>Opens (creating it and its directory if needed) the database at <paramref name="databasePath"/>.</summary>
    public static MetadataStore Open(string databasePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(databasePath);
        var fullPath = Path.GetFullPath(databasePath);
        var directory = Path.GetDirectoryName(fullPath);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
        }.ToString();

        var store = new MetadataStore(connectionString);
        try
        {
            store.Initialize();
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>Creates a bucket; false when it already exists.</summary>
    public bool CreateBucket(string name, DateTimeOffset creationDate)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Write((connection, transaction) =>
        {
            using var command = NewCommand(connection, transaction,
                "INSERT INTO buckets (name, created_utc_ticks) VALUES (@bucket, @created) ON CONFLICT (name) DO NOTHING;");
            command.Parameters.AddWithValue("@bucket", name);
            command.Parameters.AddWithValue("@created", creationDate.UtcTicks);
            var created = command.ExecuteNonQuery() == 1;
            transaction.Commit();
            return created;
        });
    }

    public bool BucketExists(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Read((connection, transaction) => BucketExistsIn(connection, transaction, name));
    }

    /// <summary>All buckets, sorted by name.</summary>
    public IReadOnlyList<BucketInfo> ListBuckets() => Read((connection, transaction) =>
    {
        using var command = NewCommand(connection, transaction,
            "SELECT name, created_utc_ticks FROM buckets ORDER BY name;");
        using var reader = command.ExecuteReader();
        var buckets = new List<BucketInfo>();
        while (reader.Read())
        {
            buckets.Add(new BucketInfo(reader.GetString(0), FromUtcTicks(reader.GetInt64(1))));
        }

        return buckets;
    });

    /// <summary>Deletes a bucket that holds no object.</summary>
    public DeleteBucketResult DeleteBucket(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Write((connection, transaction) =>
        {
            if (!BucketExistsIn(connection, transaction, name))
            {
                return DeleteBucketResult.NotFound;
            }

            using (var any = NewCommand(connection, transaction, "SELECT 1 FROM objects WHERE bucket = @bucket LIMIT 1;"))
            {
                any.Parameters.AddWithValue("@bucket", name);
                if (any.ExecuteScalar() is not null)
                {
                    return DeleteBucketResult.NotEmpty;
                }
            }

            // Uploads in progress would otherwise outlive their bucket with no way to reach them.
            AbortUploadsOf(connection, transaction, name);
            using var delete = NewCommand(connection, transaction, "DELETE FROM buckets WHERE name = @bucket;");
            delete.Parameters.AddWithValue("@bucket", name);
            delete.ExecuteNonQuery();
            transaction.Commit();
            return DeleteBucketResult.Deleted;
        });
    }

    /// <summary>The committed manifest of an object, or null.</summary>
    public ObjectManifest? GetObject(string bucket, string key)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        var keyBytes = KeyBytes.Encode(key ?? throw new ArgumentNullException(nameof(key)), nameof(key));
        return Read((connection, transaction) => SelectManifest(connection, transaction, bucket, key, keyBytes));
    }

    /// <summary>
    /// Commits <paramref name="manifest"/>, replacing any previous one. In the same transaction the previous
    /// manifest's extents (those whose data id the new manifest does not reuse) go on the garbage list.
    /// </summary>
    /// <returns>False, having changed nothing, when the bucket does not exist.</returns>
    public bool PutObject(ObjectManifest manifest)
    {
        var keyBytes = Validate(manifest);
        return Write((connection, transaction) =>
        {
            if (!PutObject(connection, transaction, manifest, keyBytes))
            {
                return false;
            }

            transaction.Commit();
            return true;
        });
    }

    /// <summary>
    /// Removes an object's manifest; its extents go on the garbage list in the same transaction.
    /// </summary>
    /// <returns>The removed manifest, or null when there was none.</returns>
    public ObjectManifest? DeleteObject(string bucket, string key)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        var keyBytes = KeyBytes.Encode(key ?? throw new ArgumentNullException(nameof(key)), nameof(key));
        return Write((connection, transaction) =>
        {
            var manifest = SelectManifest(connection, transaction, bucket, key, keyBytes);
            if (manifest is null)
            {
                return null;
            }

            using var command = NewCommand(connection, transaction, """
                INSERT INTO garbage (bucket, key, data_id, size, placement)
                    SELECT bucket, key, data_id, size, placement FROM extents
                    WHERE bucket = @bucket AND key = @key ORDER BY ordinal;
                DELETE FROM extents WHERE bucket = @bucket AND key = @key;
                DELETE FROM objects WHERE bucket = @bucket AND key = @key;
                """);
            command.Parameters.AddWithValue("@bucket", bucket);
            command.Parameters.Add("@key", SqliteType.Blob).Value = keyBytes;
            command.ExecuteNonQuery();
            transaction.Commit();
            return manifest;
        });
    }

    /// <summary>
    /// One page of an S3 listing (ListObjects V1 and V2 semantics). A bucket that does not exist lists as empty:
    /// the caller checks <see cref="BucketExists"/> to answer NoSuchBucket.
    /// </summary>
    public ListObjectsResult ListObjects(ListObjectsRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Bucket, nameof(request));
        ArgumentOutOfRangeException.ThrowIfNegative(request.MaxKeys, nameof(request));
        if (request.MaxKeys == 0)
        {
            return new ListObjectsResult([], [], IsTruncated: false, NextMarker: null);
        }

        var prefix = KeyBytes.Encode(request.Prefix ?? string.Empty, nameof(request));
        var delimiter = string.IsNullOrEmpty(request.Delimiter) ? null : KeyBytes.Encode(request.Delimiter, nameof(request));
        var startAfter = string.IsNullOrEmpty(request.StartAfter) ? null : KeyBytes.Encode(request.StartAfter, nameof(request));
        return Read((connection, transaction) => List(connection, transaction, request, prefix, delimiter, startAfter));
    }

    /// <summary>Up to <paramref name="max"/> garbage entries with ids above <paramref name="afterId"/>, oldest first.</summary>
    public IReadOnlyList<GarbageEntry> PendingGarbage(int max, long afterId = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        return Read((connection, transaction) =>
        {
            using var command = NewCommand(connection, transaction,
                "SELECT id, bucket, key, data_id, size, placement FROM garbage WHERE id > @after ORDER BY id LIMIT @max;");
            command.Parameters.AddWithValue("@max", max);
            command.Parameters.AddWithValue("@after", afterId);
            using var reader = command.ExecuteReader();
            var entries = new List<GarbageEntry>();
            while (reader.Read())
            {
                var extent = new Extent(
                    ReadDataId(reader, 3),
                    reader.GetInt64(4),
                    JsonSerializer.Deserialize(reader.GetString(5), MetadataJsonContext.Default.Int32Array)!);
                entries.Add(new GarbageEntry(
                    reader.GetInt64(0),
                    reader.GetString(1),
                    KeyBytes.Decode(reader.GetFieldValue<byte[]>(2)),
                    extent));
            }

            return entries;
        });
    }

    /// <summary>Forgets a garbage entry whose shards are deleted. Releasing an unknown id does nothing.</summary>
    public void ReleaseGarbage(long garbageId) => Write((connection, transaction) =>
    {
        using var command = NewCommand(connection, transaction, "DELETE FROM garbage WHERE id = @id;");
        command.Parameters.AddWithValue("@id", garbageId);
        command.ExecuteNonQuery();
        transaction.Commit();
        return true;
    });

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // Closes the pooled connections (and their file handles); connections still in use close when returned.
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    // Internal for testing: loads many manifests in one transaction (one fsync) to build large listings quickly.
    internal int PutObjects(IEnumerable<ObjectManifest> manifests)
    {
        var prepared = manifests.Select(m => (Manifest: m, Key: Validate(m))).ToList();
        return Write((connection, transaction) =>
        {
            var stored = prepared.Count(p => PutObject(connection, transaction, p.Manifest, p.Key));
            transaction.Commit();
            return stored;
        });
    }

    // Internal for testing: the journal mode and synchronous level (2 = FULL) the operations' connections run with.
    internal (string JournalMode, long Synchronous) DurabilitySettings()
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        var journalMode = (string)command.ExecuteScalar()!;
        command.CommandText = "PRAGMA synchronous;";
        return (journalMode, (long)command.ExecuteScalar()!);
    }

    private void Initialize()
    {
        using var connection = OpenConnection();
        using (var wal = connection.CreateCommand())
        {
            // Persistent in the database file; answers the mode actually in force.
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            var mode = wal.ExecuteScalar() as string;
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"The metadata database could not switch to WAL mode (it is in '{mode}').");
            }
        }

        using var transaction = connection.BeginTransaction(deferred: false);
        using (var version = NewCommand(connection, transaction, "PRAGMA user_version;"))
        {
            var found = Convert.ToInt64(version.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            if (found > SchemaVersion)
            {
                throw new InvalidOperationException(
                    $"The metadata database has schema version {found}; this build knows versions up to {SchemaVersion}.");
            }
        }

        foreach (string script in s_schema)
        {
            using var create = NewCommand(connection, transaction, script);
            create.ExecuteNonQuery();
        }

        using (var version = NewCommand(connection, transaction, $"PRAGMA user_version = {SchemaVersion};"))
        {
            version.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private SqliteConnection OpenConnection()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();

            // Per connection, not persistent: every commit fsyncs the WAL, so nothing acknowledged is lost.
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA synchronous = FULL;";
            command.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private T Read<T>(Func<SqliteConnection, SqliteTransaction, T> body)
    {
        using var connection = OpenConnection();

        // Deferred: a snapshot taken at the first read, which never blocks writers in WAL mode.
        using var transaction = connection.BeginTransaction(deferred: true);
        return body(connection, transaction);
    }

    // The body commits; a body that returns without committing rolls back (dispose).
    private T Write<T>(Func<SqliteConnection, SqliteTransaction, T> body)
    {
        lock (_writeLock)
        {
            using var connection = OpenConnection();
            using var transaction = connection.BeginTransaction(deferred: false);
            return body(connection, transaction);
        }
    }

    private static SqliteCommand NewCommand(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    private static bool BucketExistsIn(SqliteConnection connection, SqliteTransaction transaction, string bucket)
    {
        using var command = NewCommand(connection, transaction, BucketExistsSql);
        command.Parameters.AddWithValue("@bucket", bucket);
        return command.ExecuteScalar() is not null;
    }

    private static bool PutObject(SqliteConnection connection, SqliteTransaction transaction, ObjectManifest manifest, byte[] keyBytes)
    {
        if (!BucketExistsIn(connection, transaction, manifest.Bucket))
        {
            return false;
        }

        // The previous extents go on the garbage list, except any the new manifest reuses (a metadata-only
        // replace keeps its data id): deleting those shards would destroy the new object.
        var kept = manifest.Extents.Select(e => e.DataId).ToHashSet();
        var previous = new List<(byte[] DataId, long Size, string Placement)>();
        using (var select = NewCommand(connection, transaction, SelectExtentsSql))
        {
            select.Parameters.AddWithValue("@bucket", manifest.Bucket);
            select.Parameters.Add("@key", SqliteType.Blob).Value = keyBytes;
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                var dataId = reader.GetFieldValue<byte[]>(0);
                if (!kept.Contains(new Guid(dataId, bigEndian: true)))
                {
                    previous.Add((dataId, reader.GetInt64(1), reader.GetString(2)));
                }
            }
        }

        if (previous.Count > 0)
        {
            using var garbage = NewCommand(connection, transaction,
                "INSERT INTO garbage (bucket, key, data_id, size, placement) VALUES (@bucket, @key, @dataId, @size, @placement);");
            garbage.Parameters.AddWithValue("@bucket", manifest.Bucket);
            garbage.Parameters.Add("@key", SqliteType.Blob).Value = keyBytes;
            var dataIdParameter = garbage.Parameters.Add("@dataId", SqliteType.Blob);
            var sizeParameter = garbage.Parameters.Add("@size", SqliteType.Integer);
            var placementParameter = garbage.Parameters.Add("@placement", SqliteType.Text);
            foreach (var (dataId, size, placement) in previous)
            {
                dataIdParameter.Value = dataId;
                sizeParameter.Value = size;
                placementParameter.Value = placement;
                garbage.ExecuteNonQuery();
            }
        }

        using (var delete = NewCommand(connection, transaction, "DELETE FROM extents WHERE bucket = @bucket AND key = @key;"))
        {
            delete.Parameters.AddWithValue("@bucket", manifest.Bucket);
            delete.Parameters.Add("@key", SqliteType.Blob).Value = keyBytes;
            delete.ExecuteNonQuery();
        }

        using (var upsert = NewCommand(connection, transaction, "INSERT OR REPLACE INTO objects (bucket, " + ObjectColumns + ") " +
            "VALUES (@bucket, @key, @size, @etag, @lastModified, @contentType, @contentEncoding, @cacheControl, " +
            "@contentDisposition, @userMetadata, @checksums, @dataShards, @parityShards, @blockSize);"))
        {
            var p = upsert.Parameters;
            p.AddWithValue("@bucket", manifest.Bucket);
            p.Add("@key", SqliteType.Blob).Value = keyBytes;
            p.AddWithValue("@size", manifest.Size);
            p.AddWithValue("@etag", manifest.ETag);
            p.AddWithValue("@lastModified", manifest.LastModified.UtcTicks);
            p.AddWithValue("@contentType", (object?)manifest.ContentType ?? DBNull.Value);
            p.AddWithValue("@contentEncoding", (object?)manifest.ContentEncoding ?? DBNull.Value);
            p.AddWithValue("@cacheControl", (object?)manifest.CacheControl ?? DBNull.Value);
            p.AddWithValue("@contentDisposition", (object?)manifest.ContentDisposition ?? DBNull.Value);
            p.AddWithValue("@userMetadata", (object?)SerializeMap(manifest.UserMetadata) ?? DBNull.Value);
            p.AddWithValue("@checksums", (object?)SerializeMap(manifest.Checksums) ?? DBNull.Value);
            p.AddWithValue("@dataShards", manifest.DataShards);
            p.AddWithValue("@parityShards", manifest.ParityShards);
            p.AddWithValue("@blockSize", manifest.BlockSize);
            upsert.ExecuteNonQuery();
        }

        using (var insert = NewCommand(connection, transaction,
            "INSERT INTO extents (bucket, key, ordinal, data_id, size, placement, part_number) " +
            "VALUES (@bucket, @key, @ordinal, @dataId, @size, @placement, @partNumber);"))
        {
            insert.Parameters.AddWithValue("@bucket", manifest.Bucket);
            insert.Parameters.Add("@key", SqliteType.Blob).Value = keyBytes;
            var ordinalParameter = insert.Parameters.Add("@ordinal", SqliteType.Integer);
            var dataIdParameter = insert.Parameters.Add("@dataId", SqliteType.Blob);
            var sizeParameter = insert.Parameters.Add("@size", SqliteType.Integer);
            var placementParameter = insert.Parameters.Add("@placement", SqliteType.Text);
            var partNumberParameter = insert.Parameters.Add("@partNumber", SqliteType.Integer);
            for (var i = 0; i < manifest.Extents.Count; i++)
            {
                var extent = manifest.Extents[i];
                ordinalParameter.Value = i;
                partNumberParameter.Value = extent.PartNumber;
                dataIdParameter.Value = extent.DataId.ToByteArray(bigEndian: true);
                sizeParameter.Value = extent.Size;
                placementParameter.Value = JsonSerializer.Serialize(extent.Placement.ToArray(), MetadataJsonContext.Default.Int32Array);
                insert.ExecuteNonQuery();
            }
        }

        return true;
    }

    private static ObjectManifest? SelectManifest(
        SqliteConnection connection, SqliteTransaction transaction, string bucket, string key, byte[] keyBytes)
    {
        using var command = NewCommand(connection, transaction, SelectObjectSql);
        command.Parameters.AddWithValue("@bucket", bucket);
        command.Parameters.Add("@key", SqliteType.Blob).Value = keyBytes;
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        using var extents = NewExtentsCommand(connection, transaction, bucket);
        return ReadManifest(reader, bucket, key, ReadExtents(extents, keyBytes));
    }

    private static ListObjectsResult List(
        SqliteConnection connection,
        SqliteTransaction transaction,
        ListObjectsRequest request,
        byte[] prefix,
        byte[]? delimiter,
        byte[]? startAfter)
    {
        var objects = new List<ObjectManifest>();
        var commonPrefixes = new List<string>();
        string? last = null;

        // Keys starting with the prefix are exactly [prefix, successor(prefix)). StartAfter is exclusive, so when
        // it sorts inside or above that range the scan starts at its immediate successor (StartAfter ‖ 0x00).
        var low = prefix;
        var high = KeyBytes.PrefixSuccessor(prefix);
        if (startAfter is not null && KeyBytes.Compare(startAfter, prefix) >= 0)
        {
            low = KeyBytes.ImmediateSuccessor(startAfter);
        }

        using var extents = NewExtentsCommand(connection, transaction, request.Bucket);
        using var range = NewCommand(connection, transaction, ListRangeSql);
        range.Parameters.AddWithValue("@bucket", request.Bucket);
        var lowParameter = range.Parameters.Add("@low", SqliteType.Blob);
        range.Parameters.Add("@high", SqliteType.Blob).Value = high;

        while (KeyBytes.Compare(low, high) < 0)
        {
            lowParameter.Value = low;
            byte[]? seekTo = null;
            using (var reader = range.ExecuteReader())
            {
                while (reader.Read())
                {
                    var key = reader.GetFieldValue<byte[]>(0);
                    var afterPrefix = delimiter is null ? -1 : key.AsSpan(prefix.Length).IndexOf(delimiter);
                    if (afterPrefix >= 0)
                    {
                        // Every key under this common prefix is represented by it: emit it once (unless StartAfter
                        // already covers it) and seek past all of them instead of reading them.
                        var commonPrefix = key.AsSpan(0, prefix.Length + afterPrefix + delimiter!.Length);
                        seekTo = KeyBytes.PrefixSuccessor(commonPrefix);
                        if (startAfter is null || KeyBytes.Compare(commonPrefix, startAfter) > 0)
                        {
                            if (objects.Count + commonPrefixes.Count == request.MaxKeys)
                            {
                                return Page(isTruncated: true);
                            }

                            last = KeyBytes.Decode(commonPrefix);
                            commonPrefixes.Add(last);
                        }

                        break;
                    }

                    if (objects.Count + commonPrefixes.Count == request.MaxKeys)
                    {
                        return Page(isTruncated: true);
                    }

                    last = KeyBytes.Decode(key);
                    objects.Add(ReadManifest(reader, request.Bucket, last, ReadExtents(extents, key)));
                }
            }

            if (seekTo is null)
            {
                break;
            }

            low = seekTo;
        }

        return Page(isTruncated: false);

        ListObjectsResult Page(bool isTruncated) =>
            new(objects, commonPrefixes, isTruncated, isTruncated ? last : null);
    }

    private static SqliteCommand NewExtentsCommand(SqliteConnection connection, SqliteTransaction transaction, string bucket)
    {
        var command = NewCommand(connection, transaction, SelectExtentsSql);
        command.Parameters.AddWithValue("@bucket", bucket);
        command.Parameters.Add("@key", SqliteType.Blob);
        return command;
    }

    private static List<Extent> ReadExtents(SqliteCommand extentsCommand, byte[] keyBytes)
    {
        extentsCommand.Parameters["@key"].Value = keyBytes;
        using var reader = extentsCommand.ExecuteReader();
        var extents = new List<Extent>();
        while (reader.Read())
        {
            extents.Add(new Extent(
                ReadDataId(reader, 0),
                reader.GetInt64(1),
                JsonSerializer.Deserialize(reader.GetString(2), MetadataJsonContext.Default.Int32Array)!)
            {
                PartNumber = reader.GetInt32(3),
            });
        }

        return extents;
    }

    // Reads a row selected with ObjectColumns.
    private static ObjectManifest ReadManifest(SqliteDataReader reader, string bucket, string key, IReadOnlyList<Extent> extents) => new()
    {
        Bucket = bucket,
        Key = key,
        Size = reader.GetInt64(1),
        ETag = reader.GetString(2),
        LastModified = FromUtcTicks(reader.GetInt64(3)),
        ContentType = reader.IsDBNull(4) ? null : reader.GetString(4),
        ContentEncoding = reader.IsDBNull(5) ? null : reader.GetString(5),
        CacheControl = reader.IsDBNull(6) ? null : reader.GetString(6),
        ContentDisposition = reader.IsDBNull(7) ? null : reader.GetString(7),
        UserMetadata = DeserializeMap(reader, 8),
        Checksums = DeserializeMap(reader, 9),
        DataShards = reader.GetInt32(10),
        ParityShards = reader.GetInt32(11),
        BlockSize = reader.GetInt32(12),
        Extents = extents,
    };

    private static Guid ReadDataId(SqliteDataReader reader, int ordinal) =>
        new(reader.GetFieldValue<byte[]>(ordinal), bigEndian: true);

    private static DateTimeOffset FromUtcTicks(long ticks) => new(ticks, TimeSpan.Zero);

    private static string? SerializeMap(IReadOnlyDictionary<string, string>? map) =>
        map is null || map.Count == 0 ? null : JsonSerializer.Serialize(map, MetadataJsonContext.Default.IReadOnlyDictionaryStringString);

    private static IReadOnlyDictionary<string, string> DeserializeMap(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal)
            ? System.Collections.ObjectModel.ReadOnlyDictionary<string, string>.Empty
            : JsonSerializer.Deserialize(reader.GetString(ordinal), MetadataJsonContext.Default.DictionaryStringString)!;

    // Checks what the store relies on and returns the key's UTF-8 bytes.
    private static byte[] Validate(ObjectManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (string.IsNullOrEmpty(manifest.Bucket) || string.IsNullOrEmpty(manifest.Key) || manifest.ETag is null)
        {
            throw new ArgumentException("A manifest needs a bucket, a key and an ETag.", nameof(manifest));
        }

        if (manifest.Size < 0 || manifest.DataShards < 1 || manifest.ParityShards < 0 || manifest.BlockSize < 1)
        {
            throw new ArgumentException("A manifest needs Size >= 0, DataShards >= 1, ParityShards >= 0, BlockSize >= 1.", nameof(manifest));
        }

        ArgumentNullException.ThrowIfNull(manifest.Extents, nameof(manifest));
        var shardCount = manifest.DataShards + manifest.ParityShards;
        var dataIds = new HashSet<Guid>();
        long total = 0;
        foreach (var extent in manifest.Extents)
        {
            if (extent?.Placement is null || extent.Placement.Count != shardCount || extent.Size < 0)
            {
                throw new ArgumentException($"Every extent needs Size >= 0 and a placement of K+M = {shardCount} node ids.", nameof(manifest));
            }

            if (!dataIds.Add(extent.DataId))
            {
                throw new ArgumentException($"Data id {extent.DataId} appears twice in one manifest.", nameof(manifest));
            }

            total += extent.Size;
        }

        if (total != manifest.Size)
        {
            throw new ArgumentException($"The extents hold {total} bytes; the manifest says {manifest.Size}.", nameof(manifest));
        }

        return KeyBytes.Encode(manifest.Key, nameof(manifest));
    }
}
