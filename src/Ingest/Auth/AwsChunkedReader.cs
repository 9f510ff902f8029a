using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Predastore.Ingest.S3;

namespace Predastore.Ingest.Auth;

/// <summary>
/// Decodes an aws-chunked request body (<c>Content-Encoding: aws-chunked</c>) from the request's
/// <see cref="PipeReader"/> and returns the object bytes.
/// <para>
/// Framing: <c>hex-size[;chunk-signature=sig]\r\n data \r\n</c> …, a final zero-size chunk, then optional
/// trailer lines <c>name:value\r\n</c> (with <c>x-amz-trailer-signature:sig</c> last when signed) and a blank
/// line. In the signed modes every chunk signature is checked, chaining from the seed signature, and so is the
/// trailer signature. Each byte is copied once, from the pipe into the caller's buffer, and hashed there;
/// memory use is constant in the body size.
/// </para>
/// <para>
/// As for every <see cref="PayloadReadStream"/>: the data is only verified when ReadAsync returns 0;
/// <see cref="Trailers"/> are available from then on.
/// </para>
/// </summary>
internal sealed class AwsChunkedReader : PayloadReadStream
{
    /// <summary>Longest chunk header or trailer line accepted, CRLF excluded.</summary>
    public const int MaxLineLength = 4096;

    public const int MaxTrailers = 16;

    public const string TrailerSignatureName = "x-amz-trailer-signature";

    private const string ChunkSignatureExtension = "chunk-signature=";
    private const int ChunkHashOffsetFromEnd = SigV4Signing.SignatureHexLength;

    private static ReadOnlySpan<byte> CrLf => "\r\n"u8;

    private readonly PayloadMode _mode;
    private readonly long? _declaredLength;
    private readonly string[]? _declaredTrailers;
    private readonly SigV4Context? _context;
    private readonly List<KeyValuePair<string, string>> _trailers = [];

    // Signed modes only. The chunk string to sign is kept assembled:
    // "AWS4-HMAC-SHA256-PAYLOAD\n<date>\n<scope>\n" <previous signature> "\n" <hash("")> "\n" <hash(chunk)>;
    // only the previous-signature and chunk-hash slots change per chunk.
    private readonly IncrementalHash? _hash;
    private readonly byte[]? _stringToSign;
    private readonly int _stringToSignLength;
    private readonly int _previousSignatureOffset;

    // Rented; holds a chunk header or trailer line, then the signature parsed from it.
    private byte[]? _scratch;
    private readonly byte[] _providedSignature = new byte[SigV4Signing.SignatureHexLength];
    private int _providedSignatureLength;
    private string? _trailerSignature;

    private int _blankLinesBeforeTrailers;
    private State _state = State.ChunkHeader;
    private long _chunkRemaining;
    private long _decodedLength;

    public AwsChunkedReader(
        PipeReader reader,
        PayloadMode mode,
        SigV4Context? context,
        long? decodedContentLength = null,
        IReadOnlyCollection<string>? declaredTrailers = null)
        : base(reader)
    {
        if (!mode.IsStreaming())
        {
            throw new ArgumentException($"{mode} is not an aws-chunked payload mode.", nameof(mode));
        }

        if (mode.HasChunkSignatures() && context is null)
        {
            throw new ArgumentException("Signed aws-chunked bodies need the verified request's signing context.", nameof(context));
        }

        _mode = mode;
        _context = context;
        _declaredLength = decodedContentLength;
        _declaredTrailers = declaredTrailers is null ? null : [.. declaredTrailers.Select(static t => t.Trim().ToLowerInvariant())];
        _scratch = ArrayPool<byte>.Shared.Rent(MaxLineLength);

        if (mode.HasChunkSignatures())
        {
            _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            string prefix = "AWS4-HMAC-SHA256-PAYLOAD\n" + context!.AmzDate + "\n" + context.Scope + "\n";
            _previousSignatureOffset = Encoding.ASCII.GetByteCount(prefix);
            _stringToSignLength = _previousSignatureOffset + (3 * SigV4Signing.SignatureHexLength) + 2;
            _stringToSign = new byte[_stringToSignLength];
            Encoding.ASCII.GetBytes(prefix, _stringToSign);
            Span<byte> tail = _stringToSign.AsSpan(_previousSignatureOffset);
            Encoding.ASCII.GetBytes(context.Signature, tail);
            tail[SigV4Signing.SignatureHexLength] = (byte)'\n';
            Encoding.ASCII.GetBytes(PayloadModes.EmptySha256, tail[(SigV4Signing.SignatureHexLength + 1)..]);
            tail[(2 * SigV4Signing.SignatureHexLength) + 1] = (byte)'\n';
        }
    }

