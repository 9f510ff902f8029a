using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace Predastore.Ingest.Auth;

/// <summary>One query parameter with name and value in SigV4 canonical (decoded once, AWS-encoded) form.</summary>
internal readonly record struct CanonicalQueryParameter(string Name, string Value);

/// <summary>
/// Builds the pieces of the SigV4 canonical request from the request exactly as received.
/// S3 does not normalise paths: each raw path segment is percent-decoded once and re-encoded with the
/// AWS rules (unreserved <c>A-Z a-z 0-9 - _ . ~</c> kept, everything else <c>%XX</c> uppercase), so an
/// encoded slash inside a key stays <c>%2F</c> and <c>//</c> or <c>..</c> stay as they are.
/// </summary>
internal static class SigV4Canonical
{
    private static ReadOnlySpan<char> HexUpper => "0123456789ABCDEF";

    /// <summary>Splits the undecoded request target into raw path and raw query (without '?').</summary>
    public static (string RawPath, string RawQuery) GetRawTarget(HttpRequest request)
    {
        string? raw = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw))
        {
            // No raw target (not Kestrel): the best we can do is the re-escaped decoded path.
            string path = (request.PathBase + request.Path).ToUriComponent();
            string query = request.QueryString.HasValue ? request.QueryString.Value![1..] : string.Empty;
            return (path.Length == 0 ? "/" : path, query);
        }

        ReadOnlySpan<char> target = raw;
        if (target.Length > 0 && target[0] != '/')
        {
            // Absolute-form ("http://host/path?q", sent to proxies): the path starts after the authority.
            int scheme = target.IndexOf("://", StringComparison.Ordinal);
            if (scheme >= 0)
            {
                ReadOnlySpan<char> afterScheme = target[(scheme + 3)..];
                int pathStart = afterScheme.IndexOfAny('/', '?');
                target = pathStart < 0 ? "/" : afterScheme[pathStart..];
            }
        }

        int q = target.IndexOf('?');
        ReadOnlySpan<char> rawPath = q < 0 ? target : target[..q];
        ReadOnlySpan<char> rawQuery = q < 0 ? default : target[(q + 1)..];
        return (rawPath.Length == 0 || rawPath[0] != '/' ? "/" + rawPath.ToString() : rawPath.ToString(), rawQuery.ToString());
    }

    /// <summary>The canonical URI of an S3 request: '/' kept, each segment decoded once and AWS-encoded.</summary>
    public static string CanonicalUri(string rawPath)
    {
        var sb = new StringBuilder(rawPath.Length + 16);
        AppendCanonical(sb, rawPath, keepSlash: true, plusIsSpace: false);
        return sb.Length == 0 ? "/" : sb.ToString();
    }

    /// <summary>Parses a raw query string into canonical parameters, in the order received.</summary>
    public static List<CanonicalQueryParameter> ParseQuery(string rawQuery)
    {
        var parameters = new List<CanonicalQueryParameter>();
        var sb = new StringBuilder();
        foreach (Range range in rawQuery.AsSpan().Split('&'))
        {
            ReadOnlySpan<char> part = rawQuery.AsSpan(range);
            if (part.IsEmpty)
            {
                continue;
            }

            int eq = part.IndexOf('=');
            ReadOnlySpan<char> name = eq < 0 ? part : part[..eq];
            ReadOnlySpan<char> value = eq < 0 ? default : part[(eq + 1)..];

            sb.Clear();
            AppendCanonical(sb, name, keepSlash: false, plusIsSpace: true);
            string canonicalName = sb.ToString();
            sb.Clear();
            AppendCanonical(sb, value, keepSlash: false, plusIsSpace: true);
            parameters.Add(new CanonicalQueryParameter(canonicalName, sb.ToString()));
        }

        return parameters;
    }

    /// <summary>Sorted by name then value (ordinal on the encoded forms); <paramref name="exclude"/> is left out.</summary>
    public static string CanonicalQueryString(List<CanonicalQueryParameter> parameters, string? exclude)
    {
        if (parameters.Count == 0)
        {
            return string.Empty;
        }

        CanonicalQueryParameter[] sorted = [.. parameters];
        Array.Sort(sorted, static (a, b) =>
        {
            int c = string.CompareOrdinal(a.Name, b.Name);
            return c != 0 ? c : string.CompareOrdinal(a.Value, b.Value);
        });

        var sb = new StringBuilder();
        foreach (CanonicalQueryParameter p in sorted)
        {
            if (exclude is not null && p.Name == exclude)
            {
                continue;
            }

            if (sb.Length > 0)
            {
                sb.Append('&');
            }

            sb.Append(p.Name).Append('=').Append(p.Value);
        }

        return sb.ToString();
    }

    /// <summary>
    /// Appends "name:value\n" for each signed header. Values are trimmed, inner whitespace runs collapse to one
    /// space, and repeated headers are joined with ','. Host is taken as received.
    /// </summary>
    public static void AppendCanonicalHeaders(StringBuilder sb, IHeaderDictionary headers, string[] signedHeaders)
    {
        foreach (string name in signedHeaders)
        {
            sb.Append(name).Append(':');
            StringValues values = headers[name];
            for (int i = 0; i < values.Count; i++)
            {
                if (i > 0)
                {
                    sb.Append(',');
                }

                AppendTrimAll(sb, values[i]);
            }

            sb.Append('\n');
        }
    }

    /// <summary>The full canonical request.</summary>
    public static string CanonicalRequest(
        string method,
        string canonicalUri,
        string canonicalQuery,
        IHeaderDictionary headers,
        string[] signedHeaders,
        string signedHeadersText,
        string payloadHash)
    {
        var sb = new StringBuilder(256);
        sb.Append(method).Append('\n')
          .Append(canonicalUri).Append('\n')
          .Append(canonicalQuery).Append('\n');
        AppendCanonicalHeaders(sb, headers, signedHeaders);
        sb.Append('\n')
          .Append(signedHeadersText).Append('\n')
          .Append(payloadHash);
        return sb.ToString();
    }

    public static string StringToSign(string amzDate, string scope, string canonicalRequest) =>
        SigV4Signing.Algorithm + "\n" + amzDate + "\n" + scope + "\n" + SigV4Signing.Sha256Hex(canonicalRequest);

    /// <summary>AWS-encodes an already decoded string (every byte except unreserved, '/' optionally kept).</summary>
    public static string Encode(string value, bool keepSlash)
    {
        var sb = new StringBuilder(value.Length + 16);
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c == '/' && keepSlash)
            {
                sb.Append('/');
            }
            else
            {
                i += AppendEncodedChar(sb, value.AsSpan(i), utf8) - 1;
            }
        }

        return sb.ToString();
    }

    /// <summary>
    /// Decodes <paramref name="raw"/> once (valid %XX escapes become bytes; '+' becomes a space in queries) and
    /// appends it AWS-encoded. A literal '/' stays '/' when <paramref name="keepSlash"/>; a decoded "%2F" does not.
    /// </summary>
    public static void AppendCanonical(StringBuilder sb, ReadOnlySpan<char> raw, bool keepSlash, bool plusIsSpace)
    {
        Span<byte> utf8 = stackalloc byte[4];
        int i = 0;
        while (i < raw.Length)
        {
            char c = raw[i];
            if (c == '%' && i + 2 < raw.Length && TryHex(raw[i + 1], raw[i + 2], out byte decoded))
            {
                AppendEncodedByte(sb, decoded);
                i += 3;
            }
            else if (c == '/' && keepSlash)
            {
                sb.Append('/');
                i++;
            }
            else if (c == '+' && plusIsSpace)
            {
                sb.Append("%20");
                i++;
            }
            else
            {
                i += AppendEncodedChar(sb, raw[i..], utf8);
            }
        }
    }

    private static int AppendEncodedChar(StringBuilder sb, ReadOnlySpan<char> text, Span<byte> utf8)
    {
        char c = text[0];
        if (c < 0x80)
        {
            AppendEncodedByte(sb, (byte)c);
            return 1;
        }

        // Kestrel hands non-ASCII targets over as decoded UTF-8; encode the code point's UTF-8 bytes.
        OperationStatus status = Rune.DecodeFromUtf16(text, out Rune rune, out int consumed);
        if (status != OperationStatus.Done)
        {
            rune = Rune.ReplacementChar;
            consumed = Math.Max(consumed, 1);
        }

        int n = rune.EncodeToUtf8(utf8);
        for (int j = 0; j < n; j++)
        {
            AppendEncodedByte(sb, utf8[j]);
        }

        return consumed;
    }

    private static void AppendEncodedByte(StringBuilder sb, byte b)
    {
        if (IsUnreserved(b))
        {
            sb.Append((char)b);
        }
        else
        {
            sb.Append('%').Append(HexUpper[b >> 4]).Append(HexUpper[b & 0xF]);
        }
    }

    private static bool IsUnreserved(byte b) =>
        (uint)((b | 0x20) - 'a') <= 'z' - 'a' || (uint)(b - '0') <= 9 || b is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~';

    private static bool TryHex(char high, char low, out byte value)
    {
        int h = HexValue(high);
        int l = HexValue(low);
        value = (byte)((h << 4) | l);
        return (h | l) >= 0;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>Trims and collapses every run of whitespace to one space (SigV4 "trimall").</summary>
    private static void AppendTrimAll(StringBuilder sb, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        ReadOnlySpan<char> v = value.AsSpan().Trim();
        bool inSpace = false;
        foreach (char c in v)
        {
            if (char.IsWhiteSpace(c))
            {
                inSpace = true;
                continue;
            }

            if (inSpace)
            {
                sb.Append(' ');
                inSpace = false;
            }

            sb.Append(c);
        }
    }
}
