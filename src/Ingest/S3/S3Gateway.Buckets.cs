using System.Xml;
using System.Xml.Linq;
using Predastore.Metadata;

namespace Predastore.Ingest.S3;

internal sealed partial class S3Gateway
{
    private Task ListBucketsAsync(Exchange exchange, S3Request request)
    {
        IReadOnlyList<BucketInfo> buckets = _metadata.ListBuckets();
        return S3Xml.WriteAsync(exchange.Response, "ListAllMyBucketsResult", writer =>
        {
            WriteOwner(writer, exchange.Auth.AccessKey);
            writer.WriteStartElement("Buckets", S3Xml.Namespace);
            foreach (BucketInfo bucket in buckets)
            {
                writer.WriteStartElement("Bucket", S3Xml.Namespace);
                S3Xml.Element(writer, "Name", bucket.Name);
                S3Xml.Element(writer, "CreationDate", S3Xml.Timestamp(bucket.CreationDate));
                S3Xml.Element(writer, "BucketRegion", _options.Region);
                writer.WriteEndElement();
            }

            writer.WriteEndElement();
        });
    }

    private async Task CreateBucketAsync(Exchange exchange, S3Request request)
    {
        string bucket = request.Bucket!;
        XElement? configuration = await S3Xml.ReadAsync(exchange.Request, exchange.Aborted).ConfigureAwait(false);
        if (configuration is not null)
        {
            if (configuration.Name.LocalName != "CreateBucketConfiguration")
            {
                throw S3Errors.MalformedXml($"expected CreateBucketConfiguration, found {configuration.Name.LocalName}");
            }

            string? location = S3Xml.ChildValue(configuration, "LocationConstraint");
            if (!string.IsNullOrEmpty(location) && location != _options.Region)
            {
                throw new S3Exception(
                    "InvalidLocationConstraint",
                    $"The specified location-constraint is not valid: this endpoint serves {_options.Region}, not {location}.",
                    400);
            }
        }

        if (!_metadata.CreateBucket(bucket, _time.GetUtcNow()))
        {
            throw S3Errors.BucketAlreadyOwnedByYou(bucket);
        }

        exchange.Response.Headers.Location = "/" + bucket;
    }

    private Task HeadBucketAsync(Exchange exchange, S3Request request)
    {
        RequireBucket(request.Bucket!);
        exchange.Response.Headers["x-amz-bucket-region"] = _options.Region;
        return Task.CompletedTask;
    }

    private Task DeleteBucketAsync(Exchange exchange, S3Request request)
    {
        switch (_metadata.DeleteBucket(request.Bucket!))
        {
            case DeleteBucketResult.NotFound:
                throw S3Errors.NoSuchBucket(request.Bucket!);
            case DeleteBucketResult.NotEmpty:
                throw S3Errors.BucketNotEmpty(request.Bucket!);
            default:
                exchange.Response.StatusCode = 204;
                return Task.CompletedTask;
        }
    }

    private Task GetBucketLocationAsync(Exchange exchange, S3Request request)
    {
        RequireBucket(request.Bucket!);

        // S3 reports its original region as an empty constraint.
        return S3Xml.WriteAsync(exchange.Response, "LocationConstraint", writer =>
        {
            if (_options.Region != "us-east-1")
            {
                writer.WriteString(_options.Region);
            }
        });
    }

    private void RequireBucket(string bucket)
    {
        if (!_metadata.BucketExists(bucket))
        {
            throw S3Errors.NoSuchBucket(bucket);
        }
    }

    private static void WriteOwner(XmlWriter writer, string owner)
    {
        writer.WriteStartElement("Owner", S3Xml.Namespace);
        S3Xml.Element(writer, "ID", owner);
        S3Xml.Element(writer, "DisplayName", owner);
        writer.WriteEndElement();
    }
}
