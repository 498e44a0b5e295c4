using MailgunFunctions.Ingestion;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Settings;
using MailgunFunctions.Signatures;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Tenants;

/// <summary>
/// A tenant as the webhooks and processors use it: the registry's record, and its signing keys ready to verify. The
/// parent account's keys are present only when the tenant trusts <c>parent-signature</c>.
/// </summary>
public sealed class ResolvedTenant(Tenant tenant, SignatureVerifier keys, SignatureVerifier? parentKeys)
{
    public Tenant Tenant { get; } = tenant;

    public string Id => Tenant.Id;

    /// <summary>The tenant's own webhook signing keys (checked against <c>signature.signature</c>).</summary>
    public SignatureVerifier Keys { get; } = keys;

    /// <summary>The parent account's keys (checked against <c>signature.parent-signature</c>), or null when the tenant does not trust them.</summary>
    public SignatureVerifier? ParentKeys { get; } = parentKeys;

    /// <summary>Whether <paramref name="domain"/> is one of the tenant's sending domains.</summary>
    public bool OwnsDomain(string? domain) => Tenant.Domain(domain) is not null;
}

/// <summary>
/// Finds tenants for the hot paths, cached: the single-account tenant (from settings, always in memory) and the registry's
/// tenants (one point read per tenant and instance per <see cref="TenantsOptions.CacheLifetime"/>, which is the bound
/// within which a rotation, a disconnect or a domain change reaches every instance). The cache is bounded
/// (<see cref="TenantsOptions.CacheSize"/>); unknown ids are remembered briefly so a flood of them does not reach storage.
/// </summary>
public sealed class TenantDirectory : IDisposable
{
    private readonly TenantRegistry _registry;
    private readonly TenantsOptions _options;
    private readonly WebhookOptions _webhooks;
    private readonly TimeProvider _time;
    private readonly ILogger<TenantDirectory> _logger;
    private readonly MemoryCache _cache;