    private enum State
    {
        ChunkHeader,
        ChunkData,
        ChunkDataEnd,
        Trailers,

        // A blank line came straight after the final chunk in a trailer mode: either the end of a body
        // without trailers, or the blank line the AWS documentation's example puts before the trailers.
        TrailersAfterBlank,

        // The terminating blank line was read; only end of body may follow.
        Terminated,
        Finished,
    }

    /// <summary>Decoded bytes returned so far.</summary>
    public long DecodedLength => _decodedLength;

    /// <summary>True once ReadAsync has returned 0: every signature, the length and the framing checked out.</summary>
    public bool IsCompleted => _state == State.Finished;

    /// <summary>Trailer headers received (lowercase names, trimmed values), excluding x-amz-trailer-signature. Valid after end of body.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Trailers => _trailers;

    public PayloadMode Mode => _mode;

    /// <summary>Builds the reader for a verified request: reads x-amz-decoded-content-length and x-amz-trailer.</summary>
    public static AwsChunkedReader Create(HttpRequest request, SigV4Context context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);

        long? decodedLength = null;
        StringValues lengthHeader = request.Headers["x-amz-decoded-content-length"];
        if (!StringValues.IsNullOrEmpty(lengthHeader))
        {
            if (lengthHeader.Count != 1
                || !long.TryParse(lengthHeader[0], NumberStyles.None, CultureInfo.InvariantCulture, out long parsed))
            {
                throw S3Errors.InvalidArgument("x-amz-decoded-content-length must be a non-negative integer.");
            }

            decodedLength = parsed;
        }

        List<string>? trailers = null;
        StringValues trailerHeader = request.Headers["x-amz-trailer"];
        if (context.PayloadMode.HasTrailer() && !StringValues.IsNullOrEmpty(trailerHeader))
        {
            trailers = [];
            foreach (string? value in trailerHeader)
            {
                foreach (string name in (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    trailers.Add(name);
                }
            }
        }

        return new AwsChunkedReader(request.BodyReader, context.PayloadMode, context, decodedLength, trailers);
    }

    /// <summary>The value of a received trailer, e.g. <c>x-amz-checksum-crc32c</c>.</summary>
    public bool TryGetTrailer(string name, out string value)
    {
        foreach (KeyValuePair<string, string> t in _trailers)
        {
            if (t.Key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                value = t.Value;
                return true;
            }
        }

        value = string.Empty;
        return false;
    }

    protected override bool IsFinished => _state == State.Finished;

