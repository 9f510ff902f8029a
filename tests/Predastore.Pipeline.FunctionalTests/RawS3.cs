using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Predastore.Pipeline.FunctionalTests;

/// <summary>
/// Hand-made S3 requests for what no SDK will send: malformed documents, bodies shorter than declared, odd
/// signatures. Signs with SigV4 header auth and UNSIGNED-PAYLOAD, written here from the AWS specification so the
/// test does not share the gateway's code.
/// </summary>
internal static class RawS3
{
    public static HttpRequestMessage Signed(HttpMethod method, Uri endpoint, string pathAndQuery, HttpContent? content = null, string secretKey = TestServer.SecretKey, DateTimeOffset? time = null)
    {
        var uri = new Uri(endpoint, pathAndQuery);
        var request = new HttpRequestMessage(method, uri) { Content = content };
        DateTimeOffset now = time ?? DateTimeOffset.UtcNow;
        string amzDate = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string date = amzDate[..8];
        string host = uri.Authority;
        request.Headers.Host = host;
        request.Headers.Add("x-amz-date", amzDate);
        request.Headers.Add("x-amz-content-sha256", "UNSIGNED-PAYLOAD");

        string canonicalQuery = string.Join('&', (uri.Query.TrimStart('?').Length == 0 ? [] : uri.Query.TrimStart('?').Split('&'))
            .Select(p => p.Contains('=') ? p : p + "=")
            .OrderBy(p => p, StringComparer.Ordinal));
        string canonicalRequest = string.Join('\n',
            method.Method,
            uri.AbsolutePath,
            canonicalQuery,
            $"host:{host}\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:{amzDate}\n",
            "host;x-amz-content-sha256;x-amz-date",
            "UNSIGNED-PAYLOAD");
        string scope = $"{date}/us-east-1/s3/aws4_request";
        string stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";
        byte[] key = Encoding.UTF8.GetBytes("AWS4" + secretKey);
        foreach (string part in new[] { date, "us-east-1", "s3", "aws4_request" })
        {
            key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(part));
        }

        string signature = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "AWS4-HMAC-SHA256",
            $"Credential={TestServer.AccessKey}/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}");
        return request;
    }

    /// <summary>
    /// Sends a signed PUT whose Content-Length promises more than the body holds, then closes the connection:
    /// what a client that dies mid-upload looks like on the wire.
    /// </summary>
    public static async Task SendTruncatedPutAsync(Uri endpoint, string bucket, string key, long declaredLength, byte[] sent)
    {
        using HttpRequestMessage signed = Signed(HttpMethod.Put, endpoint, $"/{bucket}/{key}");
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"PUT /{bucket}/{key} HTTP/1.1\r\n");
        foreach (KeyValuePair<string, IEnumerable<string>> header in signed.Headers)
        {
            head.Append(CultureInfo.InvariantCulture, $"{header.Key}: {string.Join(",", header.Value)}\r\n");
        }

        head.Append(CultureInfo.InvariantCulture, $"Content-Length: {declaredLength}\r\n\r\n");
        using var client = new TcpClient();
        await client.ConnectAsync(endpoint.Host, endpoint.Port);
        NetworkStream stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        await stream.WriteAsync(sent);
        await stream.FlushAsync();
        client.Client.Shutdown(SocketShutdown.Send);

        // Wait for the server to give up on the body (it answers or closes).
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            while (await stream.ReadAsync(buffer, timeout.Token) > 0)
            {
            }
        }
        catch (IOException)
        {
            // A reset is an acceptable way for the server to end it.
        }
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
