#pragma warning disable CA1050 // The runtime finds a startup hook by this exact name, outside any namespace.
/// <summary>The runtime calls this before Main when DOTNET_STARTUP_HOOKS names this assembly (sink processes only).</summary>
internal static class StartupHook
#pragma warning restore CA1050
{
    public static void Initialize() => Predastore.Benchmarks.Transport.TransportSink.RunIfAsked();
}
