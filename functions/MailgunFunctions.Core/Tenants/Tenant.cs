using MailgunFunctions.MailgunApi;

namespace MailgunFunctions.Tenants;

/// <summary>Where a tenant's connection stands.</summary>
public enum TenantState
{
    /// <summary>"connecting": stored, Mailgun's side (webhooks, route) not yet all set up; events are accepted already.</summary>
    Connecting,
    /// <summary>"connected": everything set up.</summary>
    Connected,
    /// <summary>
    /// "disconnected": our webhooks and route were removed from Mailgun and the API key forgotten. The signing keys are
    /// kept, so events Mailgun still retries are verified and applied (the DND data stays); nothing is exported.
    /// </summary>
    Disconnected,
}

/// <summary>
/// A webhook signing key of a tenant. <see cref="Id"/> names it in logs and envelopes; the secret never appears there.
/// <see cref="RetiredAt"/> is set when a newer key replaced it (a rotation): Mailgun's retries resend the original
/// signature for about 8 hours, so a retired key still verifies until <c>Webhooks:MaxSignatureAge</c> after its
/// retirement (<see cref="Tenant.VerifyingKeys"/>), then it is dropped.
/// </summary>
public sealed record TenantSigningKey(string Id, string Secret, DateTimeOffset AddedAt, DateTimeOffset? RetiredAt = null)
{
    /// <summary>Whether the key still verifies at <paramref name="now"/>: not retired, or retired less than <paramref name="retryWindow"/> ago.</summary>
    public bool VerifiesAt(DateTimeOffset now, TimeSpan retryWindow) => RetiredAt is not { } retired || now - retired <= retryWindow;

    /// <summary>Never prints the secret.</summary>
    public override string ToString() => RetiredAt is { } retired ? $"signing key {Id} (retired {retired:u})" : $"signing key {Id}";
}

/// <summary>One sending domain of a tenant and the Mailgun region it was created in.</summary>
public sealed record TenantDomain(string Name, MailgunRegion Region);

/// <summary>Where the platform wants to hear about DND changes of this tenant, and the secret that signs them.</summary>
public sealed record TenantNotifications(Uri? Url, string? Secret);

/// <summary>
/// One platform location with its own Mailgun account: what the registry keeps (secrets opened, in memory only). A
/// domain belongs to exactly one tenant. The tenant made from the single-account settings has <see cref="IsImplicit"/>.
/// </summary>
public sealed record Tenant
{
    public required string Id { get; init; }

    public string DisplayName { get; init; } = "";

    /// <summary>The region of account-level calls (signing key, routes); each domain names its own.</summary>
    public MailgunRegion Region { get; init; } = MailgunRegion.Us;

    public IReadOnlyList<TenantDomain> Domains { get; init; } = [];

    public TenantState State { get; init; } = TenantState.Connected;

    /// <summary>Mailgun's private API key of the tenant's account; null once disconnected.</summary>
    public string? ApiKey { get; init; }

    /// <summary>The account's webhook signing keys; several during a rotation.</summary>
    public IReadOnlyList<TenantSigningKey> SigningKeys { get; init; } = [];

    /// <summary>
    /// Id of the parent (primary) Mailgun account whose signing key verifies <c>signature.parent-signature</c> for this
    /// tenant (a platform that gives each location a Mailgun subaccount). Null: only the tenant's own keys count.
    /// </summary>
    public string? ParentAccount { get; init; }

    /// <summary>Mailgun's id of the tenant's (sub)account, as events carry it in <c>account.id</c>.</summary>
    public string? MailgunAccountId { get; init; }

    /// <summary>
    /// The base URL of the app Mailgun posts this tenant's events and replies to (<c>https://app.azurewebsites.net</c>,
    /// never a function key), as <c>tenant connect</c> set Mailgun up: what <c>disconnect</c> and <c>add-domain</c>
    /// find our webhooks by. Null when Mailgun was never set up by the CLI.
    /// </summary>
    public Uri? AppUrl { get; init; }

