using Microsoft.Extensions.Options;

namespace MailgunFunctions.PlatformUnsubscribe;

/// <summary>The platform's own unsubscribe link (section "Unsubscribe").</summary>
public sealed class UnsubscribeOptions
{
    public const string Section = "Unsubscribe";

    /// <summary>
    /// Link keys by key id, e.g. <c>Unsubscribe__Keys__k1</c>: at least 32 characters of random text, kept in Key Vault.
    /// Tokens carry the id of the key that made them, so a new key can be added and made active while links made
    /// with the old one keep working; removing a key retires every link it made (they then show "link no longer valid").
    /// </summary>
    public Dictionary<string, string> Keys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The keys that are set (an empty value means unset: templates write empty strings for optional settings).</summary>
    public IEnumerable<KeyValuePair<string, string>> ConfiguredKeys => Keys.Where(k => !string.IsNullOrWhiteSpace(k.Value));

    /// <summary>Id (in <see cref="Keys"/>) of the key new links are made with. Required when any key is set.</summary>
    public string? ActiveKeyId { get; set; }

    /// <summary>
    /// Public base URL of the unsubscribe function, e.g. <c>https://myapp.azurewebsites.net/api/unsubscribe</c>
    /// (Anonymous: mailbox providers and people call it without keys). Needed to make links.
    /// </summary>
    public string? BaseUrl { get; set; }

    /// <summary>Optional mailto address added to List-Unsubscribe for clients that only support mail.</summary>
    public string? MailtoAddress { get; set; }
}

/// <summary>Refuses weak or inconsistent link keys at start-up.</summary>
public sealed class UnsubscribeOptionsValidator : IValidateOptions<UnsubscribeOptions>
{
    public const int MinimumKeyLength = 32;

    public ValidateOptionsResult Validate(string? name, UnsubscribeOptions options)
    {
        var failures = new List<string>();
        foreach (var (id, key) in options.ConfiguredKeys)
        {
            if (string.IsNullOrEmpty(id) || id.Length > 16 || !id.All(char.IsAsciiLetterOrDigit))
            {
                failures.Add($"'{UnsubscribeOptions.Section}__Keys__{id}': a key id is 1 to 16 letters or digits.");
            }

            if (key.Trim().Length < MinimumKeyLength)
            {
                failures.Add($"'{UnsubscribeOptions.Section}__Keys__{id}' must be at least {MinimumKeyLength} characters of random text.");
            }
        }

        // Empty means unset (infrastructure writes empty strings for settings left at their default).
        if (!string.IsNullOrWhiteSpace(options.BaseUrl)
            && !(Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var baseUrl) && (baseUrl.Scheme == Uri.UriSchemeHttps || baseUrl.Scheme == Uri.UriSchemeHttp)))
        {
            failures.Add($"'{UnsubscribeOptions.Section}__BaseUrl' must be an absolute http(s) URL, e.g. https://myapp.azurewebsites.net/api/unsubscribe.");
        }

        if (!string.IsNullOrWhiteSpace(options.MailtoAddress) && !System.Net.Mail.MailAddress.TryCreate(options.MailtoAddress, out _))
        {
            failures.Add($"'{UnsubscribeOptions.Section}__MailtoAddress' is not an email address.");
        }

        if (options.ConfiguredKeys.Any() && (options.ActiveKeyId is null || !options.ConfiguredKeys.Any(k => k.Key == options.ActiveKeyId)))
        {
            failures.Add($"'{UnsubscribeOptions.Section}__ActiveKeyId' must name one of the configured '{UnsubscribeOptions.Section}__Keys__*'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
