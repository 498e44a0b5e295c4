using System.Globalization;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Settings;
using MailgunFunctions.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Tenants;

/// <summary>Why a tenant operation stopped; the message says what to do.</summary>
public enum TenantProblem
{
    /// <summary>The request itself is wrong (an id, a domain, a missing app URL).</summary>
    Invalid,
    /// <summary>No such tenant or parent account.</summary>
    NotFound,
    /// <summary>Mailgun refused the API key: nothing was stored.</summary>
    KeyRefused,
    /// <summary>Mailgun's account has no such domain in that region: nothing was stored.</summary>
    DomainUnknown,
    /// <summary>The domain belongs to another tenant.</summary>
    DomainTaken,
    /// <summary>A rule refuses it (a webhook with no room for our URL, a disconnected tenant).</summary>
    Refused,
    /// <summary>Mailgun failed before anything was stored.</summary>
    MailgunUnavailable,
    /// <summary>The registry holds the change but Mailgun's side is incomplete: running the same command again completes it.</summary>
    Incomplete,
}

/// <summary>A tenant operation that stopped, saying what was stored, what is missing and how to finish.</summary>
public sealed class TenantOperationException(TenantProblem problem, string message, Exception? inner = null) : Exception(message, inner)
{
    public TenantProblem Problem { get; } = problem;
}

/// <summary>What <see cref="TenantConnection.ConnectAsync"/> is asked to do.</summary>
public sealed record ConnectRequest
{
    public required string TenantId { get; init; }

    /// <summary>Domains to connect (added to the tenant's; connect never removes one: that is remove-domain).</summary>
    public required IReadOnlyList<TenantDomain> Domains { get; init; }

    /// <summary>Region of account-level calls (the signing key, routes of domains in that region).</summary>
    public MailgunRegion Region { get; init; } = MailgunRegion.Us;

    public string? DisplayName { get; init; }

    /// <summary>The account's private API key (read from stdin or a file by the CLI, never from its command line).</summary>
    public required string ApiKey { get; init; }

    /// <summary>The app's base URL (see <see cref="TenantUrls.ParseAppUrl"/>); the one stored is used when null.</summary>
    public Uri? AppUrl { get; init; }

    /// <summary>The function key Mailgun must send as <c>?code=</c>; never stored (it is the app's secret, not the tenant's).</summary>
    public string? FunctionKey { get; init; }

    public string? ParentAccount { get; init; }

    public string? MailgunAccountId { get; init; }

    /// <summary>Store the tenant only: the webhooks and the route are managed elsewhere (e.g. by the platform).</summary>
    public bool SkipMailgunSetup { get; init; }

    public required string Actor { get; init; }
}

/// <summary>The webhook plans of one domain.</summary>
public sealed record DomainWebhooks(string Domain, IReadOnlyList<WebhookPlan> Plans);

/// <summary>The reply route of one region.</summary>
public sealed record RegionRoute(MailgunRegion Region, RoutePlan Plan);

/// <summary>What was done at Mailgun, and anything the operator should know (e.g. what was left alone and why).</summary>
public sealed record MailgunSideReport(IReadOnlyList<DomainWebhooks> Webhooks, IReadOnlyList<RegionRoute> Routes, IReadOnlyList<string> Notes)
{
    public static MailgunSideReport Nothing { get; } = new([], [], []);

    public bool ChangedSomething => Webhooks.Any(w => w.Plans.Any(p => p.ChangesSomething)) || Routes.Any(r => r.Plan.ChangesSomething);

    /// <summary>For the audit: what changed at Mailgun, with URLs masked.</summary>
    public string Describe() => string.Join("; ",
        Webhooks.Where(w => w.Plans.Any(p => p.ChangesSomething))
            .Select(w => $"webhooks of {w.Domain}: " + string.Join(", ", w.Plans.Where(p => p.ChangesSomething).GroupBy(p => p.Action).Select(g => $"{g.Key} {string.Join(" ", g.Select(p => p.Webhook))}")))
            .Concat(Routes.Where(r => r.Plan.ChangesSomething).Select(r => $"reply route ({TenantRegistry.RegionName(r.Region)}): {r.Plan.Action}")));
}

/// <summary>What a tenant operation did: the tenant as stored, whether the registry changed, and Mailgun's side.</summary>
public sealed record TenantOperationResult(Tenant Tenant, bool RegistryChanged, MailgunSideReport Mailgun)
{
    /// <summary>The tenant's events URL without its function key, when the app URL is known.</summary>
    public Uri? EventsUrl => Tenant.AppUrl is { } app ? TenantUrls.Events(app, Tenant.Id) : null;

    public Uri? InboundUrl => Tenant.AppUrl is { } app ? TenantUrls.Inbound(app, Tenant.Id) : null;
}

/// <summary>What a rotation did: the key now signing, the keys it retired and until when they still verify.</summary>
public sealed record SigningKeyRotation(Tenant Tenant, bool Changed, string CurrentKeyId, IReadOnlyList<string> RetiredKeyIds, DateTimeOffset? OldKeysVerifyUntil, IReadOnlyList<string> DroppedKeyIds);

