using System.Text.RegularExpressions;

namespace MailgunFunctions.MailgunApi;

/// <summary>
/// One Mailgun account as the API client addresses it: the region's API host and the private API key.
/// <paramref name="KeyHint"/> says how to fix the key when Mailgun refuses it (a setting, or a CLI command).
/// </summary>
public sealed record MailgunAccount(MailgunRegion Region, string? ApiKey, string KeyHint)
{
    /// <summary>Never prints the key.</summary>
    public override string ToString() => $"Mailgun account ({Region})";
}

/// <summary>
/// One sending domain of an account, in the region it was created in. <paramref name="RegionHint"/> says where its region
/// is set, for the error Mailgun's refusal of a domain asked in the wrong region becomes.
/// </summary>
public sealed record MailgunDomain(string Name, MailgunRegion Region, MailgunAccount Account, string RegionHint = "the domain's region")
{
    public override string ToString() => $"{Name} ({Region})";
}

/// <summary>The one rule for sending domain names: letters, digits and hyphens in dot-separated labels, compared lower-case.</summary>
public static partial class SendingDomain
{
    // The domain goes into URL paths, blob names and table keys unescaped.
    [GeneratedRegex(@"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name.Trim());

    /// <summary>Trimmed and lower-cased, or null when it is not a domain name.</summary>
    public static string? Normalize(string? name) => IsValid(name) ? name!.Trim().ToLowerInvariant() : null;
}
