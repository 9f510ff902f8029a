using System.Diagnostics.CodeAnalysis;

namespace Predastore.Encode;

// Throws live out of line so the hot methods that validate their arguments stay small enough to inline.
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowArgument(string paramName, string message) => throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    public static void ThrowArgumentOutOfRange(string paramName, string message) =>
        throw new ArgumentOutOfRangeException(paramName, message);

    [DoesNotReturn]
    public static void ThrowDivideByZero() => throw new DivideByZeroException("Zero has no inverse in GF(2^8).");

    [DoesNotReturn]
    public static void ThrowKernelNotSupported(GfKernel kernel) =>
        throw new PlatformNotSupportedException($"The {kernel} kernel is not supported on this CPU.");

    [DoesNotReturn]
    public static void ThrowInsufficientShards(int present, int required) =>
        throw new InsufficientShardsException(present, required);
}
