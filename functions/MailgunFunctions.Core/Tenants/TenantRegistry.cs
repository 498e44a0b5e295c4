using System.Globalization;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Storage;
using Newtonsoft.Json;

namespace MailgunFunctions.Tenants;

/// <summary>A tenant as listed: no secret is opened.</summary>
public sealed record TenantSummary(string Id, string DisplayName, TenantState State, IReadOnlyList<TenantDomain> Domains, IReadOnlyList<string> SigningKeyIds,
    bool HasApiKey, string? ParentAccount, int Shard, DateTimeOffset UpdatedAt, int? MovingTo = null);

/// <summary>One change to a tenant: who, when, what (field names and plain values; secrets only as "changed").</summary>
public sealed record TenantAuditRecord(string Tenant, DateTimeOffset At, string Actor, string Action, string Detail);

/// <summary>A parent (primary) Mailgun account whose signing key signs <c>parent-signature</c> for its subaccounts.</summary>
public sealed record ParentAccount(string Id, MailgunRegion Region, string? ApiKey, IReadOnlyList<TenantSigningKey> SigningKeys, DateTimeOffset UpdatedAt)
{
    /// <summary>Never prints a secret (the generated record text would show the API key).</summary>
    public override string ToString() => $"parent account {Id}";
}

/// <summary>The domain is registered to another tenant.</summary>
public sealed class DomainTakenException(string domain, string owner)
    : Exception($"domain '{domain}' belongs to tenant '{owner}': remove it there first (mailgun-ops tenant remove-domain --tenant {owner} --domain {domain})")
{
    public string Domain { get; } = domain;
    public string Owner { get; } = owner;
}

/// <summary>The tenant changed between our read and our write (another operator, another command): nothing was written.</summary>
public sealed class TenantChangedException(string tenant)
    : Exception($"tenant '{tenant}' was changed by someone else at the same time: nothing was written; run the command again");

/// <summary>
/// The tenant registry in Table Storage (<c>Tenants</c>, <c>TenantDomains</c>, <c>TenantAudit</c>, <c>MailgunParentAccounts</c>).
/// Secrets are sealed with <see cref="SecretBox"/> before they are written and opened only when a tenant is read with them;
/// every change writes an audit record. Writes are conditional on the version read, so two operators never overwrite
/// each other. There is no transaction across tables: a save claims new domains first, then writes the tenant, then
/// releases domains it lost, so a stop in between leaves at most a claim that a rerun of the same command completes or
/// that names a tenant without that domain (harmless: lookups check the tenant's own list).
/// </summary>
public sealed class TenantRegistry
{
    private const string ApiKeyField = "ApiKey";
    private const string SigningKeysField = "SigningKeys";
    private const string NotificationSecretField = "NotificationSecret";
    private static readonly JsonSerializerSettings Json = new() { DateParseHandling = DateParseHandling.DateTimeOffset };

    private readonly TableClient _tenants;
    private readonly TableClient _domains;
    private readonly TableClient _audit;
    private readonly TableClient _parents;
    private readonly CreateOnce _created;
    private readonly SecretBox _secrets;
    private readonly TimeProvider _time;

    public TenantRegistry(HomeStorage storage, SecretBox secrets, TimeProvider time)
    {
        _tenants = storage.Tables.GetTableClient(StorageNames.TenantsTable);
        _domains = storage.Tables.GetTableClient(StorageNames.TenantDomainsTable);
        _audit = storage.Tables.GetTableClient(StorageNames.TenantAuditTable);
        _parents = storage.Tables.GetTableClient(StorageNames.ParentAccountsTable);
        _created = new CreateOnce(async ct =>
        {
            foreach (var table in new[] { _tenants, _domains, _audit, _parents })
            {
                await table.CreateIfNotExistsAsync(ct).ConfigureAwait(false);
            }
        });
        _secrets = secrets;
        _time = time;
    }

    /// <summary>Whether the registry can be used at all (a key-encryption key is configured).</summary>
    public bool Enabled => _secrets.CanSeal;

