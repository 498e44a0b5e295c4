using MailgunFunctions.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace MailgunFunctions.Tenants;

/// <summary>
/// The K storage shards (docs/scaling.md) and the services bound to each. Shard 0 is the home account and its services are
/// the application's own container; shard k &gt; 0 has a container of the Core's services of its own, built on first use,
/// whose <see cref="StorageClients"/> is the account in <c>StorageShard{k}</c> and which shares with the home container
/// what is deployment-wide (the tenant registry and its cache, <see cref="HomeStorage"/>, the clock, metrics, logging).
/// A service resolved from a shard's container reads and writes that shard only, so code below this class never needs
/// to know which shard it serves: the webhooks, the per-shard queue triggers, the timers, the API and the CLI pick the
/// container, by the tenant's recorded <see cref="Tenant.Shard"/>, and nothing else does.
/// </summary>
public sealed class TenantShards : IAsyncDisposable, IDisposable
{
    private readonly IServiceProvider _home;
    private readonly Lazy<ServiceProvider>[] _others;

    /// <param name="home">The application's own container (shard 0).</param>
    /// <param name="count">K, from Storage:Shards.</param>
    /// <param name="build">Builds the container of shard k &gt; 0 (CoreRegistration).</param>
    public TenantShards(IServiceProvider home, int count, Func<int, ServiceProvider> build)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, StorageNames.MaxShards);
        _home = home;
        Count = count;
        _others = Enumerable.Range(1, count - 1).Select(k => new Lazy<ServiceProvider>(() => build(k), LazyThreadSafetyMode.ExecutionAndPublication)).ToArray();
    }

    /// <summary>K.</summary>
    public int Count { get; }

    /// <summary>The services of one shard. Throws <see cref="ShardNotConfiguredException"/> for a shard past K.</summary>
    public IServiceProvider Services(int shard) =>
        shard == 0 ? _home
        : shard > 0 && shard < Count ? _others[shard - 1].Value
        : throw new ShardNotConfiguredException(shard, Count);

    /// <summary>Every shard's services, home first (for timers and operators' views across tenants).</summary>
    public IEnumerable<(int Shard, IServiceProvider Services)> All => Enumerable.Range(0, Count).Select(k => (k, Services(k)));

    /// <summary>
    /// The services of the shard holding <paramref name="tenant"/>: its recorded shard, or home for a tenant the registry
    /// does not know (the single-account tenant, or an unknown id, which the service called then rejects as it always did).
    /// Throws when the registry cannot be read, and <see cref="ShardNotConfiguredException"/> when the tenant's shard is past K.
    /// </summary>
    public async ValueTask<IServiceProvider> ForTenantAsync(string? tenant, CancellationToken cancellationToken)
    {
        if (Count == 1 || string.IsNullOrEmpty(tenant))
        {
            return _home;
        }

        var found = await _home.GetRequiredService<TenantDirectory>().FindAsync(tenant, cancellationToken).ConfigureAwait(false);
        return Services(found?.Tenant.Shard ?? 0);
    }

    /// <summary>
    /// The shard holding <paramref name="tenant"/> when it is not <paramref name="here"/>: where a processor on shard
    /// <paramref name="here"/> forwards a message queued before its tenant moved. Null with one shard, without a tenant,
    /// or when the tenant is here.
    /// </summary>
    public async ValueTask<(int Number, IServiceProvider Services)?> ElsewhereAsync(string? tenant, int here, CancellationToken cancellationToken)
    {
        if (Count == 1 || string.IsNullOrEmpty(tenant))
        {
            return null;
        }

        var services = await ForTenantAsync(tenant, cancellationToken).ConfigureAwait(false);
        int number = services.GetRequiredService<StorageShard>().Number;
        return number == here ? null : (number, services);
    }

    /// <summary>
    /// The services of the shard holding <paramref name="tenant"/>, for a change to its data: refused with
    /// <see cref="TenantMovingException"/> while <c>tenant move</c> moves it, since a change written on the source after its
    /// rows were copied would be lost at the switch (docs/scaling.md "Moving a tenant").
    /// </summary>
    public async ValueTask<IServiceProvider> ForTenantChangeAsync(string? tenant, CancellationToken cancellationToken)
    {
        if (Count == 1 || string.IsNullOrEmpty(tenant))
        {
            return _home;
        }

        var found = await _home.GetRequiredService<TenantDirectory>().FindAsync(tenant, cancellationToken).ConfigureAwait(false);
        return found?.Tenant.MovingTo is { } to ? throw new TenantMovingException(tenant, found.Tenant.Shard, to) : Services(found?.Tenant.Shard ?? 0);
    }

    /// <summary>
    /// Where shard <paramref name="here"/> stands with <paramref name="tenant"/>'s data, for the timers and jobs that change
    /// it without a message of the tenant (the end of temporary DNDs, the change sweeper and purge, reconciliation):
    /// <see cref="TenantStanding.Moving"/> while <c>tenant move</c> moves it (on both shards: a change on the source after
    /// the copy would be lost at the switch, one on the target would fail the verify), <see cref="TenantStanding.Elsewhere"/>
    /// when its rows here are unused (left by <c>--keep-source</c>, a cancelled move, or not yet cleaned up). The single-account
    /// tenant and ids the registry does not know are home's, as in <see cref="ForTenantAsync"/>.
    /// </summary>
    public async ValueTask<TenantStanding> StandingAsync(string? tenant, int here, CancellationToken cancellationToken)
    {
        if (Count == 1 || string.IsNullOrEmpty(tenant))
        {
            return here == 0 ? TenantStanding.Here : TenantStanding.Elsewhere;
        }

        var found = await _home.GetRequiredService<TenantDirectory>().FindAsync(tenant, cancellationToken).ConfigureAwait(false);
        return found is null ? (here == 0 ? TenantStanding.Here : TenantStanding.Elsewhere) : StandingOf(found.Tenant, here);
    }

    /// <summary>Where shard <paramref name="here"/> stands with a registered tenant's data (see <see cref="StandingAsync"/>).</summary>
    public static TenantStanding StandingOf(Tenant tenant, int here)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        return StandingOf(tenant.Shard, tenant.MovingTo, here);
    }

    /// <inheritdoc cref="StandingOf(Tenant, int)"/>
    public static TenantStanding StandingOf(TenantSummary tenant, int here)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        return StandingOf(tenant.Shard, tenant.MovingTo, here);
    }

    private static TenantStanding StandingOf(int shard, int? movingTo, int here) =>
        movingTo is not null ? TenantStanding.Moving
        : shard == here ? TenantStanding.Here
        : TenantStanding.Elsewhere;

    /// <summary>The shard a new tenant is placed on: its id's hash modulo K. Stable for an id, recorded at creation, never recomputed.</summary>
    public static int PlacementOf(string tenantId, int count)
    {
        ArgumentNullException.ThrowIfNull(tenantId);
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(tenantId), hash);
        return (int)(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(hash) % (uint)count);
    }

    /// <summary>Containers are disposed both ways: hosts and tests dispose the home container either way.</summary>
    public void Dispose()
    {
        foreach (var shard in _others.Where(s => s.IsValueCreated))
        {
            shard.Value.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var shard in _others.Where(s => s.IsValueCreated))
        {
            await shard.Value.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>Where a shard stands with one tenant's data (<see cref="TenantShards.StandingAsync"/>).</summary>
public enum TenantStanding
{
    /// <summary>The tenant's data is on this shard and may be changed.</summary>
    Here,

    /// <summary>The tenant is being moved between shards: leave its data alone until the move ends.</summary>
    Moving,

    /// <summary>The tenant is on another shard: its rows here, if any, are unused.</summary>
    Elsewhere,
}

/// <summary>A tenant recorded on a shard the deployment does not have (Storage:Shards lowered, or a setting missing): a configuration error, answered 503 so Mailgun retries.</summary>
public sealed class ShardNotConfiguredException(int shard, int count)
    : InvalidOperationException($"storage shard {shard} is not configured: Storage__Shards is {count} (shards 0 to {count - 1}); set Storage__Shards and {StorageNames.ShardConnectionSetting(Math.Max(shard, 1))}")
{
    public int Shard { get; } = shard;
}

/// <summary>A change for a tenant being moved between shards (<c>tenant move</c>): refused for now, answered 503 so the caller tries again.</summary>
public sealed class TenantMovingException(string tenant, int from, int to)
    : InvalidOperationException($"tenant '{tenant}' is being moved from storage shard {from} to {to}: try again in a few minutes");
