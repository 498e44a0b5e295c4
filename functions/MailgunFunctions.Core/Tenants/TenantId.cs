using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace MailgunFunctions.Tenants;

/// <summary>
/// The one rule for tenant ids: the platform's location id, 1 to 64 letters, digits, '-' or '_', starting with a letter
/// or digit. Case-sensitive (platform location ids are mixed-case), so it is only trimmed, never lower-cased. The id goes
/// unescaped into URL paths, Table keys, blob names and queue messages, which is why nothing else is allowed.
/// </summary>
public static partial class TenantId
{
    public const int MaxLength = 64;

    public static bool IsValid([NotNullWhen(true)] string? id) => id is not null && Pattern().IsMatch(id);

    /// <summary>The id trimmed, or null when it is not a valid tenant id.</summary>
    public static string? Parse(string? id) => id?.Trim() is { } trimmed && IsValid(trimmed) ? trimmed : null;

    /// <summary>Why <paramref name="id"/> is refused, for people (CLI, API, webhook answers).</summary>
    public static string Problem(string? id) =>
        $"'{Printable(id)}' is not a tenant id: use the platform's location id (1 to {MaxLength} letters, digits, '-' or '_')";

    private static string Printable(string? id) => id is null ? "" : id.Length > 80 ? id[..80] + "…" : id;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
