using System.ComponentModel.DataAnnotations;
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

    /// <summary>Id (in <see cref="Keys"/>) of the key new links are made with. Required when any key is set.</summary>
    public string? ActiveKeyId { get; set; }

    /// <summary>
    /// Public base URL of the unsubscribe function, e.g. <c>https://myapp.azurewebsites.net/api/unsubscribe</c>
    /// (Anonymous: mailbox providers and people call it without keys). Needed to make links.
    /// </summary>
    [Url]
    public string? BaseUrl { get; set; }

    /// <summary>Optional mailto address added to List-Unsubscribe for clients that only support mail.</summary>
    [EmailAddress]
    public string? MailtoAddress { get; set; }
}

/// <summary>Refuses weak or inconsistent link keys at start-up.</summary>
public sealed class UnsubscribeOptionsValidator : IValidateOptions<UnsubscribeOptions>
{
    public const int MinimumKeyLength = 32;

    public ValidateOptionsResult Validate(string? name, UnsubscribeOptions options)
    {
        var failures = new List<string>();
        foreach (var (id, key) in options.Keys)
        {
            if (string.IsNullOrEmpty(id) || id.Length > 16 || !id.All(char.IsAsciiLetterOrDigit))
            {
                failures.Add($"'{UnsubscribeOptions.Section}__Keys__{id}': a key id is 1 to 16 letters or digits.");
            }

            if (key is null || key.Trim().Length < MinimumKeyLength)
            {
                failures.Add($"'{UnsubscribeOptions.Section}__Keys__{id}' must be at least {MinimumKeyLength} characters of random text.");
            }
        }

        if (options.Keys.Count > 0 && (options.ActiveKeyId is null || !options.Keys.ContainsKey(options.ActiveKeyId)))
        {
            failures.Add($"'{UnsubscribeOptions.Section}__ActiveKeyId' must name one of the configured '{UnsubscribeOptions.Section}__Keys__*'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