    public TenantNotifications? Notifications { get; init; }

    /// <summary>The brand a contact recognises, for the unsubscribe page; the display name when empty.</summary>
    public string? BrandName { get; init; }

    public Uri? BrandLogoUrl { get; init; }

    /// <summary>Whether re-enable validation may use Mailgun's paid email validation API for this tenant.</summary>
    public bool UseMailgunValidation { get; init; }

    /// <summary>The storage shard holding this tenant's queues and tables (0 in a deployment of one shard).</summary>
    public int Shard { get; init; }

    /// <summary>
    /// The shard this tenant is being moved to by <c>tenant move</c> (docs/scaling.md "Moving a tenant"), or null. While it
    /// is set the tenant's webhooks answer 503 (Mailgun retries), so no new event lands on either shard until the switch.
    /// </summary>
    public int? MovingTo { get; init; }

    /// <summary>
    /// The shard <c>tenant move</c> switched this tenant away from while its rows there are not yet deleted, or null: a rerun of
    /// the move after a stop finishes the deletion. Routing never reads it.
    /// </summary>
    public int? MovedFrom { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Made from the single-account settings, not stored in the registry.</summary>
    public bool IsImplicit { get; init; }

    /// <summary>The key Mailgun signs with now (the newest key not retired), or null when the tenant has none.</summary>
    public TenantSigningKey? CurrentSigningKey =>
        SigningKeys.Where(k => k.RetiredAt is null).OrderByDescending(k => k.AddedAt).ThenBy(k => k.Id, StringComparer.Ordinal).FirstOrDefault();

    /// <summary>
    /// The keys that verify at <paramref name="now"/>: every key not retired, and retired keys until
    /// <paramref name="retryWindow"/> (<c>Webhooks:MaxSignatureAge</c>) after their retirement, because Mailgun's retries of
    /// deliveries made before a rotation carry signatures made with the old key.
    /// </summary>
    public IEnumerable<TenantSigningKey> VerifyingKeys(DateTimeOffset now, TimeSpan retryWindow) =>
        SigningKeys.Where(k => k.VerifiesAt(now, retryWindow));

    /// <summary>The domain's entry, compared case-insensitively, or null when the domain is not the tenant's.</summary>
    public TenantDomain? Domain(string? name) =>
        name is null ? null : Domains.FirstOrDefault(d => string.Equals(d.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The Mailgun API target of one of the tenant's domains.</summary>
    public MailgunDomain MailgunDomain(TenantDomain domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        int index = Domains.ToList().FindIndex(d => string.Equals(d.Name, domain.Name, StringComparison.OrdinalIgnoreCase));
        string regionHint = IsImplicit && index >= 0
            ? $"'MailgunApi__Domains__{index}__Region'"
            : $"the domain's region (mailgun-ops tenant add-domain --tenant {Id} --domain {domain.Name} --region us|eu)";
        return new(domain.Name, domain.Region, Account(domain.Region), regionHint);
    }

    /// <summary>The tenant's Mailgun account as the API client addresses it (account-level calls use <see cref="Region"/>).</summary>
    public MailgunAccount Account(MailgunRegion? region = null) => new(region ?? Region, ApiKey, KeyHint);

    /// <summary>How to fix this tenant's API key, for error messages.</summary>
    public string KeyHint => IsImplicit
        ? "'Mailgun__ApiKey' (the private API key, not a sending key or the webhook signing key)"
        : $"the API key of tenant '{Id}' (mailgun-ops tenant connect --tenant {Id} with the private API key)";

    /// <summary>Never prints a secret (the generated record text would show the API key).</summary>
    public override string ToString() => $"tenant {Id}";

    /// <summary>The name shown to contacts.</summary>
    public string Brand => BrandName is { Length: > 0 } brand ? brand : DisplayName is { Length: > 0 } name ? name : Domains is [var first, ..] ? first.Name : Id;
}
