// Test support: each test gets its own database in a fresh temporary directory, deleted afterwards.
using Predastore.Metadata;

namespace Predastore.Metadata.Tests;

internal sealed class TestStore : IDisposable
{
    private readonly string _directory;

    public TestStore()
    {
        _directory = Path.Combine(Path.GetTempPath(), "predastore-metadata-" + Guid.NewGuid().ToString("N"));
        DatabasePath = Path.Combine(_directory, "metadata.db");
        Store = MetadataStore.Open(DatabasePath);
    }

    public string DatabasePath { get; }

    public MetadataStore Store { get; private set; }

    /// <summary>Closes the store (every pooled connection) and opens the same file again.</summary>
    public MetadataStore Reopen()
    {
        Store.Dispose();
        Store = MetadataStore.Open(DatabasePath);
        return Store;
    }

    public void Dispose()
    {
        Store.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory is not a test failure.
        }
    }
}

internal static class Manifests
{
    public static readonly DateTimeOffset Time = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);

    /// <summary>A valid single-extent RS(2,1) manifest.</summary>
    public static ObjectManifest Create(string bucket, string key, long size = 100, Guid? dataId = null) => new()
    {
        Bucket = bucket,
        Key = key,
        Size = size,
        ETag = "d41d8cd98f00b204e9800998ecf8427e",
        LastModified = Time,
        DataShards = 2,
        ParityShards = 1,
        BlockSize = 1 << 20,
        Extents = [new Extent(dataId ?? Guid.NewGuid(), size, [0, 1, 2])],
    };
}