    protected override void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_scratch is null, this);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            byte[]? scratch = Interlocked.Exchange(ref _scratch, null);
            if (scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }

            _hash?.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Decodes one read's worth; true when the read can return (bytes written, or end of body).</summary>
    protected override bool Consume(in ReadResult result, Span<byte> destination, out int written)
    {
        ReadOnlySequence<byte> body = result.Buffer;
        SequencePosition consumed = body.Start;
        bool needMore = false;
        written = 0;
        try
        {
            written = Process(body, destination, out consumed, out needMore);
            if (needMore && result.IsCompleted)
            {
                FinishAtEndOfBody(body.Slice(consumed).Length);
                needMore = false;
            }
        }
        catch (S3Exception e)
        {
            Failure = e;
            throw;
        }
        finally
        {
            // Examined up to the end only when the buffered bytes cannot make progress, so the next
            // ReadAsync waits for more instead of spinning.
            Reader.AdvanceTo(consumed, needMore ? body.End : consumed);
        }

        return written > 0 || _state == State.Finished;
    }

    /// <summary>Advances through <paramref name="body"/>, copying chunk data to <paramref name="destination"/>.</summary>
    private int Process(ReadOnlySequence<byte> body, Span<byte> destination, out SequencePosition consumed, out bool needMore)
    {
        var reader = new SequenceReader<byte>(body);
        int written = 0;
        needMore = false;
        while (!needMore)
        {
            switch (_state)
            {
                case State.ChunkHeader:
                    if (!TryReadLine(ref reader, out ReadOnlySpan<byte> header, isTrailer: false))
                    {
                        needMore = true;
                        break;
                    }

                    OnChunkHeader(header);
                    break;

                case State.ChunkData:
                    if (written == destination.Length)
                    {
                        consumed = reader.Position;
                        return written;
                    }

                    if (reader.End)
                    {
                        needMore = true;
                        break;
                    }

                    ReadOnlySpan<byte> available = reader.UnreadSpan;
                    int n = (int)Math.Min(Math.Min(available.Length, destination.Length - written), _chunkRemaining);
                    Span<byte> target = destination.Slice(written, n);
                    available[..n].CopyTo(target);
                    _hash?.AppendData(target);
                    reader.Advance(n);
                    written += n;
                    _chunkRemaining -= n;
                    _decodedLength += n;
                    if (_chunkRemaining == 0)
                    {
                        _state = State.ChunkDataEnd;
                    }

                    break;

                case State.ChunkDataEnd:
                    if (reader.Remaining < 2)
                    {
                        needMore = true;
                        break;
                    }

                    if (!reader.IsNext(CrLf, advancePast: true))
                    {
                        S3ThrowHelper.ThrowMalformedChunk("chunk data is not followed by CRLF (chunk size does not match the data).");
                    }

                    VerifyChunkSignature();
                    _state = State.ChunkHeader;
                    break;

                case State.Trailers:
                    if (!TryReadLine(ref reader, out ReadOnlySpan<byte> line, isTrailer: true))
                    {
                        needMore = true;
                        break;
                    }

                    OnTrailerLine(line);
                    break;

                case State.TrailersAfterBlank:
                    if (reader.End)
                    {
                        needMore = true;
                        break;
                    }

                    _state = State.Trailers;
                    break;

                case State.Terminated:
                    if (!reader.End)
                    {
                        S3ThrowHelper.ThrowMalformedChunk("data follows the end of the aws-chunked body.");
                    }

                    needMore = true;
                    break;

                default:
                    consumed = reader.Position;
                    return written;
            }
        }

        consumed = reader.Position;
        return written;
    }

    /// <summary>The body ended (pipe completed) while <see cref="Process"/> wanted more bytes.</summary>
    private void FinishAtEndOfBody(long unconsumed)
    {
        if (unconsumed == 0)
        {
            switch (_state)
            {
                case State.Terminated:
                    _state = State.Finished;
                    return;

                // Tolerated: a body that stops after the final chunk or the last trailer line without the
                // closing blank line. Nothing signed can be lost that way: the final chunk is verified, and
                // trailers are checked against x-amz-trailer and their signature.
                case State.Trailers:
                case State.TrailersAfterBlank:
                    EndTrailers();
                    _state = State.Finished;
                    return;
            }
        }

        S3ThrowHelper.ThrowIncompleteBody();
    }

    private bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySpan<byte> line, bool isTrailer)
    {
        if (!reader.TryReadTo(out ReadOnlySequence<byte> sequence, CrLf, advancePastDelimiter: true))
        {
            if (reader.Remaining > MaxLineLength)
            {
                ThrowLineTooLong(isTrailer);
            }

            line = default;
            return false;
        }

        if (sequence.Length > MaxLineLength)
        {
            ThrowLineTooLong(isTrailer);
        }

        if (sequence.IsSingleSegment)
        {
            line = sequence.FirstSpan;
        }
        else
        {
            Span<byte> copy = _scratch.AsSpan(0, (int)sequence.Length);
            sequence.CopyTo(copy);
            line = copy;
        }

        return true;
    }

    private static void ThrowLineTooLong(bool isTrailer)
    {
        if (isTrailer)
        {
            S3ThrowHelper.ThrowMalformedTrailer("trailer line too long.");
        }

        S3ThrowHelper.ThrowMalformedChunk("chunk header line too long.");
    }

    private void OnChunkHeader(ReadOnlySpan<byte> header)
    {
        int semicolon = header.IndexOf((byte)';');
        ReadOnlySpan<byte> sizeText = semicolon < 0 ? header : header[..semicolon];
        // At most 15 hex digits: the size stays far from overflowing the running total.
        long size = -1;
        if (sizeText.IsEmpty || sizeText.Length > 15
            || !long.TryParse(sizeText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out size))
        {
            S3ThrowHelper.ThrowMalformedChunk("chunk size is not a hexadecimal number.");
        }

        if (_mode.HasChunkSignatures())
        {
            ReadOnlySpan<byte> signature = default;
            bool found = false;
            ReadOnlySpan<byte> extensions = semicolon < 0 ? default : header[(semicolon + 1)..];
            foreach (Range r in extensions.Split((byte)';'))
            {
                ReadOnlySpan<byte> extension = extensions[r];
                if (extension.StartsWith("chunk-signature="u8))
                {
                    signature = extension[ChunkSignatureExtension.Length..];
                    found = true;
                }
            }

            if (!found)
            {
                S3ThrowHelper.ThrowMalformedChunk("chunk-signature is missing.");
            }

            // A wrong-length signature is kept short so the comparison fails like any other mismatch.
            _providedSignatureLength = Math.Min(signature.Length, SigV4Signing.SignatureHexLength);
            signature[.._providedSignatureLength].CopyTo(_providedSignature);
            if (signature.Length != SigV4Signing.SignatureHexLength)
            {
                _providedSignatureLength = 0;
            }
        }

        if (_declaredLength is long declared && size > declared - _decodedLength)
        {
            S3ThrowHelper.Throw(S3Errors.InvalidRequest("The decoded body is longer than x-amz-decoded-content-length."));
        }

        if (size > 0)
        {
            _chunkRemaining = size;
            _state = State.ChunkData;
            return;
        }

        // The final, empty chunk: its signature closes the data part of the chain.
        VerifyChunkSignature();
        if (_declaredLength is long expected && expected != _decodedLength)
        {
            S3ThrowHelper.Throw(S3Errors.IncompleteBody("The decoded body is shorter than x-amz-decoded-content-length."));
        }

        _state = State.Trailers;
    }

    private void VerifyChunkSignature()
    {
        if (_hash is null)
        {
            return;
        }

        Span<byte> sts = _stringToSign.AsSpan(0, _stringToSignLength);
        Span<byte> chunkHash = stackalloc byte[SHA256.HashSizeInBytes];
        _hash.GetHashAndReset(chunkHash);
        SigV4Signing.WriteHexLower(chunkHash, sts[^ChunkHashOffsetFromEnd..]);

        Span<byte> expected = stackalloc byte[SigV4Signing.SignatureHexLength];
        SigV4Signing.Sign(_context!.SigningKey.Span, sts, expected);
        ReadOnlySpan<byte> provided = _providedSignature.AsSpan(0, _providedSignatureLength);
        if (!CryptographicOperations.FixedTimeEquals(expected, provided))
        {
            S3ThrowHelper.ThrowChunkSignatureDoesNotMatch();
        }

        // The next chunk chains from this one.
        provided.CopyTo(sts.Slice(_previousSignatureOffset, SigV4Signing.SignatureHexLength));
    }

    private void OnTrailerLine(ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty)
        {
            if (_trailers.Count == 0 && _trailerSignature is null && _mode.HasTrailer()
                && _blankLinesBeforeTrailers++ == 0)
            {
                _state = State.TrailersAfterBlank;
                return;
            }

            EndTrailers();
            _state = State.Terminated;
            return;
        }

        if (!_mode.HasTrailer())
        {
            S3ThrowHelper.ThrowMalformedTrailer("trailers were sent but x-amz-content-sha256 does not announce any.");
        }

        if (_trailerSignature is not null)
        {
            S3ThrowHelper.ThrowMalformedTrailer("x-amz-trailer-signature must be the last trailer.");
        }

        int colon = line.IndexOf((byte)':');
        if (colon <= 0 || !Ascii.IsValid(line))
        {
            S3ThrowHelper.ThrowMalformedTrailer("a trailer is not an ASCII 'name:value' line.");
        }

        string name = Encoding.ASCII.GetString(line[..colon].Trim((byte)' ')).ToLowerInvariant();
        string value = Encoding.ASCII.GetString(line[(colon + 1)..].Trim((byte)' '));
        if (name == TrailerSignatureName)
        {
            if (_mode != PayloadMode.StreamingSignedTrailer)
            {
                S3ThrowHelper.ThrowMalformedTrailer("x-amz-trailer-signature in an unsigned body.");
            }

            _trailerSignature = value;
            return;
        }

        if (_trailers.Count == MaxTrailers)
        {
            S3ThrowHelper.ThrowMalformedTrailer("too many trailers.");
        }

        _trailers.Add(new KeyValuePair<string, string>(name, value));
    }

    /// <summary>Checks the trailer signature and that the trailers match x-amz-trailer.</summary>
    private void EndTrailers()
    {
        if (_declaredTrailers is not null)
        {
            foreach (string declared in _declaredTrailers)
            {
                if (!TryGetTrailer(declared, out _))
                {
                    S3ThrowHelper.ThrowMalformedTrailer($"the trailer '{declared}' announced in x-amz-trailer was not sent.");
                }
            }

            foreach (KeyValuePair<string, string> trailer in _trailers)
            {
                if (Array.IndexOf(_declaredTrailers, trailer.Key) < 0)
                {
                    S3ThrowHelper.ThrowMalformedTrailer($"the trailer '{trailer.Key}' was not announced in x-amz-trailer.");
                }
            }
        }

        if (_mode != PayloadMode.StreamingSignedTrailer)
        {
            return;
        }

        if (_trailerSignature is null)
        {
            if (_trailers.Count > 0)
            {
                S3ThrowHelper.ThrowMalformedTrailer("x-amz-trailer-signature is missing.");
            }

            return;
        }

        VerifyTrailerSignature();
    }

    private void VerifyTrailerSignature()
    {
        // hash over "name:value\n" per trailer, in the order received.
        foreach (KeyValuePair<string, string> trailer in _trailers)
        {
            _hash!.AppendData(Encoding.ASCII.GetBytes(trailer.Key + ":" + trailer.Value + "\n"));
        }

        Span<byte> trailerHash = stackalloc byte[SHA256.HashSizeInBytes];
        _hash!.GetHashAndReset(trailerHash);
        Span<byte> trailerHashHex = stackalloc byte[SigV4Signing.SignatureHexLength];
        SigV4Signing.WriteHexLower(trailerHash, trailerHashHex);

        string previous = Encoding.ASCII.GetString(_stringToSign.AsSpan(_previousSignatureOffset, SigV4Signing.SignatureHexLength));
        string stringToSign = "AWS4-HMAC-SHA256-TRAILER\n" + _context!.AmzDate + "\n" + _context.Scope + "\n" + previous + "\n"
            + Encoding.ASCII.GetString(trailerHashHex);
        Span<byte> expected = stackalloc byte[SigV4Signing.SignatureHexLength];
        SigV4Signing.Sign(_context.SigningKey.Span, stringToSign, expected);
        if (!SigV4Signing.SignatureEquals(expected, _trailerSignature))
        {
            S3ThrowHelper.Throw(S3Errors.SignatureDoesNotMatch());
        }
    }
}
