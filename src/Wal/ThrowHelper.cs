using System.Diagnostics.CodeAnalysis;

namespace Predastore.Wal;

/// <summary>Throws kept out of the hot methods so they stay small enough to inline.</summary>
internal static class ThrowHelper
{
    private const int WalFailedHResult = unchecked((int)0x80131620); // COR_E_IO, what IOException uses

    [DoesNotReturn]
    public static void ThrowShardNotFound(ShardKey key) => throw new ShardNotFoundException(key);

    [DoesNotReturn]
    public static void ThrowShardCorrupt(ShardKey key, string segmentFile, long recordOffset, RecordDefect defect) =>
        throw new ShardCorruptException(
            key, $"Shard {key}: the record at {recordOffset} in segment {segmentFile} is corrupt ({defect}).");

    [DoesNotReturn]
    public static void ThrowWalFailed(Exception cause) => throw CreateWalFailed(cause);

    [DoesNotReturn]
    public static void ThrowDisposed(object instance) => throw new ObjectDisposedException(instance.GetType().FullName);

    [DoesNotReturn]
    public static void ThrowOffsetPastEnd(long shardOffset, long length) =>
        throw new ArgumentOutOfRangeException(nameof(shardOffset), shardOffset, $"The shard is {length} bytes long.");

    public static WalException CreateAlreadyOpen(string directory, IOException inner) =>
        new($"The WAL in {directory} is already open (one exclusive writer per WAL).", inner);

    /// <summary>
    /// Every write after a failed write or sync fails with this (until the WAL is reopened): what follows a write
    /// whose bytes may be missing must never be acknowledged.
    /// </summary>
    public static WalException CreateWalFailed(Exception cause) =>
        new("The WAL failed to make a write durable and accepts no more writes until it is reopened.", cause)
        {
            // Keeps the errno of the I/O failure (on Unix .NET puts it in HResult), so callers can tell a full
            // disk from a broken one without unwrapping.
            HResult = cause is IOException ? cause.HResult : WalFailedHResult,
        };

    public static InvalidOperationException CreateCommitNotCovered(ShardKey key, long shardLength, long coveredPrefix) =>
        new($"Cannot commit shard {key} with {shardLength} bytes: the appended data covers only [0, {coveredPrefix}).");
}
