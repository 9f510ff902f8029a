using System.Globalization;
using CommunityToolkit.HighPerformance;
using CommunityToolkit.HighPerformance.Buffers;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using Microsoft.AspNetCore.Http;

namespace Predastore.Ingest.S3;

/// <summary>Reads the small XML documents S3 requests carry and writes S3's XML responses.</summary>
internal static class S3Xml
{
    public const string Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

    // S3 caps request documents well below this (DeleteObjects: 1000 keys); anything larger is refused unread.
    private const int MaxRequestDocument = 2 * 1024 * 1024;

    private static readonly XmlWriterSettings s_writerSettings = new()
    {
        Async = true,
        Encoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
        Indent = false,
    };

    private static readonly XmlReaderSettings s_readerSettings = new()
    {
        Async = false,
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreWhitespace = true,
    };

    public static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Parses a request document; an empty body gives null. Not well-formed XML is MalformedXML.</summary>
    public static async Task<XElement?> ReadAsync(HttpRequest request, CancellationToken cancellationToken = default)
    {
        if (request.ContentLength > MaxRequestDocument)
        {
            throw S3Errors.MalformedXml($"the document is larger than {MaxRequestDocument} bytes");
        }

        using var buffer = new ArrayPoolBufferWriter<byte>();
        int read;
        while ((read = await request.Body.ReadAsync(buffer.GetMemory(16 * 1024), cancellationToken).ConfigureAwait(false)) > 0)
        {
            buffer.Advance(read);
            if (buffer.WrittenCount > MaxRequestDocument)
            {
                throw S3Errors.MalformedXml($"the document is larger than {MaxRequestDocument} bytes");
            }
        }

        if (buffer.WrittenCount == 0)
        {
            return null;
        }

        try
        {
            using Stream document = buffer.WrittenMemory.AsStream();
            using var reader = XmlReader.Create(document, s_readerSettings);
            return XDocument.Load(reader).Root;
        }
        catch (XmlException ex)
        {
            throw S3Errors.MalformedXml(ex.Message);
        }
    }

    /// <summary>The child elements of <paramref name="parent"/> named <paramref name="name"/>, with or without the S3 namespace.</summary>
    public static IEnumerable<XElement> Children(XElement parent, string name) =>
        parent.Elements().Where(e => e.Name.LocalName == name);

    public static string? ChildValue(XElement parent, string name) => Children(parent, name).FirstOrDefault()?.Value;

    /// <summary>
    /// Writes a response document: its root in <paramref name="ns"/> (S3's namespace, or none for an error), built in
    /// pooled memory first so the response carries a Content-Length.
    /// </summary>
    public static async Task WriteAsync(HttpResponse response, string root, Action<XmlWriter> body, int status = 200, string? ns = Namespace, CancellationToken cancellationToken = default)
    {
        response.StatusCode = status;
        response.ContentType = "application/xml";
        using var buffer = new ArrayPoolBufferWriter<byte>();
        using (Stream stream = buffer.AsStream())
        using (var writer = XmlWriter.Create(stream, s_writerSettings))
        {
            writer.WriteStartDocument();
            writer.WriteStartElement(root, ns);
            body(writer);
            writer.WriteEndElement();
            writer.WriteEndDocument();
        }

        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    public static void Element(XmlWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteElementString(name, Namespace, value);
        }
    }

    public static void Element(XmlWriter writer, string name, long value) =>
        writer.WriteElementString(name, Namespace, value.ToString(CultureInfo.InvariantCulture));

    public static void Element(XmlWriter writer, string name, bool value) =>
        writer.WriteElementString(name, Namespace, value ? "true" : "false");
}