/// <summary>Where a rotation takes the new signing key from.</summary>
public enum SigningKeySource
{
    /// <summary><c>POST /v5/accounts/http_signing_key</c>: Mailgun makes a new key and signs with it at once.</summary>
    Regenerate,
    /// <summary><c>GET /v5/accounts/http_signing_key</c>: the key Mailgun signs with now (after a rotation in the dashboard).</summary>
    Fetch,
    /// <summary>A key the operator gives (copied from the dashboard after rotating it there).</summary>
    Given,
}

/// <summary>
/// Connects platform locations (tenants) to their own Mailgun accounts and keeps both sides in step: the registry
/// (<see cref="TenantRegistry"/>, secrets sealed, every change audited with the operator) and Mailgun's side (event
/// webhooks of every domain and one reply route per tenant and region, through <see cref="MailgunSetup"/>, the same rule
/// as <c>setup webhooks</c>). Order matters and is the same everywhere:
/// <list type="bullet">
/// <item>everything that can refuse (the API key, each domain in its region, domain ownership) is checked before anything is written, so a wrong key stores nothing;</item>
/// <item>a connect stores the tenant (state <c>connecting</c>, keys sealed) <em>before</em> Mailgun is set up, so events arriving at once verify;
/// an outage in the middle leaves it <c>connecting</c> with an error naming what is missing, and running the same command again completes it;</item>
/// <item>removals (disconnect, remove-domain) change Mailgun first and the registry last, so a rerun still knows what to remove.</item>
/// </list>
/// Every operation is idempotent: a second run finds everything as wanted and writes nothing.
/// </summary>
public sealed class TenantConnection
{
    private readonly TenantRegistry _registry;
    private readonly TenantDirectory _directory;
    private readonly MailgunApiClient _api;
    private readonly MailgunSetup _setup;
    private readonly TimeProvider _time;
    private readonly WebhookOptions _webhooks;
    private readonly ILogger<TenantConnection> _logger;
    private readonly int _shards;

    public TenantConnection(TenantRegistry registry, TenantDirectory directory, MailgunApiClient api, MailgunSetup setup, TimeProvider time,
        IOptions<WebhookOptions> webhooks, ILogger<TenantConnection> logger, IOptions<StorageOptions> storage)
    {
        _shards = storage.Value.Shards;
        _registry = registry;
        _directory = directory;
        _api = api;
        _setup = setup;
        _time = time;
        _webhooks = webhooks.Value;
        _logger = logger;
    }

    /// <summary>How long a retired signing key keeps verifying (<c>Webhooks:MaxSignatureAge</c>).</summary>
    public TimeSpan RetiredKeyWindow => _webhooks.MaxSignatureAge;