    /// <summary>The tenant with its secrets opened, or null. One point read.</summary>
    public async Task<Tenant?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var row = await GetRowAsync(id, cancellationToken).ConfigureAwait(false);
        return row is null ? null : FromEntity(row);
    }

    /// <summary>Every tenant, without secrets (one scan of <c>Tenants</c>, all pages).</summary>
    public async IAsyncEnumerable<TenantSummary> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var e in _tenants.QueryAsync<TableEntity>(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return new TenantSummary(e.PartitionKey, e.GetString("DisplayName") ?? "", ParseState(e.GetString("State")), ReadDomains(e),
                JsonConvert.DeserializeObject<string[]>(e.GetString("SigningKeyIds") ?? "[]") ?? [], e.GetString(ApiKeyField) is { Length: > 0 },
                e.GetString("ParentAccount"), e.GetInt32("Shard") ?? 0, e.GetDateTimeOffset("UpdatedAt") ?? e.Timestamp ?? DateTimeOffset.MinValue,
                e.GetInt32("MovingTo"));
        }
    }

    /// <summary>The id of the tenant that registered <paramref name="domain"/>, or null. One point read.</summary>
    public async Task<string?> TenantOfDomainAsync(string domain, CancellationToken cancellationToken)
    {
        if (SendingDomain.Normalize(domain) is not { } name)
        {
            return null;
        }

        var claim = await _created.RunAsync(ct => _domains.GetEntityIfExistsAsync<TableEntity>(name, "", cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        return claim.HasValue ? claim.Value!.GetString("TenantId") : null;
    }

    /// <summary>
    /// Creates or updates a tenant: claims its new domains (refusing one another tenant owns), writes the row with its
    /// secrets sealed (conditional on the version read), releases domains it no longer has, and audits the change.
    /// </summary>
    public async Task<Tenant> SaveAsync(Tenant tenant, string actor, string action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        if (!TenantId.IsValid(tenant.Id))
        {
            throw new ArgumentException(TenantId.Problem(tenant.Id), nameof(tenant));
        }

        var domains = tenant.Domains.Select(d => d with { Name = SendingDomain.Normalize(d.Name) ?? throw new ArgumentException($"'{d.Name}' is not a domain name like mg.example.com", nameof(tenant)) })
            .DistinctBy(d => d.Name).ToList();
        DateTimeOffset now = _time.GetUtcNow();
        var existingRow = await GetRowAsync(tenant.Id, cancellationToken).ConfigureAwait(false);
        var before = existingRow is null ? null : FromEntity(existingRow);
        var saved = tenant with
        {
            Domains = domains,
            CreatedAt = before?.CreatedAt ?? now,
            UpdatedAt = now,
            IsImplicit = false,
        };

        foreach (var domain in domains.Where(d => before?.Domain(d.Name) is null))
        {
            await ClaimAsync(domain.Name, tenant.Id, now, cancellationToken).ConfigureAwait(false);
        }

        var entity = ToEntity(saved, actor);
        try
        {
            if (existingRow is null)
            {
                await _tenants.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _tenants.UpdateEntityAsync(entity, existingRow.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            throw new TenantChangedException(tenant.Id);
        }

        foreach (var lost in before?.Domains.Where(d => saved.Domain(d.Name) is null) ?? [])
        {
            await ReleaseAsync(lost.Name, tenant.Id, cancellationToken).ConfigureAwait(false);
        }

        await AuditAsync(tenant.Id, actor, action, Describe(before, saved), cancellationToken).ConfigureAwait(false);
        return saved;
    }

    /// <summary>Writes an audit record (also for actions that change Mailgun but not the row, e.g. a webhook set-up).</summary>
    public async Task AuditAsync(string tenant, string actor, string action, string detail, CancellationToken cancellationToken)
    {
        DateTimeOffset now = _time.GetUtcNow();
        string row = (DateTimeOffset.MaxValue.UtcTicks - now.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "_" + Guid.NewGuid().ToString("N")[..8];
        var entity = new TableEntity(tenant, row) { ["At"] = now, ["Actor"] = Cut(actor, 256), ["Action"] = Cut(action, 128), ["Detail"] = Cut(detail, 4000) };
        await _created.RunAsync(ct => _audit.AddEntityAsync(entity, ct), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The audit trail of a tenant, newest first.</summary>
    public async IAsyncEnumerable<TenantAuditRecord> AuditTrailAsync(string tenant, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var e in _audit.QueryAsync<TableEntity>(x => x.PartitionKey == tenant, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return new TenantAuditRecord(tenant, e.GetDateTimeOffset("At") ?? DateTimeOffset.MinValue, e.GetString("Actor") ?? "", e.GetString("Action") ?? "", e.GetString("Detail") ?? "");
        }
    }

    /// <summary>
    /// Which key-encryption key sealed each secret of a tenant (field name to KEK id), for <c>tenant show</c>: nothing is
    /// opened. Empty when the tenant does not exist.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> SealedWithAsync(string id, CancellationToken cancellationToken)
    {
        var row = await GetRowAsync(id, cancellationToken).ConfigureAwait(false);
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string field in new[] { ApiKeyField, SigningKeysField, NotificationSecretField })
        {
            if (row?.GetString(field) is { Length: > 0 } sealedText)
            {
                result[field] = SecretBox.KeyIdOf(sealedText);
            }
        }

        return result;
    }

    public async Task<ParentAccount?> GetParentAsync(string id, CancellationToken cancellationToken)
    {
        var found = await _created.RunAsync(ct => _parents.GetEntityIfExistsAsync<TableEntity>(id, "", cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        if (!found.HasValue)
        {
            return null;
        }

        var e = found.Value!;
        string scope = ParentScope(id);
        return new ParentAccount(id, ParseRegion(e.GetString("Region")), e.GetString(ApiKeyField) is { Length: > 0 } k ? _secrets.Open(scope, ApiKeyField, k) : null,
            OpenSigningKeys(scope, e.GetString(SigningKeysField)), e.GetDateTimeOffset("UpdatedAt") ?? DateTimeOffset.MinValue);
    }

    public async Task SaveParentAsync(ParentAccount parent, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parent);
        if (!TenantId.IsValid(parent.Id))
        {
            throw new ArgumentException(TenantId.Problem(parent.Id), nameof(parent));
        }

        string scope = ParentScope(parent.Id);
        var entity = new TableEntity(parent.Id, "")
        {
            ["Region"] = RegionName(parent.Region),
            [ApiKeyField] = parent.ApiKey is { Length: > 0 } key ? _secrets.Seal(scope, ApiKeyField, key) : null,
            [SigningKeysField] = _secrets.Seal(scope, SigningKeysField, JsonConvert.SerializeObject(parent.SigningKeys)),
            ["SigningKeyIds"] = JsonConvert.SerializeObject(parent.SigningKeys.Select(k => k.Id)),
            ["UpdatedAt"] = _time.GetUtcNow(),
        };
        await _created.RunAsync(ct => _parents.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct), cancellationToken).ConfigureAwait(false);
        await AuditAsync(scope, actor, "parent-account-saved", $"region: {RegionName(parent.Region)}; signing keys: {string.Join(",", parent.SigningKeys.Select(k => k.Id))}; api key: {(parent.ApiKey is null ? "none" : "set")}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Re-seals every data key with the active key-encryption key (after a KEK rotation). Values are never decrypted;
    /// returns the number of rows rewritten. Rows changed meanwhile are skipped and counted in the second number.
    /// </summary>
    public async Task<(int Rewrapped, int Skipped)> RewrapAsync(string actor, CancellationToken cancellationToken)
    {
        int rewrapped = 0, skipped = 0;
        foreach (var (table, scopeOf) in new (TableClient, Func<string, string>)[] { (_tenants, id => id), (_parents, ParentScope) })
        {
            await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
            await foreach (var e in table.QueryAsync<TableEntity>(cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                bool changed = false;
                foreach (string field in new[] { ApiKeyField, SigningKeysField, NotificationSecretField })
                {
                    if (e.GetString(field) is { Length: > 0 } sealedText && SecretBox.KeyIdOf(sealedText) != _secrets.ActiveKeyId)
                    {
                        e[field] = _secrets.Rewrap(scopeOf(e.PartitionKey), field, sealedText);
                        changed = true;
                    }
                }

                if (!changed)
                {
                    continue;
                }

                try
                {
                    await table.UpdateEntityAsync(e, e.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                    await AuditAsync(scopeOf(e.PartitionKey), actor, "secrets-rewrapped", $"data keys sealed with key-encryption key '{_secrets.ActiveKeyId}'", cancellationToken).ConfigureAwait(false);
                    rewrapped++;
                }
                catch (RequestFailedException ex) when (ex.Status == 412)
                {
                    skipped++;
                }
            }
        }

        return (rewrapped, skipped);
    }

    private async Task<TableEntity?> GetRowAsync(string id, CancellationToken cancellationToken)
    {
        if (!TenantId.IsValid(id))
        {
            return null;
        }

        var found = await _created.RunAsync(ct => _tenants.GetEntityIfExistsAsync<TableEntity>(id, "", cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        return found.HasValue ? found.Value : null;
    }

    private async Task ClaimAsync(string domain, string tenant, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            await _created.RunAsync(ct => _domains.AddEntityAsync(new TableEntity(domain, "") { ["TenantId"] = tenant, ["ClaimedAt"] = now }, ct), cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            var owner = (await _domains.GetEntityAsync<TableEntity>(domain, "", cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            string? ownerId = owner.GetString("TenantId");
            if (ownerId == tenant)
            {
                return;
            }

            // A claim left by a save that stopped before writing its tenant, or by a tenant that no longer lists the domain, is free.
            var ownerTenant = ownerId is null ? null : await GetAsync(ownerId, cancellationToken).ConfigureAwait(false);
            if (ownerTenant?.Domain(domain) is not null)
            {
                throw new DomainTakenException(domain, ownerId!);
            }

            owner["TenantId"] = tenant;
            owner["ClaimedAt"] = now;
            try
            {
                await _domains.UpdateEntityAsync(owner, owner.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException conflict) when (conflict.Status == 412)
            {
                throw new TenantChangedException(tenant);
            }
        }
    }

    private async Task ReleaseAsync(string domain, string tenant, CancellationToken cancellationToken)
    {
        var claim = await _domains.GetEntityIfExistsAsync<TableEntity>(domain, "", cancellationToken: cancellationToken).ConfigureAwait(false);
        if (claim.HasValue && claim.Value!.GetString("TenantId") == tenant)
        {
            try
            {
                await _domains.DeleteEntityAsync(domain, "", claim.Value.ETag, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                // Gone or claimed by another tenant meanwhile: not ours to delete any more.
            }
        }
    }

    private TableEntity ToEntity(Tenant t, string actor) => new(t.Id, "")
    {
        ["DisplayName"] = t.DisplayName,
        ["Region"] = RegionName(t.Region),
        ["Domains"] = JsonConvert.SerializeObject(t.Domains.Select(d => new DomainJson { Name = d.Name, Region = RegionName(d.Region) })),
        ["State"] = StateName(t.State),
        [ApiKeyField] = t.ApiKey is { Length: > 0 } key ? _secrets.Seal(t.Id, ApiKeyField, key) : null,
        [SigningKeysField] = _secrets.Seal(t.Id, SigningKeysField, JsonConvert.SerializeObject(t.SigningKeys, Json)),
        ["SigningKeyIds"] = JsonConvert.SerializeObject(t.SigningKeys.Select(k => k.Id)),
        ["ParentAccount"] = t.ParentAccount,
        ["MailgunAccountId"] = t.MailgunAccountId,
        ["AppUrl"] = t.AppUrl?.AbsoluteUri,
        ["NotificationUrl"] = t.Notifications?.Url?.AbsoluteUri,
        [NotificationSecretField] = t.Notifications?.Secret is { Length: > 0 } secret ? _secrets.Seal(t.Id, NotificationSecretField, secret) : null,
        ["BrandName"] = t.BrandName,
        ["BrandLogoUrl"] = t.BrandLogoUrl?.AbsoluteUri,
        ["UseMailgunValidation"] = t.UseMailgunValidation,
        ["Shard"] = t.Shard,
        ["MovingTo"] = t.MovingTo,
        ["MovedFrom"] = t.MovedFrom,
        ["CreatedAt"] = t.CreatedAt,
        ["UpdatedAt"] = t.UpdatedAt,
        ["UpdatedBy"] = Cut(actor, 256),
    };

    private Tenant FromEntity(TableEntity e)
    {
        string id = e.PartitionKey;
        string? url = e.GetString("NotificationUrl");
        string? secret = e.GetString(NotificationSecretField) is { Length: > 0 } s ? _secrets.Open(id, NotificationSecretField, s) : null;
        return new Tenant
        {
            Id = id,
            DisplayName = e.GetString("DisplayName") ?? "",
            Region = ParseRegion(e.GetString("Region")),
            Domains = ReadDomains(e),
            State = ParseState(e.GetString("State")),
            ApiKey = e.GetString(ApiKeyField) is { Length: > 0 } k ? _secrets.Open(id, ApiKeyField, k) : null,
            SigningKeys = OpenSigningKeys(id, e.GetString(SigningKeysField)),
            ParentAccount = e.GetString("ParentAccount"),
            MailgunAccountId = e.GetString("MailgunAccountId"),
            AppUrl = e.GetString("AppUrl") is { Length: > 0 } app ? new Uri(app) : null,
            Notifications = url is null && secret is null ? null : new TenantNotifications(url is null ? null : new Uri(url), secret),
            BrandName = e.GetString("BrandName"),
            BrandLogoUrl = e.GetString("BrandLogoUrl") is { Length: > 0 } logo ? new Uri(logo) : null,
            UseMailgunValidation = e.GetBoolean("UseMailgunValidation") ?? false,
            Shard = e.GetInt32("Shard") ?? 0,
            MovingTo = e.GetInt32("MovingTo"),
            MovedFrom = e.GetInt32("MovedFrom"),
            CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
            UpdatedAt = e.GetDateTimeOffset("UpdatedAt") ?? DateTimeOffset.MinValue,
        };
    }

    private IReadOnlyList<TenantSigningKey> OpenSigningKeys(string scope, string? sealedText) =>
        sealedText is { Length: > 0 } ? JsonConvert.DeserializeObject<List<TenantSigningKey>>(_secrets.Open(scope, SigningKeysField, sealedText), Json) ?? [] : [];

    private static List<TenantDomain> ReadDomains(TableEntity e) =>
        (JsonConvert.DeserializeObject<List<DomainJson>>(e.GetString("Domains") ?? "[]") ?? []).Select(d => new TenantDomain(d.Name, ParseRegion(d.Region))).ToList();

    /// <summary>Secrets of a parent account are sealed under a scope no tenant id can have (':' is not allowed in ids).</summary>
    private static string ParentScope(string id) => "parent:" + id;

    /// <summary>What changed, for the audit: field names with plain values; secrets only as added/removed/changed, key ids never with their keys.</summary>
    internal static string Describe(Tenant? before, Tenant after)
    {
        if (before is null)
        {
            return $"created: state {StateName(after.State)}; region {RegionName(after.Region)}; domains {string.Join(",", after.Domains.Select(d => d.Name))}; " +
                $"signing keys {string.Join(",", after.SigningKeys.Select(k => k.Id))}; api key {(after.ApiKey is null ? "none" : "set")}" +
                (after.ParentAccount is null ? "" : $"; parent account {after.ParentAccount}");
        }

        var parts = new List<string>();
        void Plain(string name, object? a, object? b)
        {
            if (!Equals(a, b))
            {
                parts.Add($"{name}: {a ?? "none"} -> {b ?? "none"}");
            }
        }

        Plain("display name", before.DisplayName, after.DisplayName);
        Plain("state", StateName(before.State), StateName(after.State));
        Plain("region", RegionName(before.Region), RegionName(after.Region));
        Plain("parent account", before.ParentAccount, after.ParentAccount);
        Plain("mailgun account id", before.MailgunAccountId, after.MailgunAccountId);
        Plain("app url", before.AppUrl?.AbsoluteUri, after.AppUrl?.AbsoluteUri);
        Plain("notification url", before.Notifications?.Url is { } was ? UrlMask.Mask(was) : null, after.Notifications?.Url is { } now ? UrlMask.Mask(now) : null);
        Plain("brand", before.BrandName, after.BrandName);
        Plain("brand logo", before.BrandLogoUrl?.AbsoluteUri, after.BrandLogoUrl?.AbsoluteUri);
        Plain("mailgun validation", before.UseMailgunValidation, after.UseMailgunValidation);
        Plain("shard", before.Shard, after.Shard);
        Plain("moving to shard", before.MovingTo, after.MovingTo);
        Plain("source rows left on shard", before.MovedFrom, after.MovedFrom);
        var added = after.Domains.Where(d => before.Domain(d.Name) is null).Select(d => "+" + d.Name);
        var removed = before.Domains.Where(d => after.Domain(d.Name) is null).Select(d => "-" + d.Name);
        if (added.Concat(removed).ToList() is { Count: > 0 } domainChanges)
        {
            parts.Add("domains: " + string.Join(" ", domainChanges));
        }

        var keysAdded = after.SigningKeys.Where(k => !before.SigningKeys.Any(b => b.Id == k.Id && b.Secret == k.Secret)).Select(k => "+" + k.Id);
        var keysRemoved = before.SigningKeys.Where(k => !after.SigningKeys.Any(a => a.Id == k.Id && a.Secret == k.Secret)).Select(k => "-" + k.Id);
        if (keysAdded.Concat(keysRemoved).ToList() is { Count: > 0 } keyChanges)
        {
            parts.Add("signing keys: " + string.Join(" ", keyChanges));
        }

        var retired = after.SigningKeys.Where(k => k.RetiredAt is not null && before.SigningKeys.Any(b => b.Id == k.Id && b.Secret == k.Secret && b.RetiredAt is null)).Select(k => k.Id).ToList();
        if (retired.Count > 0)
        {
            parts.Add("signing keys retired: " + string.Join(" ", retired));
        }

        if (before.ApiKey != after.ApiKey)
        {
            parts.Add("api key: " + (after.ApiKey is null ? "removed" : before.ApiKey is null ? "set" : "changed"));
        }

        if (before.Notifications?.Secret != after.Notifications?.Secret)
        {
            parts.Add("notification secret: " + (after.Notifications?.Secret is null ? "removed" : "changed"));
        }

        return parts.Count == 0 ? "no change" : string.Join("; ", parts);
    }

    /// <summary>The product's name of a region: <c>us</c> or <c>eu</c>.</summary>
    public static string RegionName(MailgunRegion region) => region == MailgunRegion.Eu ? "eu" : "us";

    internal static MailgunRegion ParseRegion(string? name) => string.Equals(name, "eu", StringComparison.OrdinalIgnoreCase) ? MailgunRegion.Eu : MailgunRegion.Us;

    /// <summary>The product's name of a state: <c>connecting</c>, <c>connected</c> or <c>disconnected</c>.</summary>
    public static string StateName(TenantState state) => state switch
    {
        TenantState.Connecting => "connecting",
        TenantState.Disconnected => "disconnected",
        _ => "connected",
    };

    private static TenantState ParseState(string? name) => name switch
    {
        "connecting" => TenantState.Connecting,
        "disconnected" => TenantState.Disconnected,
        _ => TenantState.Connected,
    };

    private static string Cut(string s, int length) => s.Length > length ? s[..length] : s;

    private sealed class DomainJson
    {
        [JsonProperty("name")]
        public string Name { get; set; } = "";

        [JsonProperty("region")]
        public string Region { get; set; } = "us";
    }
}
