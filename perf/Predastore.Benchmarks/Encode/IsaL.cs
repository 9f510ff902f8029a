using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Predastore.Benchmarks.Encode;

/// <summary>
/// Intel ISA-L's erasure-code entry points from Debian's <c>libisal2</c>, the native anchor the codec is compared with.
/// </summary>
/// <remarks>
/// <c>ec_encode_data</c> dispatches once to the best kernel the CPU has (AVX-512 in Debian's 2.30, which has no GFNI).
/// ISA-L is given our encoding matrix (<c>GfMatrix.SystematicCauchy</c>), so both libraries write the same parity and
/// the setup checks that they do. ISA-L's kernels cost the same for every coefficient; ours skip the multiplies by 1
/// that the matrix holds, which is part of what is measured.
/// </remarks>
internal static unsafe partial class IsaL
{
    public const string Library = "libisal.so.2";

    private static readonly Lazy<string?> s_missing = new(Load);

    /// <summary>Null when the library is loaded, else why not (after trying to install it).</summary>
    public static string? Missing => s_missing.Value;

    public static void EnsureLoaded()
    {
        if (Missing is not null)
        {
            throw new InvalidOperationException(Missing);
        }
    }

    /// <summary>Expands rows×k coefficients into the 32-byte-per-coefficient tables the kernels read.</summary>
    [LibraryImport(Library, EntryPoint = "ec_init_tables")]
    public static partial void InitTables(int k, int rows, byte* coefficients, byte* tables);

    /// <summary>coding[r] = Σ_j coefficient[r, j] · data[j], every output computed in one pass.</summary>
    [LibraryImport(Library, EntryPoint = "ec_encode_data")]
    public static partial void EncodeData(int length, int k, int rows, byte* tables, byte** data, byte** coding);

    /// <summary>The AVX2 kernel of <see cref="EncodeData"/>, called directly: the path a CPU without AVX-512 takes.</summary>
    [LibraryImport(Library, EntryPoint = "ec_encode_data_avx2")]
    public static partial void EncodeDataAvx2(int length, int k, int rows, byte* tables, byte** data, byte** coding);

    /// <summary>Inverts an n×n matrix; returns non-zero when it is singular.</summary>
    [LibraryImport(Library, EntryPoint = "gf_invert_matrix")]
    public static partial int InvertMatrix(byte* input, byte* output, int n);

    private static string? Load()
    {
        if (NativeLibrary.TryLoad(Library, out _))
        {
            return null;
        }

        // The benchmark installs the library itself when it can (root on Debian), so one command runs the comparison.
        if (Environment.UserName == "root" && File.Exists("/usr/bin/apt-get"))
        {
            Console.Error.WriteLine("// libisal2 is missing: installing it with apt-get.");
            using Process? install = Process.Start(new ProcessStartInfo("apt-get", "install -y -q libisal2")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            install?.StandardOutput.ReadToEnd();
            install?.WaitForExit();
            if (NativeLibrary.TryLoad(Library, out _))
            {
                return null;
            }
        }

        return $"ISA-L ({Library}) is missing and could not be installed: run `apt-get install -y libisal2` as root.";
    }
}
