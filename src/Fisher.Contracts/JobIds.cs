using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Fisher.Contracts;

/// <summary>
/// What a job id may be: a name, never a path. Ids key grains (<c>id/group</c>, <c>id/task/attempt</c>) and name the
/// default result folder, so a '/' could reach another job's grains and ".." another folder.
/// </summary>
public static partial class JobIds
{
    /// <summary>The longest id accepted.</summary>
    public const int MaxLength = 100;

    /// <summary>Letters, digits, '-', '_' and '.', starting with a letter or digit, at most <see cref="MaxLength"/> characters.</summary>
    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);

    /// <summary>Random bits in a generated id: enough that nobody finds another user's job by guessing its id.</summary>
    public const int RandomBits = 130;

    /// <summary>
    /// A new id: the UTC time it was made (so result folders sort by time) and <see cref="RandomBits"/> random bits in
    /// lower-case base32, e.g. <c>20261202-115424-k3x…</c> (42 characters). User-chosen ids stay allowed: they are
    /// names, not secrets; the job's access token protects it.
    /// </summary>
    public static string New()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        var random = new char[RandomBits / 5];
        for (int i = 0; i < random.Length; i++)
            random[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
        return string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{new string(random)}");
    }

    /// <summary>Why <paramref name="id"/> is not a job id, or null when it is one.</summary>
    public static string? Problem(string? id) => IsValid(id) ? null
        : $"'{(id is null ? "" : id.Length > 40 ? id[..40] + "…" : id)}' is not a job id: use letters, digits, '-', '_' and '.', starting with a letter or digit, at most {MaxLength} characters";

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex Pattern();
}
