using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Fisher.Grains;

/// <summary>
/// A job's access token and its tasks' lease keys: random from the operating system's generator, given out as base64url
/// text, kept by the coordinator only as their SHA-256 (a copy of the grain state grants nothing) and compared in
/// constant time.
/// </summary>
internal static class Secrets
{
    /// <summary>Bytes of a job's access token (256 bits).</summary>
    public const int TokenBytes = 32;

    /// <summary>Bytes of a (task, attempt) lease key (128 bits).</summary>
    public const int LeaseKeyBytes = 16;

    /// <summary>A new secret of <paramref name="bytes"/> random bytes, as base64url text.</summary>
    public static string New(int bytes) => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(bytes));

    /// <summary>What is stored of a secret.</summary>
    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>Whether <paramref name="given"/> is the secret whose hash is <paramref name="hash"/> (false for a missing one of either).</summary>
    public static bool Matches(string? given, byte[]? hash) =>
        given is not null && hash is { Length: SHA256.HashSizeInBytes } && CryptographicOperations.FixedTimeEquals(Hash(given), hash);
}
