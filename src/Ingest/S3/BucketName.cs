using System.Net;

namespace Predastore.Ingest.S3;

/// <summary>S3's general-purpose bucket naming rules.</summary>
internal static class BucketName
{
    public static void Validate(string name)
    {
        string? why = Check(name);
        if (why is not null)
        {
            throw S3Errors.InvalidBucketName(name, why);
        }
    }

    internal static string? Check(string name)
    {
        if (name.Length is < 3 or > 63)
        {
            return "must be 3 to 63 characters long";
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.'))
            {
                return "only lowercase letters, digits, dots and hyphens are allowed";
            }
        }

        if (!char.IsAsciiLetterOrDigit(name[0]) || !char.IsAsciiLetterOrDigit(name[^1]))
        {
            return "must begin and end with a letter or digit";
        }

        if (name.Contains("..", StringComparison.Ordinal) || name.Contains(".-", StringComparison.Ordinal) || name.Contains("-.", StringComparison.Ordinal))
        {
            return "dots may not be adjacent to dots or hyphens";
        }

        if (IPAddress.TryParse(name, out IPAddress? address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && name.Count(c => c == '.') == 3)
        {
            return "must not be formatted as an IP address";
        }

        if (name.StartsWith("xn--", StringComparison.Ordinal) || name.EndsWith("-s3alias", StringComparison.Ordinal))
        {
            return "uses a reserved prefix or suffix";
        }

        return null;
    }
}
