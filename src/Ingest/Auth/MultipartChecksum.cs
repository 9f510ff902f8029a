using System.Buffers.Binary;

namespace Predastore.Ingest.Auth;

/// <summary>
/// The checksum of a completed multipart object, made from its parts' checksums alone (completion reads no data):
/// COMPOSITE is the checksum of the concatenated part checksums with a <c>-N</c> suffix; FULL_OBJECT (CRCs only)
/// is the CRC of the whole object, obtained by combining the part CRCs.
/// </summary>
internal static class MultipartChecksum
{
    public static string Composite(ChecksumAlgorithm algorithm, IReadOnlyList<string> partChecksums)
    {
        int size = ChecksumHeaders.HashSize(algorithm);
        byte[] concatenated = new byte[size * partChecksums.Count];
        for (int i = 0; i < partChecksums.Count; i++)
        {
            if (!Convert.TryFromBase64String(partChecksums[i], concatenated.AsSpan(i * size, size), out int written) || written != size)
            {
                throw new FormatException($"Part {i + 1}'s checksum is not a base64 {ChecksumHeaders.AlgorithmName(algorithm)} value.");
            }
        }

        using var checksum = new IncrementalChecksum(algorithm);
        checksum.Append(concatenated);
        return checksum.GetHeaderValue() + "-" + partChecksums.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The whole object's CRC from each part's CRC and size.</summary>
    public static string FullObject(ChecksumAlgorithm algorithm, IReadOnlyList<(string Checksum, long Size)> parts)
    {
        (ulong polynomial, int width) = algorithm switch
        {
            // Reflected polynomials: every S3 CRC starts from all ones and is inverted at the end, which is what
            // the combination below assumes.
            ChecksumAlgorithm.Crc32 => (0xEDB88320UL, 32),
            ChecksumAlgorithm.Crc32C => (0x82F63B78UL, 32),
            ChecksumAlgorithm.Crc64Nvme => (0x9A6C9329AC4BC9B5UL, 64),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "FULL_OBJECT checksums exist only for CRCs."),
        };

        ulong crc = 0;
        bool first = true;
        foreach ((string checksum, long size) in parts)
        {
            ulong part = Decode(checksum, width);
            crc = first ? part : Combine(crc, part, size, polynomial, width);
            first = false;
        }

        byte[] bytes = new byte[width / 8];
        if (width == 32)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)crc);
        }
        else
        {
            BinaryPrimitives.WriteUInt64BigEndian(bytes, crc);
        }

        return Convert.ToBase64String(bytes);
    }

    /// <summary>
    /// CRC(A ‖ B) from CRC(A), CRC(B) and |B|: CRC(A) is advanced over |B| zero bytes by squaring the GF(2)
    /// matrix of "shift one zero bit" (as zlib's crc32_combine), then xored with CRC(B).
    /// </summary>
    internal static ulong Combine(ulong crc1, ulong crc2, long length2, ulong polynomial, int width)
    {
        if (length2 == 0)
        {
            return crc1;
        }

        Span<ulong> odd = stackalloc ulong[64];
        Span<ulong> even = stackalloc ulong[64];
        odd = odd[..width];
        even = even[..width];

        // The operator for one zero bit.
        odd[0] = polynomial;
        ulong row = 1;
        for (int n = 1; n < width; n++)
        {
            odd[n] = row;
            row <<= 1;
        }

        Square(even, odd); // two zero bits
        Square(odd, even); // four zero bits
        do
        {
            // First pass: one zero byte; every later pass doubles.
            Square(even, odd);
            if ((length2 & 1) != 0)
            {
                crc1 = Times(even, crc1);
            }

            length2 >>= 1;
            if (length2 == 0)
            {
                break;
            }

            Square(odd, even);
            if ((length2 & 1) != 0)
            {
                crc1 = Times(odd, crc1);
            }

            length2 >>= 1;
        }
        while (length2 != 0);

        return crc1 ^ crc2;
    }

    private static ulong Times(ReadOnlySpan<ulong> matrix, ulong vector)
    {
        ulong sum = 0;
        for (int i = 0; vector != 0; i++, vector >>= 1)
        {
            if ((vector & 1) != 0)
            {
                sum ^= matrix[i];
            }
        }

        return sum;
    }

    private static void Square(Span<ulong> square, ReadOnlySpan<ulong> matrix)
    {
        for (int n = 0; n < matrix.Length; n++)
        {
            square[n] = Times(matrix, matrix[n]);
        }
    }

    private static ulong Decode(string checksum, int width)
    {
        Span<byte> bytes = stackalloc byte[8];
        if (!Convert.TryFromBase64String(checksum, bytes, out int written) || written != width / 8)
        {
            throw new FormatException($"'{checksum}' is not a base64 {width}-bit CRC.");
        }

        return width == 32 ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }
}
