namespace Predastore.Metadata;

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
}
