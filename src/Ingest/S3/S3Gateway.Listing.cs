using System.Globalization;
using System.Text;
using System.Xml;
using Microsoft.AspNetCore.Http;
using Predastore.Metadata;

namespace Predastore.Ingest.S3;

internal sealed partial class S3Gateway
{
    private const int MaxListKeys = 1000;

    private Task ListObjectsV2Async(Exchange exchange, S3Request request)
    {
        string bucket = request.Bucket!;
        IQueryCollection query = exchange.Request.Query;
        string? prefix = query["prefix"];
        string? delimiter = query["delimiter"];
        string? startAfter = query["start-after"];
        string? token = query["continuation-token"];
        bool urlEncoded = EncodingType(query);
        bool fetchOwner = query["fetch-owner"] == "true";
        int maxKeys = MaxKeys(query);

        // The continuation token is the marker a previous page ended on; it overrides start-after.
        string? marker = token is null ? startAfter : DecodeContinuationToken(token);
        RequireBucket(bucket);
        ListObjectsResult page = _metadata.ListObjects(new ListObjectsRequest(bucket, prefix, delimiter, marker, maxKeys));

        return S3Xml.WriteAsync(exchange.Response, "ListBucketResult", writer =>
        {
            S3Xml.Element(writer, "Name", bucket);
            S3Xml.Element(writer, "Prefix", Encode(prefix ?? string.Empty, urlEncoded));
            if (!string.IsNullOrEmpty(delimiter))
            {
                S3Xml.Element(writer, "Delimiter", Encode(delimiter, urlEncoded));
            }

            S3Xml.Element(writer, "MaxKeys", maxKeys);
            S3Xml.Element(writer, "KeyCount", page.Objects.Count + page.CommonPrefixes.Count);
            S3Xml.Element(writer, "IsTruncated", page.IsTruncated);
            if (urlEncoded)
            {
                S3Xml.Element(writer, "EncodingType", "url");
            }

            if (token is not null)
            {
                S3Xml.Element(writer, "ContinuationToken", token);
            }

            if (page.IsTruncated && page.NextMarker is not null)
            {
                S3Xml.Element(writer, "NextContinuationToken", EncodeContinuationToken(page.NextMarker));
            }

            if (startAfter is not null)
            {
                S3Xml.Element(writer, "StartAfter", Encode(startAfter, urlEncoded));
            }

            WriteEntries(writer, page, urlEncoded, fetchOwner ? exchange.Auth.AccessKey : null);
        });
    }

    private Task ListObjectsV1Async(Exchange exchange, S3Request request)
    {
        string bucket = request.Bucket!;
        IQueryCollection query = exchange.Request.Query;
        string? prefix = query["prefix"];
        string? delimiter = query["delimiter"];
        string? marker = query["marker"];
        bool urlEncoded = EncodingType(query);
        int maxKeys = MaxKeys(query);
        RequireBucket(bucket);
        ListObjectsResult page = _metadata.ListObjects(new ListObjectsRequest(bucket, prefix, delimiter, marker, maxKeys));

        return S3Xml.WriteAsync(exchange.Response, "ListBucketResult", writer =>
        {
            S3Xml.Element(writer, "Name", bucket);
            S3Xml.Element(writer, "Prefix", Encode(prefix ?? string.Empty, urlEncoded));
            S3Xml.Element(writer, "Marker", Encode(marker ?? string.Empty, urlEncoded));
            if (!string.IsNullOrEmpty(delimiter))
            {
                S3Xml.Element(writer, "Delimiter", Encode(delimiter, urlEncoded));
            }

            S3Xml.Element(writer, "MaxKeys", maxKeys);
            S3Xml.Element(writer, "IsTruncated", page.IsTruncated);
            if (urlEncoded)
            {
                S3Xml.Element(writer, "EncodingType", "url");
            }

            // S3 sends NextMarker only with a delimiter; without one, clients continue from the last key.
            if (page.IsTruncated && !string.IsNullOrEmpty(delimiter) && page.NextMarker is not null)
            {
                S3Xml.Element(writer, "NextMarker", Encode(page.NextMarker, urlEncoded));
            }

            WriteEntries(writer, page, urlEncoded, exchange.Auth.AccessKey);
        });
    }

    private static void WriteEntries(XmlWriter writer, ListObjectsResult page, bool urlEncoded, string? owner)
    {
        foreach (ObjectManifest entry in page.Objects)
        {
            writer.WriteStartElement("Contents", S3Xml.Namespace);
            S3Xml.Element(writer, "Key", Encode(entry.Key, urlEncoded));
            S3Xml.Element(writer, "LastModified", S3Xml.Timestamp(entry.LastModified));
            S3Xml.Element(writer, "ETag", Quote(entry.ETag));
            S3Xml.Element(writer, "Size", entry.Size);
            S3Xml.Element(writer, "StorageClass", "STANDARD");
            foreach (string algorithm in entry.Checksums.Keys)
            {
                S3Xml.Element(writer, "ChecksumAlgorithm", algorithm);
            }

            if (owner is not null)
            {
                WriteOwner(writer, owner);
            }

            writer.WriteEndElement();
        }

        foreach (string commonPrefix in page.CommonPrefixes)
        {
            writer.WriteStartElement("CommonPrefixes", S3Xml.Namespace);
            S3Xml.Element(writer, "Prefix", Encode(commonPrefix, urlEncoded));
            writer.WriteEndElement();
        }
    }

    private static int MaxKeys(IQueryCollection query)
    {
        string? value = query["max-keys"];
        if (value is null)
        {
            return MaxListKeys;
        }

        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int maxKeys))
        {
            throw S3Errors.InvalidArgument($"max-keys must be a non-negative integer, not '{value}'.");
        }

        return Math.Min(maxKeys, MaxListKeys);
    }

    private static bool EncodingType(IQueryCollection query)
    {
        string? value = query["encoding-type"];
        return value switch
        {
            null => false,
            "url" => true,
            _ => throw S3Errors.InvalidArgument($"Invalid Encoding Method specified in Request: {value}"),
        };
    }

    private static string Encode(string value, bool urlEncoded) =>
        urlEncoded ? Uri.EscapeDataString(value).Replace("%2F", "/", StringComparison.Ordinal) : value;

    private static string EncodeContinuationToken(string marker) => Convert.ToBase64String(Encoding.UTF8.GetBytes(marker));

    private static string DecodeContinuationToken(string token)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(token));
        }
        catch (FormatException)
        {
            throw S3Errors.InvalidArgument("The continuation token provided is incorrect.");
        }
    }

    private static string Quote(string etag) => "\"" + etag + "\"";
}