    public TenantDirectory(TenantRegistry registry, IOptions<TenantsOptions> options, IOptions<MailgunOptions> account, IOptions<MailgunApiOptions> api,
        IOptions<WebhookOptions> webhooks, TimeProvider time, ILogger<TenantDirectory> logger)
    {
        _registry = registry;
        _options = options.Value;
        _webhooks = webhooks.Value;
        _time = time;
        _logger = logger;
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = _options.CacheSize, Clock = new CacheClock(time), CompactionPercentage = 0.1 });
        Implicit = ImplicitTenant(_options.DefaultTenantId, account.Value, api.Value);
    }

    /// <summary>
    /// The tenant made from the single-account settings (signing keys, API key, domains), or null when none of them is
    /// set. Served by the URLs without a tenant and under <see cref="TenantsOptions.DefaultTenantId"/>.
    /// </summary>
    public ResolvedTenant? Implicit { get; }

    public string DefaultTenantId => _options.DefaultTenantId;

    /// <summary>
    /// The tenant with this id, or null when there is none. Throws when the registry cannot be read (storage down, a
    /// secret that does not open): callers answer 503 so Mailgun retries.
    /// </summary>
    public async ValueTask<ResolvedTenant?> FindAsync(string? id, CancellationToken cancellationToken)
    {
        if (Implicit is not null && string.Equals(id, Implicit.Id, StringComparison.Ordinal))
        {
            return Implicit;
        }

        if (!TenantId.IsValid(id) || !_registry.Enabled)
        {
            return null;
        }

        if (_cache.TryGetValue(id, out Lazy<Task<ResolvedTenant?>>? cached) && cached is not null)
        {
            return await AwaitAsync(id, cached).ConfigureAwait(false);
        }

        var load = new Lazy<Task<ResolvedTenant?>>(() => LoadAsync(id));
        var entry = _cache.GetOrCreate(id, e =>
        {
            e.Size = 1;
            return load;
        })!;
        var tenant = await AwaitAsync(id, entry).ConfigureAwait(false);
        // Set the lifetime once the answer is known: unknown ids are kept for a shorter time.
        if (ReferenceEquals(entry, load))
        {
            _cache.Set(id, entry, new MemoryCacheEntryOptions
            {
                Size = 1,
                AbsoluteExpirationRelativeToNow = tenant is null ? _options.UnknownTenantCacheLifetime : _options.CacheLifetime,
            });
        }

        return tenant;
    }

    /// <summary>The tenant that registered <paramref name="domain"/> (the single-account tenant's domains first), or null.</summary>
    public async ValueTask<ResolvedTenant?> FindByDomainAsync(string? domain, CancellationToken cancellationToken)
    {
        if (SendingDomain.Normalize(domain) is not { } name)
        {
            return null;
        }

        if (Implicit?.OwnsDomain(name) == true)
        {
            return Implicit;
        }

        if (!_registry.Enabled)
        {
            return null;
        }

        string key = "domain:" + name;
        if (!_cache.TryGetValue(key, out string? owner))
        {
            owner = await _registry.TenantOfDomainAsync(name, cancellationToken).ConfigureAwait(false) ?? "";
            _cache.Set(key, owner, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = owner.Length == 0 ? _options.UnknownTenantCacheLifetime : _options.CacheLifetime });
        }

        var tenant = owner is { Length: > 0 } ? await FindAsync(owner, cancellationToken).ConfigureAwait(false) : null;
        return tenant?.OwnsDomain(name) == true ? tenant : null;
    }

    /// <summary>Forgets what this instance cached about a tenant (the CLI after a change; other instances wait for the lifetime).</summary>
    public void Forget(string id) => _cache.Remove(id);

    public void Dispose() => _cache.Dispose();

    private async Task<ResolvedTenant?> AwaitAsync(string id, Lazy<Task<ResolvedTenant?>> entry)
    {
        try
        {
            return await entry.Value.ConfigureAwait(false);
        }
        catch
        {
            // A failed read is not remembered: the next request tries storage again.
            _cache.Remove(id);
            throw;
        }
    }

    private async Task<ResolvedTenant?> LoadAsync(string id)
    {
        // Not the caller's token: the load is shared by every request waiting for this tenant.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30), _time);
        var tenant = await _registry.GetAsync(id, timeout.Token).ConfigureAwait(false);
        if (tenant is null)
        {
            return null;
        }

        SignatureVerifier? parentKeys = null;
        if (tenant.ParentAccount is { Length: > 0 } parentId)
        {
            var parent = await _registry.GetParentAsync(parentId, timeout.Token).ConfigureAwait(false);
            if (parent is null)
            {
                TenantLog.ParentAccountMissing(_logger, id, parentId);
            }
            else
            {
                parentKeys = new SignatureVerifier(parent.SigningKeys.Where(k => k.VerifiesAt(_time.GetUtcNow(), _webhooks.MaxSignatureAge))
                    .Select(k => new SigningKey("parent:" + parentId + ":" + k.Id, k.Secret)));
            }
        }

        // A key retired by a rotation verifies for Webhooks:MaxSignatureAge more (Mailgun's retries carry the original
        // signature), then no longer; a cached tenant keeps it at most Tenants:CacheLifetime longer.
        var keys = tenant.VerifyingKeys(_time.GetUtcNow(), _webhooks.MaxSignatureAge);
        return new ResolvedTenant(tenant, new SignatureVerifier(keys.Select(k => new SigningKey(k.Id, k.Secret))), parentKeys);
    }

    private static ResolvedTenant? ImplicitTenant(string id, MailgunOptions account, MailgunApiOptions api)
    {
        var keys = account.Keys.ToList();
        if (keys.Count == 0 && string.IsNullOrWhiteSpace(account.ApiKey) && api.Domains.Count == 0)
        {
            return null;
        }

        var domains = api.Domains.Where(d => SendingDomain.IsValid(d.Name)).Select(d => new TenantDomain(d.Name.Trim().ToLowerInvariant(), d.Region)).ToList();
        var tenant = new Tenant
        {
            Id = id,
            DisplayName = domains.FirstOrDefault()?.Name ?? id,
            Region = domains.FirstOrDefault()?.Region ?? MailgunRegion.Us,
            Domains = domains,
            State = TenantState.Connected,
            ApiKey = string.IsNullOrWhiteSpace(account.ApiKey) ? null : account.ApiKey.Trim(),
            SigningKeys = keys.Select(k => new TenantSigningKey(k.Id, k.Secret, DateTimeOffset.MinValue)).ToList(),
            IsImplicit = true,
        };
        return new ResolvedTenant(tenant, new SignatureVerifier(keys), null);
    }

#pragma warning disable CS0618 // MemoryCache still asks for ISystemClock; this adapts the injected TimeProvider.
    private sealed class CacheClock(TimeProvider time) : Microsoft.Extensions.Internal.ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
#pragma warning restore CS0618
}
