using System.Diagnostics.CodeAnalysis;
using Predastore.Ingest.S3;

namespace Predastore.Ingest.Auth;

/// <summary>The outcome of <see cref="SigV4Verifier.Verify"/>: a verified <see cref="Context"/> or an S3 <see cref="Error"/>.</summary>
internal sealed class AuthResult
{
    private AuthResult(SigV4Context? context, S3Exception? error)
    {
        Context = context;
        Error = error;
    }

    [MemberNotNullWhen(true, nameof(Context))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool Succeeded => Context is not null;

    public SigV4Context? Context { get; }

    /// <summary>The error to report (not thrown by the verifier; carries Code, Message and StatusCode).</summary>
    public S3Exception? Error { get; }

    public static AuthResult Success(SigV4Context context) => new(context, null);

    public static AuthResult Failure(S3Exception error) => new(null, error);

    /// <summary>Returns the context or throws the error.</summary>
    public SigV4Context GetContextOrThrow()
    {
        if (!Succeeded)
        {
            S3ThrowHelper.Throw(Error);
        }

        return Context;
    }
}
