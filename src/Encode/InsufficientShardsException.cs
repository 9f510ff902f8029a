namespace Predastore.Encode;

/// <summary>Fewer than K shards of a stripe are present, so its data cannot be reconstructed.</summary>
public sealed class InsufficientShardsException : InvalidOperationException
{
    public InsufficientShardsException()
        : base("Too few shards are present to reconstruct the stripe.")
    {
    }

    public InsufficientShardsException(string message)
        : base(message)
    {
    }

    public InsufficientShardsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public InsufficientShardsException(int presentShards, int requiredShards)
        : base($"{presentShards} shards are present, but reconstruction needs {requiredShards}.")
    {
        PresentShards = presentShards;
        RequiredShards = requiredShards;
    }

    public int PresentShards { get; }

    public int RequiredShards { get; }
}
