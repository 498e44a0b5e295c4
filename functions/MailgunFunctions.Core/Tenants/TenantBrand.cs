namespace MailgunFunctions.Tenants;

/// <summary>
/// What a tenant's brand on the unsubscribe page may be: a name a contact recognises and an optional logo. The CLI checks
/// input with these rules and the page applies <see cref="ShowsLogo"/> again, so a logo stored some other way never
/// loads over plain HTTP (mixed content, a tracking pixel in the clear).
/// </summary>
public static class TenantBrand
{
    public const int MaxNameLength = 80;
    public const int MaxLogoUrlLength = 2048;

    /// <summary>Why <paramref name="name"/> cannot be a brand name, or null when it can.</summary>
    public static string? NameProblem(string? name)
    {
        string text = name?.Trim() ?? "";
        if (text.Length == 0)
        {
            return "the brand name is empty ('none' goes back to the display name)";
        }

        if (text.Length > MaxNameLength)
        {
            return $"the brand name has {text.Length} characters; at most {MaxNameLength}";
        }

        return text.Any(char.IsControl) ? "the brand name contains control characters (line breaks, tabs)" : null;
    }

    /// <summary>Why <paramref name="url"/> cannot be a logo URL, or null when it can: absolute https, no user name or password in it.</summary>
    public static string? LogoUrlProblem(string? url)
    {
        string text = url?.Trim() ?? "";
        if (text.Length > MaxLogoUrlLength)
        {
            return $"the logo URL has {text.Length} characters; at most {MaxLogoUrlLength}";
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || uri.Host.Length == 0)
        {
            return $"the logo URL must be an absolute https URL, e.g. https://cdn.example.com/logo.png (got '{text}')";
        }

        return uri.UserInfo.Length > 0 ? "the logo URL must not carry a user name or password" : null;
    }

    /// <summary>The logo the page may show: https only.</summary>
    public static Uri? ShowsLogo(Uri? logo) => logo is { IsAbsoluteUri: true } && logo.Scheme == Uri.UriSchemeHttps && logo.UserInfo.Length == 0 ? logo : null;
}
