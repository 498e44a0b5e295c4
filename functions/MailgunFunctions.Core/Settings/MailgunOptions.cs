using System.ComponentModel.DataAnnotations;
using MailgunFunctions.Signatures;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Settings;

/// <summary>
/// The single-account settings (section "Mailgun"): the Mailgun account of the tenant made from settings (see
/// TenantDirectory.Implicit). Tenants in the registry keep their own keys.
/// </summary>
public sealed class MailgunOptions
{
    public const string Section = "Mailgun";

    /// <summary>
    /// HTTP webhook signing keys by key id, e.g. <c>Mailgun__SigningKeys__primary</c>. Several keys let a key be
    /// rotated without losing traffic: add the new one, switch Mailgun, remove the old one. Required unless the tenant
    /// registry is used (TenantsOptions.KeyEncryptionKeys).
    /// This is the "HTTP webhook signing key" of Mailgun's dashboard, never the private API key.
    /// </summary>
    public Dictionary<string, string> SigningKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Private API key (HTTP Basic, user "api"). Used by the export and the CLI; optional for ingestion.</summary>
    public string? ApiKey { get; set; }

    public IEnumerable<SigningKey> Keys => SigningKeys
        .Where(k => !string.IsNullOrWhiteSpace(k.Value))
        .Select(k => new SigningKey(k.Key, k.Value.Trim()));
}

/// <summary>
/// Refuses to start with the API key used as a signing key (the most common real-world mistake). Whether any key is
/// needed at all is the tenants' rule (TenantsOptionsValidator): the registry can hold every tenant's keys.
/// </summary>
public sealed class MailgunOptionsValidator : IValidateOptions<MailgunOptions>
{
    public ValidateOptionsResult Validate(string? name, MailgunOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.ApiKey)
            && options.Keys.Any(k => string.Equals(k.Secret, options.ApiKey.Trim(), StringComparison.Ordinal)))
        {
            return ValidateOptionsResult.Fail(
                $"A value of '{MailgunOptions.Section}__SigningKeys' equals '{MailgunOptions.Section}__ApiKey': Mailgun signs webhooks " +
                "with the HTTP webhook signing key, never with the private API key. Copy the signing key from the dashboard.");
        }

        return ValidateOptionsResult.Success;
    }
}

/// <summary>Behaviour of the webhooks (section "Webhooks").</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>
    /// Oldest signature timestamp accepted. Default 12 hours: Mailgun retries for about 8 hours and resends the
    /// original signature, so a shorter window drops legitimate retries; replay within the window is stopped by
    /// the token store, not by the window.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan MaxSignatureAge { get; set; } = TimeSpan.FromHours(12);

    /// <summary>How far in the future a signature timestamp may be (clock skew). Default 5 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Largest events webhook body accepted; larger ones get 413 before being read. Default 1 MiB (Mailgun's events are a few KB).</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxEventBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Whether the Mailgun set-up subscribes to <c>opened</c> and <c>clicked</c>. Default false: they change no DND state
    /// (they only record the last open and click on the address's entry) and are about a fifth of all events
    /// (docs/capacity.md). When false, setting up webhooks takes our URL off those two subscriptions.
    /// </summary>
    public bool EngagementEvents { get; set; }
}
