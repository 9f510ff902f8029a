using Microsoft.Data.Sqlite;

namespace Predastore.Metadata;

/// <summary>
/// An extent written while a node it was placed on was down: its shards went to the next healthy nodes on the ring
/// (<see cref="Placed"/>, what the manifest records) instead of <see cref="Intended"/>. The repair worker moves them
/// back once the node is up, then removes the entry; an entry whose data id no manifest references (the upload
/// failed after queueing) is simply dropped.
/// </summary>
public sealed record ReplacementEntry(long Id, byte[] ObjectHash, Guid DataId, int[] Intended, int[] Placed, DateTimeOffset Queued);

/// <summary>The durable re-placement queue: written in its own transaction once the extent's shards are durable.</summary>
public sealed partial class MetadataStore
{
    private const string ReplacementSchemaSql = """
        CREATE TABLE IF NOT EXISTS replacements (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            object_hash BLOB NOT NULL,
            data_id BLOB NOT NULL,
            intended TEXT NOT NULL,
            placed TEXT NOT NULL,
            queued_utc_ticks INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS replacements_by_data ON replacements (data_id);
        """;

    public long EnqueueReplacement(byte[] objectHash, Guid dataId, IReadOnlyList<int> intended, IReadOnlyList<int> placed, DateTimeOffset queued)
    {
        ArgumentNullException.ThrowIfNull(objectHash);
        ArgumentNullException.ThrowIfNull(intended);
        ArgumentNullException.ThrowIfNull(placed);
        return Write((connection, transaction) =>
        {
            using SqliteCommand insert = NewCommand(connection, transaction,
                "INSERT INTO replacements (object_hash, data_id, intended, placed, queued_utc_ticks) " +
                "VALUES (@hash, @dataId, @intended, @placed, @queued) RETURNING id;");
            insert.Parameters.Add("@hash", SqliteType.Blob).Value = objectHash;
            insert.Parameters.Add("@dataId", SqliteType.Blob).Value = dataId.ToByteArray(bigEndian: true);
            insert.Parameters.AddWithValue("@intended", string.Join(',', intended));
            insert.Parameters.AddWithValue("@placed", string.Join(',', placed));
            insert.Parameters.AddWithValue("@queued", queued.UtcTicks);
            long id = (long)insert.ExecuteScalar()!;
            transaction.Commit();
            return id;
        });
    }

    /// <summary>The oldest entries first.</summary>
    public IReadOnlyList<ReplacementEntry> ListReplacements(int limit = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return Read((connection, transaction) =>
        {
            using SqliteCommand select = NewCommand(connection, transaction,
                "SELECT id, object_hash, data_id, intended, placed, queued_utc_ticks FROM replacements ORDER BY id LIMIT @limit;");
            select.Parameters.AddWithValue("@limit", limit);
            using SqliteDataReader reader = select.ExecuteReader();
            var entries = new List<ReplacementEntry>();
            while (reader.Read())
            {
                entries.Add(new ReplacementEntry(
                    reader.GetInt64(0),
                    (byte[])reader[1],
                    new Guid((byte[])reader[2], bigEndian: true),
                    ParseNodes(reader.GetString(3)),
                    ParseNodes(reader.GetString(4)),
                    new DateTimeOffset(reader.GetInt64(5), TimeSpan.Zero)));
            }

            return entries;
        });
    }

    public bool RemoveReplacement(long id) => Write((connection, transaction) =>
    {
        using SqliteCommand delete = NewCommand(connection, transaction, "DELETE FROM replacements WHERE id = @id;");
        delete.Parameters.AddWithValue("@id", id);
        bool removed = delete.ExecuteNonQuery() == 1;
        transaction.Commit();
        return removed;
    });

    private static int[] ParseNodes(string text) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(n => int.Parse(n, System.Globalization.CultureInfo.InvariantCulture))];
}
