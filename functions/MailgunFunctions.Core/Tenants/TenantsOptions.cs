using System.ComponentModel.DataAnnotations;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Settings;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Tenants;

/// <summary>The tenant registry and the single-account tenant (section "Tenants").</summary>
public sealed class TenantsOptions
{
    public const string Section = "Tenants";

    /// <summary>
    /// Id of the tenant made from the single-account settings (<c>Mailgun__SigningKeys__*</c>, <c>Mailgun__ApiKey</c>,
    /// <c>MailgunApi__Domains__*</c>), served by the URLs without a tenant (<c>/api/mailgun/events</c>,
    /// <c>/api/mailgun/inbound</c>) and by the tenant URLs under this id. Default <c>default</c>.
    /// </summary>
    public string DefaultTenantId { get; set; } = "default";

    /// <summary>
    /// Key-encryption keys of the tenant registry by key id, e.g. <c>Tenants__KeyEncryptionKeys__k1</c>: at least 32
    /// characters of random text, kept in Key Vault. Every secret in the registry (API keys, signing keys, notification
    /// secrets) is sealed with its own data key, and that data key with the key named here, so a key can be rotated by
    /// adding a new one, making it active (ActiveKeyId) and running <c>mailgun-ops tenant rewrap</c>. Without any, the registry is off
    /// and only the single-account tenant exists.
    /// </summary>
    public Dictionary<string, string> KeyEncryptionKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The keys that are set (an empty value means unset: templates write empty strings for optional settings).</summary>
    public IEnumerable<KeyValuePair<string, string>> ConfiguredKeys => KeyEncryptionKeys.Where(k => !string.IsNullOrWhiteSpace(k.Value));

    /// <summary>Id (in <see cref="KeyEncryptionKeys"/>) of the key new secrets are sealed with. Required when more than one key is set.</summary>
    public string? ActiveKeyId { get; set; }

    /// <summary>
    /// How long an instance keeps a tenant it read from the registry. Default 1 minute: this is the bound within which a
    /// signing-key rotation, a disconnect or a domain change is seen by every instance; reads cost one point read per
    /// tenant and instance per period.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan CacheLifetime { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long an instance remembers that a tenant id is not registered (a flood of unknown ids must not reach storage). Default 10 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan UnknownTenantCacheLifetime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Tenants kept per instance at most. Default 20,000 (a resolved tenant is about 2 KB).</summary>
    [Range(1, 10_000_000)]
    public int CacheSize { get; set; } = 20_000;

    /// <summary>The key id new secrets are sealed with: <see cref="ActiveKeyId"/>, or the only key.</summary>
    public string? EffectiveActiveKeyId => ActiveKeyId is { Length: > 0 } id ? id : ConfiguredKeys.Count() == 1 ? ConfiguredKeys.First().Key : null;

    /// <summary>Whether the registry can be used (a key-encryption key is configured).</summary>
    public bool RegistryEnabled => ConfiguredKeys.Any();
}

/// <summary>Refuses weak or inconsistent key-encryption keys, or an invalid default tenant id, at start-up.</summary>
public sealed class TenantsOptionsValidator : IValidateOptions<TenantsOptions>
{
    public const int MinimumKeyLength = 32;

    public ValidateOptionsResult Validate(string? name, TenantsOptions options)
    {
        var failures = new List<string>();
        if (!TenantId.IsValid(options.DefaultTenantId))
        {
            failures.Add($"'{TenantsOptions.Section}__DefaultTenantId': {TenantId.Problem(options.DefaultTenantId)}.");
        }

        foreach (var (id, key) in options.ConfiguredKeys)
        {
            if (string.IsNullOrEmpty(id) || id.Length > 16 || !id.All(char.IsAsciiLetterOrDigit))
            {
                failures.Add($"'{TenantsOptions.Section}__KeyEncryptionKeys__{id}': a key id is 1 to 16 letters or digits.");
            }

            if (key.Trim().Length < MinimumKeyLength)
            {
                failures.Add($"'{TenantsOptions.Section}__KeyEncryptionKeys__{id}' must be at least {MinimumKeyLength} characters of random text.");
            }
        }

        if (options.RegistryEnabled && (options.EffectiveActiveKeyId is not { } active || !options.ConfiguredKeys.Any(k => k.Key == active)))
        {
            failures.Add($"'{TenantsOptions.Section}__ActiveKeyId' must name one of the configured '{TenantsOptions.Section}__KeyEncryptionKeys__*'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// The webhooks' own start-up rule: with neither a single-account signing key nor a registry key, no event could ever be
/// verified, so the app refuses to start and names the settings. (The CLI, which verifies nothing, does without it.)
/// </summary>
public sealed class WebhookKeysRequiredValidator(IOptions<MailgunOptions> account) : IValidateOptions<TenantsOptions>
{
    public ValidateOptionsResult Validate(string? name, TenantsOptions options) =>
        options.RegistryEnabled || account.Value.Keys.Any()
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"No Mailgun webhook signing key and no tenant registry are configured: set '{MailgunOptions.Section}__SigningKeys__primary' to the " +
                "HTTP webhook signing key from Mailgun's dashboard (Sending > Webhooks) for a single-account install, or " +
                $"'{TenantsOptions.Section}__KeyEncryptionKeys__k1' to at least {TenantsOptionsValidator.MinimumKeyLength} characters of random text to keep tenants in the registry.");
}
