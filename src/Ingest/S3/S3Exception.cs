namespace Predastore.Ingest.S3;

/// <summary>
/// An error the gateway reports to the client as an S3 error document: <c>Code</c> is the S3 error code
/// (<c>SignatureDoesNotMatch</c>, <c>IncompleteBody</c>, …) and <see cref="StatusCode"/> the HTTP status.
/// </summary>
internal sealed class S3Exception : Exception
{
    public S3Exception(string code, string message, int statusCode)
        : base(message)
    {
        Code = code;
        StatusCode = statusCode;
    }

    public S3Exception(string code, string message, int statusCode, Exception? innerException)
        : base(message, innerException)
    {
        Code = code;
        StatusCode = statusCode;
    }

    /// <summary>The S3 error code, e.g. <c>AccessDenied</c>.</summary>
    public string Code { get; }

    /// <summary>The HTTP status code of the error response.</summary>
    public int StatusCode { get; }

    public override string ToString() => $"{Code} ({StatusCode}): {base.ToString()}";
}