    /// <summary>
    /// Connects (or reconnects, or completes the connection of) a tenant: checks the API key and each domain at
    /// Mailgun, reads the account's webhook signing key, stores the tenant (connecting), sets up webhooks and the reply
    /// route, then marks it connected.
    /// </summary>
    public async Task<TenantOperationResult> ConnectAsync(ConnectRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        string id = ValidTenantId(request.TenantId);
        if (_directory.Implicit?.Id == id)
        {
            throw new TenantOperationException(TenantProblem.Invalid,
                $"'{id}' is the single-account tenant made from the settings ({TenantsOptions.Section}__DefaultTenantId): choose another id for a registry tenant");
        }

        if (request.Domains.Count == 0)
        {
            throw new TenantOperationException(TenantProblem.Invalid, "name at least one sending domain");
        }

        if (string.IsNullOrWhiteSpace(request.ApiKey))
        {
            throw new TenantOperationException(TenantProblem.Invalid, "the API key is empty");
        }

        var domains = request.Domains.Select(d => d with { Name = ValidDomain(d.Name) }).DistinctBy(d => d.Name).ToList();
        if (request.ParentAccount is { Length: > 0 } parentId && await _registry.GetParentAsync(parentId, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new TenantOperationException(TenantProblem.NotFound, $"no parent account '{parentId}': add it first (mailgun-ops tenant parent add --id {parentId})");
        }

        var existing = await _registry.GetAsync(id, cancellationToken).ConfigureAwait(false);
        var appUrl = request.AppUrl ?? existing?.AppUrl;
        if (!request.SkipMailgunSetup && appUrl is null)
        {
            throw new TenantOperationException(TenantProblem.Invalid, "the app URL is needed to set Mailgun up (--app-url https://<app>.azurewebsites.net), or skip that part (--skip-mailgun-setup)");
        }

        // Everything that can refuse, before anything is written.
        var account = new MailgunAccount(request.Region, request.ApiKey.Trim(), ConnectKeyHint(id));
        string signingKey = await CheckAccountAsync(account, domains, cancellationToken).ConfigureAwait(false);
        await CheckOwnershipAsync(id, domains, cancellationToken).ConfigureAwait(false);

        DateTimeOffset now = _time.GetUtcNow();
        var (keys, _, _) = WithCurrentKey(existing?.SigningKeys ?? [], signingKey, now);
        // A new tenant is placed on a shard once (its id's hash modulo K) and keeps it: only `tenant move` changes it.
        var connected = (existing ?? new Tenant { Id = id, Shard = TenantShards.PlacementOf(id, _shards) }) with
        {
            DisplayName = request.DisplayName is { Length: > 0 } name ? name.Trim() : existing?.DisplayName is { Length: > 0 } kept ? kept : domains[0].Name,
            Region = request.Region,
            Domains = [.. existing?.Domains ?? [], .. domains.Where(d => existing?.Domain(d.Name) is null)],
            State = TenantState.Connected,
            ApiKey = account.ApiKey,
            SigningKeys = keys,
            ParentAccount = request.ParentAccount is { Length: > 0 } parent ? parent : existing?.ParentAccount,
            MailgunAccountId = request.MailgunAccountId is { Length: > 0 } accountId ? accountId.Trim() : existing?.MailgunAccountId,
            AppUrl = appUrl,
        };
        // Domains whose region changed are re-stated with the new region.
        connected = connected with { Domains = connected.Domains.Select(d => domains.FirstOrDefault(n => n.Name == d.Name) ?? d).ToList() };

        bool unchanged = existing is { State: TenantState.Connected } && TenantRegistry.Describe(existing, connected) == "no change";
        var stored = existing!;
        if (!unchanged)
        {
            // Stored before Mailgun is told, so events Mailgun sends at once already verify.
            var state = request.SkipMailgunSetup ? TenantState.Connected : TenantState.Connecting;
            stored = await SaveAsync(connected with { State = state }, request.Actor, existing is null ? "connect" : "reconnect", cancellationToken).ConfigureAwait(false);
        }

        var report = MailgunSideReport.Nothing;
        if (!request.SkipMailgunSetup)
        {
            // Every domain of the tenant, not only those named this time: a rerun repairs what someone changed at Mailgun.
            report = await SetUpMailgunAsync(stored, stored.Domains.Select(d => d.Name).ToList(), ByRegion(stored.Domains).Select(g => g.Key).ToList(), request.FunctionKey,
                request.Actor, "tenant connect", cancellationToken).ConfigureAwait(false);
        }

        if (stored.State != TenantState.Connected)
        {
            stored = await SaveAsync(stored with { State = TenantState.Connected }, request.Actor, "connected", cancellationToken).ConfigureAwait(false);
        }

        TenantLog.Connected(_logger, id, stored.Domains.Count, stored.CurrentSigningKey?.Id ?? "", !unchanged || report.ChangedSomething);
        return new TenantOperationResult(stored, !unchanged, report);
    }

    /// <summary>Adds a sending domain: checked at Mailgun with the tenant's key, claimed in the registry, then its webhooks and the region's route.</summary>
    public async Task<TenantOperationResult> AddDomainAsync(string tenantId, TenantDomain domain, string? functionKey, bool skipMailgunSetup, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(domain);
        var tenant = await ConnectedTenantAsync(tenantId, "add a domain", cancellationToken).ConfigureAwait(false);
        var wanted = domain with { Name = ValidDomain(domain.Name) };
        if (!skipMailgunSetup && tenant.AppUrl is null)
        {
            throw new TenantOperationException(TenantProblem.Invalid,
                $"tenant '{tenant.Id}' has no app URL (it was not set up by tenant connect): set it with mailgun-ops tenant set --tenant {tenant.Id} --app-url https://<app>.azurewebsites.net, or use --skip-mailgun-setup");
        }

        bool changed = tenant.Domain(wanted.Name) is not { } had || had.Region != wanted.Region;
        if (changed)
        {
            await CheckAccountAsync(tenant.Account(), [wanted], cancellationToken, checkKey: false).ConfigureAwait(false);
            await CheckOwnershipAsync(tenant.Id, [wanted], cancellationToken).ConfigureAwait(false);
            tenant = await SaveAsync(tenant with { Domains = [.. tenant.Domains.Where(d => d.Name != wanted.Name), wanted] }, actor, "add-domain", cancellationToken).ConfigureAwait(false);
        }

        var report = skipMailgunSetup
            ? MailgunSideReport.Nothing
            : await SetUpMailgunAsync(tenant, [wanted.Name], [wanted.Region], functionKey, actor, $"tenant add-domain --domain {wanted.Name}", cancellationToken).ConfigureAwait(false);
        return new TenantOperationResult(tenant, changed, report);
    }

    /// <summary>
    /// Removes a sending domain: our URLs leave its webhooks and the region's route stops matching it (or is deleted
    /// when no domain of the tenant is left there), then the registry releases the domain. The DND data stays the tenant's.
    /// </summary>
    public async Task<TenantOperationResult> RemoveDomainAsync(string tenantId, string domain, bool skipMailgun, string actor, CancellationToken cancellationToken)
    {
        var tenant = await ExistingAsync(tenantId, cancellationToken).ConfigureAwait(false);
        string name = ValidDomain(domain);
        if (tenant.Domain(name) is not { } removed)
        {
            return new TenantOperationResult(tenant, false, MailgunSideReport.Nothing);
        }

        var report = MailgunSideReport.Nothing;
        if (!skipMailgun && tenant.ApiKey is { Length: > 0 })
        {
            var notes = new List<string>();
            var webhooks = new List<DomainWebhooks>();
            var routes = new List<RegionRoute>();
            await RunMailgunStepsAsync(tenant.Id, "nothing was removed from the registry yet", $"tenant remove-domain --domain {name}", async () =>
            {
                if (tenant.AppUrl is { } app)
                {
                    webhooks.Add(new DomainWebhooks(name, await _setup.RemoveWebhooksAsync(tenant.MailgunDomain(removed), TenantUrls.Events(app, tenant.Id), cancellationToken).ConfigureAwait(false)));
                }
                else
                {
                    notes.Add($"webhooks of {name} left as they are: the tenant has no app URL, so our URLs cannot be told from others'");
                }

                var rest = tenant.Domains.Where(d => d.Region == removed.Region && d.Name != name).Select(d => d.Name).ToList();
                var account = tenant.Account(removed.Region);
                routes.Add(new RegionRoute(removed.Region, rest.Count > 0 && tenant.AppUrl is { } url
                    ? await _setup.SetRouteAsync(account, await ReplyRouteAsync(tenant, account, rest, url, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false)
                    : rest.Count > 0 ? await KeepRouteWithoutAsync(account, tenant.Id, rest, cancellationToken).ConfigureAwait(false)
                    : await _setup.RemoveRouteAsync(account, MailgunSetup.TenantRouteDescription(tenant.Id), cancellationToken).ConfigureAwait(false)));
            }, cancellationToken).ConfigureAwait(false);
            report = new MailgunSideReport(webhooks, routes, notes);
            await AuditMailgunAsync(tenant.Id, actor, "mailgun-remove-domain", report, cancellationToken).ConfigureAwait(false);
        }

        tenant = await SaveAsync(tenant with { Domains = tenant.Domains.Where(d => d.Name != name).ToList() }, actor, "remove-domain", cancellationToken).ConfigureAwait(false);
        return new TenantOperationResult(tenant, true, report);
    }

    /// <summary>
    /// Replaces the tenant's signing key. The new key becomes current; the keys it replaces are kept, retired, and still
    /// verify until <see cref="RetiredKeyWindow"/> after now (Mailgun retries resend the original signature for about
    /// 8 hours); keys retired longer ago are dropped. <see cref="SigningKeySource.Regenerate"/> makes Mailgun switch at once:
    /// events signed with the new key get 401 (and are retried) until every instance has read it (<c>Tenants:CacheLifetime</c>).
    /// </summary>
    public async Task<SigningKeyRotation> RotateSigningKeyAsync(string tenantId, SigningKeySource source, string? givenKey, string actor, CancellationToken cancellationToken)
    {
        var tenant = await ExistingAsync(tenantId, cancellationToken).ConfigureAwait(false);
        if (source != SigningKeySource.Given && tenant.ApiKey is not { Length: > 0 })
        {
            throw new TenantOperationException(TenantProblem.Refused,
                $"tenant '{tenant.Id}' has no API key ({TenantRegistry.StateName(tenant.State)}): give the new key from a file instead (--from-file), or connect it again");
        }

        string key;
        switch (source)
        {
            case SigningKeySource.Given:
                key = givenKey?.Trim() is { Length: > 0 } given ? given : throw new TenantOperationException(TenantProblem.Invalid, "the new signing key is empty");
                if (key == tenant.ApiKey)
                {
                    throw new TenantOperationException(TenantProblem.Invalid, "that is the tenant's private API key, not its webhook signing key (Mailgun dashboard: Sending > Webhooks > HTTP webhook signing key)");
                }

                break;
            case SigningKeySource.Fetch:
                key = await MailgunAsync(() => _api.GetSigningKeyAsync(tenant.Account(), cancellationToken), "nothing was changed", cancellationToken).ConfigureAwait(false);
                break;
            default:
                key = await MailgunAsync(() => _api.RegenerateSigningKeyAsync(tenant.Account(), cancellationToken), "nothing was changed", cancellationToken).ConfigureAwait(false);
                break;
        }

        DateTimeOffset now = _time.GetUtcNow();
        var (keys, retired, dropped) = WithCurrentKey(tenant.SigningKeys, key, now);
        var rotated = tenant with { SigningKeys = keys };
        bool changed = TenantRegistry.Describe(tenant, rotated) != "no change";
        if (changed)
        {
            try
            {
                rotated = await SaveAsync(rotated, actor, "rotate-signing-key", cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (source == SigningKeySource.Regenerate && ex is not OperationCanceledException)
            {
                throw new TenantOperationException(TenantProblem.Incomplete,
                    $"Mailgun now signs tenant '{tenant.Id}''s events with a new key that could not be stored ({ex.Message}). Store it with: mailgun-ops tenant rotate-signing-key --tenant {tenant.Id} --fetch " +
                    "(until then its events get 401, which Mailgun retries for about 8 hours).", ex);
            }

            TenantLog.SigningKeyRotated(_logger, tenant.Id, rotated.CurrentSigningKey!.Id, string.Join(",", retired), now + RetiredKeyWindow);
        }

        return new SigningKeyRotation(rotated, changed, rotated.CurrentSigningKey!.Id, retired, retired.Count > 0 ? now + RetiredKeyWindow : null, dropped);
    }

    /// <summary>
    /// Disconnects a tenant: our URLs leave the webhooks of its domains and its reply routes are deleted (other
    /// integrations' URLs and routes stay), then the API key is forgotten and the state becomes <c>disconnected</c>. The
    /// signing keys stay (events Mailgun still retries are verified and applied), and so do the domains and the DND data.
    /// </summary>
    public async Task<TenantOperationResult> DisconnectAsync(string tenantId, Uri? appUrl, bool skipMailgun, string actor, CancellationToken cancellationToken)
    {
        var tenant = await ExistingAsync(tenantId, cancellationToken).ConfigureAwait(false);
        if (tenant.State == TenantState.Disconnected && tenant.ApiKey is null)
        {
            return new TenantOperationResult(tenant, false, MailgunSideReport.Nothing);
        }

        var report = MailgunSideReport.Nothing;
        if (!skipMailgun && tenant.ApiKey is { Length: > 0 })
        {
            var app = appUrl ?? tenant.AppUrl ?? throw new TenantOperationException(TenantProblem.Invalid,
                $"tenant '{tenant.Id}' has no app URL, so our webhook URLs cannot be told from others': pass --app-url (the app it was connected to), or --skip-mailgun to only forget the key");
            var webhooks = new List<DomainWebhooks>();
            var routes = new List<RegionRoute>();
            await RunMailgunStepsAsync(tenant.Id, "the tenant is still connected (its API key is kept until Mailgun's side is clean)", "tenant disconnect", async () =>
            {
                foreach (var domain in tenant.Domains)
                {
                    webhooks.Add(new DomainWebhooks(domain.Name, await _setup.RemoveWebhooksAsync(tenant.MailgunDomain(domain), TenantUrls.Events(app, tenant.Id), cancellationToken).ConfigureAwait(false)));
                }

                foreach (var region in ByRegion(tenant.Domains).Select(g => g.Key).DefaultIfEmpty(tenant.Region).Distinct())
                {
                    routes.Add(new RegionRoute(region, await _setup.RemoveRouteAsync(tenant.Account(region), MailgunSetup.TenantRouteDescription(tenant.Id), cancellationToken).ConfigureAwait(false)));
                }
            }, cancellationToken).ConfigureAwait(false);
            report = new MailgunSideReport(webhooks, routes, []);
            await AuditMailgunAsync(tenant.Id, actor, "mailgun-disconnect", report, cancellationToken).ConfigureAwait(false);
        }
        else if (tenant.ApiKey is { Length: > 0 })
        {
            report = new MailgunSideReport([], [], ["Mailgun was not touched: the tenant's webhooks and reply route are still there; remove them in Mailgun's dashboard"]);
        }

        tenant = await SaveAsync(tenant with { ApiKey = null, State = TenantState.Disconnected }, actor, "disconnect", cancellationToken).ConfigureAwait(false);
        TenantLog.Disconnected(_logger, tenant.Id, tenant.SigningKeys.Count);
        return new TenantOperationResult(tenant, true, report);
    }

    /// <summary>
    /// Changes what an operator may set directly (display name, parent account, Mailgun account id, app URL). A parent
    /// account must exist in the registry. Writes nothing when nothing changes.
    /// </summary>
    public async Task<TenantOperationResult> UpdateAsync(string tenantId, Func<Tenant, Tenant> change, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        var tenant = await ExistingAsync(tenantId, cancellationToken).ConfigureAwait(false);
        var updated = change(tenant);
        if (updated.ParentAccount is { Length: > 0 } parentId && parentId != tenant.ParentAccount
            && await _registry.GetParentAsync(parentId, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new TenantOperationException(TenantProblem.NotFound, $"no parent account '{parentId}': add it first (mailgun-ops tenant parent add --id {parentId})");
        }

        if (TenantRegistry.Describe(tenant, updated) == "no change")
        {
            return new TenantOperationResult(tenant, false, MailgunSideReport.Nothing);
        }

        return new TenantOperationResult(await SaveAsync(updated, actor, "set", cancellationToken).ConfigureAwait(false), true, MailgunSideReport.Nothing);
    }

    /// <summary>
    /// Adds or updates a parent (primary) Mailgun account: its API key is checked by reading its webhook signing key,
    /// which is stored (sealed) to verify <c>parent-signature</c> of the tenants that trust it. A changed key retires the
    /// previous one for the same window as a tenant's.
    /// </summary>
    public async Task<(ParentAccount Parent, bool Changed)> SaveParentAsync(string id, MailgunRegion region, string apiKey, string actor, CancellationToken cancellationToken)
    {
        string parentId = ValidTenantId(id);
        var account = new MailgunAccount(region, apiKey.Trim(), $"the API key of parent account '{parentId}' (the primary account's private API key)");
        string key = await CheckAccountAsync(account, [], cancellationToken).ConfigureAwait(false);
        var existing = await _registry.GetParentAsync(parentId, cancellationToken).ConfigureAwait(false);
        var (keys, _, _) = WithCurrentKey(existing?.SigningKeys ?? [], key, _time.GetUtcNow());
        var parent = new ParentAccount(parentId, region, account.ApiKey, keys, _time.GetUtcNow());
        bool changed = existing is null || existing.Region != region || existing.ApiKey != parent.ApiKey || !existing.SigningKeys.SequenceEqual(keys);
        if (changed)
        {
            await _registry.SaveParentAsync(parent, actor, cancellationToken).ConfigureAwait(false);
        }

        return (changed ? parent : existing!, changed);
    }

    /// <summary>
    /// <paramref name="keys"/> with <paramref name="secret"/> as the current key: unchanged when it already is; otherwise
    /// the keys in use are retired now and the new key added (or a retired one with that secret made current again).
    /// Keys retired longer than the window ago are dropped: no signature they made can still be fresh.
    /// </summary>
    internal (IReadOnlyList<TenantSigningKey> Keys, IReadOnlyList<string> Retired, IReadOnlyList<string> Dropped) WithCurrentKey(IReadOnlyList<TenantSigningKey> keys, string secret, DateTimeOffset now)
    {
        var dropped = keys.Where(k => !k.VerifiesAt(now, RetiredKeyWindow)).Select(k => k.Id).ToList();
        var kept = keys.Where(k => k.VerifiesAt(now, RetiredKeyWindow)).ToList();
        if (kept.FirstOrDefault(k => k.Secret == secret) is { RetiredAt: null } && kept.Count(k => k.RetiredAt is null) == 1)
        {
            return (kept, [], dropped);
        }

        var retired = kept.Where(k => k.RetiredAt is null && k.Secret != secret).Select(k => k.Id).ToList();
        var result = kept.Where(k => k.Secret != secret).Select(k => k.RetiredAt is null ? k with { RetiredAt = now } : k).ToList();
        var same = kept.FirstOrDefault(k => k.Secret == secret);
        result.Add(same is not null ? same with { RetiredAt = null } : new TenantSigningKey(NewKeyId(now, kept.Select(k => k.Id)), secret, now));
        return (result, retired, dropped);
    }

    private static string NewKeyId(DateTimeOffset now, IEnumerable<string> taken)
    {
        // Named by when it was added: ids appear in logs and envelopes, so they must say nothing about the key itself.
        string id = "k" + now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture);
        var used = taken.ToHashSet(StringComparer.Ordinal);
        string candidate = id;
        for (int n = 2; used.Contains(candidate); n++)
        {
            candidate = id + "-" + n.ToString(CultureInfo.InvariantCulture);
        }

        return candidate;
    }

    /// <summary>
    /// The API key is the account's private key (Mailgun answers the signing-key endpoint only for it), and each domain
    /// exists in its region. Returns the account's webhook signing key. Nothing is written.
    /// </summary>
    private async Task<string> CheckAccountAsync(MailgunAccount account, IReadOnlyList<TenantDomain> domains, CancellationToken cancellationToken, bool checkKey = true)
    {
        string signingKey = "";
        if (checkKey)
        {
            try
            {
                signingKey = await _api.GetSigningKeyAsync(account, cancellationToken).ConfigureAwait(false);
            }
            catch (MailgunApiException ex) when (ex.IsAuthenticationFailure)
            {
                throw new TenantOperationException(TenantProblem.KeyRefused,
                    $"Mailgun refused the API key in the {TenantRegistry.RegionName(account.Region)} region ({(int?)ex.StatusCode}): nothing was stored. Give the account's private API key " +
                    "(Mailgun dashboard > API Security), not a domain sending key or the webhook signing key, and the account's region (--region eu for EU accounts).", ex);
            }
            catch (MailgunApiException ex)
            {
                throw new TenantOperationException(TenantProblem.MailgunUnavailable, ex.Message + " Nothing was stored; run the command again.", ex);
            }

            if (signingKey == account.ApiKey)
            {
                // Some old accounts had both keys equal; accepting it would put the API key where signing keys live.
                throw new TenantOperationException(TenantProblem.Refused,
                    "Mailgun's webhook signing key of this account equals its API key: rotate the signing key in Mailgun's dashboard (Sending > Webhooks) first. Nothing was stored.");
            }
        }

        foreach (var domain in domains)
        {
            bool exists;
            try
            {
                exists = await _api.DomainExistsAsync(new MailgunDomain(domain.Name, domain.Region, account with { Region = domain.Region }), cancellationToken).ConfigureAwait(false);
            }
            catch (MailgunApiException ex) when (ex.IsAuthenticationFailure)
            {
                // Mailgun answers a domain of another account, or of the other region, with 401/403 as often as 404.
                exists = false;
            }
            catch (MailgunApiException ex)
            {
                throw new TenantOperationException(TenantProblem.MailgunUnavailable, ex.Message + " Nothing was stored; run the command again.", ex);
            }

            if (!exists)
            {
                throw new TenantOperationException(TenantProblem.DomainUnknown,
                    $"the Mailgun account has no domain '{domain.Name}' in the {TenantRegistry.RegionName(domain.Region)} region: check the name and the region (--region eu for EU domains). Nothing was stored.");
            }
        }

        return signingKey;
    }

    private async Task CheckOwnershipAsync(string id, IReadOnlyList<TenantDomain> domains, CancellationToken cancellationToken)
    {
        foreach (var domain in domains)
        {
            if (await _registry.TenantOfDomainAsync(domain.Name, cancellationToken).ConfigureAwait(false) is { } owner && owner != id
                && (await _registry.GetAsync(owner, cancellationToken).ConfigureAwait(false))?.Domain(domain.Name) is not null)
            {
                throw new TenantOperationException(TenantProblem.DomainTaken, new DomainTakenException(domain.Name, owner).Message + ". Nothing was stored.");
            }

            if (_directory.Implicit is { } single && single.OwnsDomain(domain.Name))
            {
                throw new TenantOperationException(TenantProblem.DomainTaken,
                    $"domain '{domain.Name}' is the single-account tenant's ({MailgunApiOptions.Section}__Domains): remove it from the settings first. Nothing was stored.");
            }
        }
    }

    /// <summary>
    /// Webhooks of <paramref name="domains"/> and the reply route of each of <paramref name="regions"/>, with the tenant's
    /// URLs. A failure leaves the registry as it is and says what is missing and that running the command again completes it.
    /// </summary>
    private async Task<MailgunSideReport> SetUpMailgunAsync(Tenant tenant, IReadOnlyList<string> domains, IReadOnlyList<MailgunRegion> regions, string? functionKey,
        string actor, string command, CancellationToken cancellationToken)
    {
        var app = tenant.AppUrl!;
        var events = TenantUrls.WithFunctionKey(TenantUrls.Events(app, tenant.Id), functionKey);
        var inbound = TenantUrls.WithFunctionKey(TenantUrls.Inbound(app, tenant.Id), functionKey);
        var webhooks = new List<DomainWebhooks>();
        var routes = new List<RegionRoute>();
        var steps = domains.Select(d => $"webhooks of {d}").Concat(regions.Select(r => $"reply route ({TenantRegistry.RegionName(r)})")).ToList();
        string stored = tenant.State == TenantState.Connected
            ? "the tenant is stored"
            : $"tenant '{tenant.Id}' is stored (state {TenantRegistry.StateName(tenant.State)}; its events already verify)";
        try
        {
            await RunMailgunStepsAsync(tenant.Id, stored, command, async () =>
            {
                foreach (string name in domains)
                {
                    var domain = tenant.Domain(name)!;
                    webhooks.Add(new DomainWebhooks(name, await _setup.SetWebhooksAsync(tenant.MailgunDomain(domain), events, replace: false, cancellationToken).ConfigureAwait(false)));
                    steps.Remove($"webhooks of {name}");
                }

                foreach (var region in regions)
                {
                    var account = tenant.Account(region);
                    var inRegion = tenant.Domains.Where(d => d.Region == region).Select(d => d.Name).ToList();
                    var route = await ReplyRouteAsync(tenant, account, inRegion, inbound, cancellationToken).ConfigureAwait(false);
                    routes.Add(new RegionRoute(region, await _setup.SetRouteAsync(account, route, cancellationToken).ConfigureAwait(false)));
                    steps.Remove($"reply route ({TenantRegistry.RegionName(region)})");
                }
            }, cancellationToken, () => steps).ConfigureAwait(false);
        }
        catch (TenantOperationException)
        {
            // What was done before the failure is audited too.
            await AuditMailgunAsync(tenant.Id, actor, "mailgun-setup", new MailgunSideReport(webhooks, routes, []), CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        var report = new MailgunSideReport(webhooks, routes, []);
        await AuditMailgunAsync(tenant.Id, actor, "mailgun-setup", report, cancellationToken).ConfigureAwait(false);
        return report;
    }

    /// <summary>
    /// The tenant's reply route for some domains: the route's current priority is kept when it exists (an operator may
    /// have moved it), else <see cref="MailgunSetup.DefaultRoutePriority"/>.
    /// </summary>
    private async Task<MailgunRoute> ReplyRouteAsync(Tenant tenant, MailgunAccount account, IReadOnlyList<string> domains, Uri inbound, CancellationToken cancellationToken)
    {
        string description = MailgunSetup.TenantRouteDescription(tenant.Id);
        var current = (await _api.ListRoutesAsync(account, cancellationToken).ConfigureAwait(false)).FirstOrDefault(r => r.Description == description);
        var url = inbound;
        if (current is not null && inbound.Query.Length == 0)
        {
            // No function key given this time (remove-domain): keep the URL the route forwards to, key and all.
            url = current.Actions.Select(MailgunRoute.ForwardTarget).OfType<Uri>().FirstOrDefault(u => MailgunSetup.SameEndpoint(u.AbsoluteUri, inbound)) ?? inbound;
        }

        return MailgunSetup.ReplyRoute(description, domains, url, current?.Priority ?? MailgunSetup.DefaultRoutePriority);
    }

    /// <summary>Without the app URL: the route keeps forwarding where it does, matching only the remaining domains.</summary>
    private async Task<RoutePlan> KeepRouteWithoutAsync(MailgunAccount account, string tenant, IReadOnlyList<string> rest, CancellationToken cancellationToken)
    {
        string description = MailgunSetup.TenantRouteDescription(tenant);
        var current = (await _api.ListRoutesAsync(account, cancellationToken).ConfigureAwait(false)).FirstOrDefault(r => r.Description == description);
        if (current?.Actions.Select(MailgunRoute.ForwardTarget).OfType<Uri>().FirstOrDefault() is not { } target)
        {
            return new RoutePlan("absent", null, new MailgunRoute(null, 0, description, "", []));
        }

        return await _setup.SetRouteAsync(account, MailgunSetup.ReplyRoute(description, rest, target, current.Priority), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs Mailgun calls; a failure becomes <see cref="TenantProblem.Incomplete"/> (or <see cref="TenantProblem.Refused"/>
    /// for a webhook without room for our URL) saying what is stored, what is missing, and to run the command again.
    /// </summary>
    private async Task RunMailgunStepsAsync(string tenant, string stored, string command, Func<Task> steps, CancellationToken cancellationToken, Func<IReadOnlyList<string>>? missing = null)
    {
        try
        {
            await steps().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MailgunApiException or WebhooksFullException && !cancellationToken.IsCancellationRequested)
        {
            string what = missing?.Invoke() is { Count: > 0 } left ? $" Not yet set up at Mailgun: {string.Join(", ", left)}." : "";
            TenantLog.MailgunSideIncomplete(_logger, ex, tenant, command);
            var problem = ex is WebhooksFullException ? TenantProblem.Refused : TenantProblem.Incomplete;
            throw new TenantOperationException(problem,
                $"{ex.Message.TrimEnd('.')}.{what} {Capitalized(stored)}; running the same command again (mailgun-ops {command}) completes it.", ex);
        }
    }

    private static async Task<T> MailgunAsync<T>(Func<Task<T>> call, string stored, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (MailgunApiException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TenantOperationException(ex.IsAuthenticationFailure ? TenantProblem.KeyRefused : TenantProblem.MailgunUnavailable, $"{ex.Message.TrimEnd('.')}. {Capitalized(stored)}.", ex);
        }
    }

    private async Task AuditMailgunAsync(string tenant, string actor, string action, MailgunSideReport report, CancellationToken cancellationToken)
    {
        if (report.ChangedSomething)
        {
            await _registry.AuditAsync(tenant, actor, action, report.Describe(), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<Tenant> SaveAsync(Tenant tenant, string actor, string action, CancellationToken cancellationToken)
    {
        try
        {
            var saved = await _registry.SaveAsync(tenant, actor, action, cancellationToken).ConfigureAwait(false);
            return saved;
        }
        catch (DomainTakenException ex)
        {
            throw new TenantOperationException(TenantProblem.DomainTaken, ex.Message, ex);
        }
        finally
        {
            // This process sees the change at once; other instances within Tenants:CacheLifetime.
            _directory.Forget(tenant.Id);
        }
    }

    private async Task<Tenant> ExistingAsync(string tenantId, CancellationToken cancellationToken)
    {
        string id = ValidTenantId(tenantId);
        return await _registry.GetAsync(id, cancellationToken).ConfigureAwait(false)
            ?? throw new TenantOperationException(TenantProblem.NotFound, $"no tenant '{id}' in the registry: see mailgun-ops tenant list");
    }

    private async Task<Tenant> ConnectedTenantAsync(string tenantId, string what, CancellationToken cancellationToken)
    {
        var tenant = await ExistingAsync(tenantId, cancellationToken).ConfigureAwait(false);
        if (tenant.State == TenantState.Disconnected || tenant.ApiKey is not { Length: > 0 })
        {
            throw new TenantOperationException(TenantProblem.Refused, $"tenant '{tenant.Id}' is disconnected: connect it again (mailgun-ops tenant connect) to {what}");
        }

        return tenant;
    }

    private static IEnumerable<IGrouping<MailgunRegion, TenantDomain>> ByRegion(IEnumerable<TenantDomain> domains) => domains.GroupBy(d => d.Region).OrderBy(g => g.Key);

    private static string ValidTenantId(string? id) =>
        TenantId.Parse(id) ?? throw new TenantOperationException(TenantProblem.Invalid, TenantId.Problem(id));

    private static string ValidDomain(string? name) =>
        SendingDomain.Normalize(name) ?? throw new TenantOperationException(TenantProblem.Invalid, $"'{name}' is not a domain name like mg.example.com");

    private static string ConnectKeyHint(string id) => $"the API key given to mailgun-ops tenant connect --tenant {id} (the account's private API key)";

    private static string Capitalized(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
