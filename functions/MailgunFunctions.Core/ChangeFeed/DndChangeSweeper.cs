using Azure;
using Azure.Data.Tables;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using MailgunFunctions.Telemetry;
using MailgunFunctions.Tenants;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.ChangeFeed;

/// <summary>
/// Sends again what was recorded but not dispatched, and keeps the change log to its retention.
/// <list type="bullet">
/// <item><see cref="RedispatchAsync"/>: one address's outbox rows, when its message comes back (a redelivery after a stop).</item>
/// <item><see cref="SweepAsync"/> (timer, every 2 minutes): per tenant, one query of the outbox rows older than
/// <see cref="ChangeFeedOptions.SweepAfter"/> (a range of the tenant's partition: only undispatched changes are read).
/// Covers what no message brings back: CLI and API changes, expiries, erasures, or a message that went to poison.</item>
/// <item><see cref="PurgeAsync"/> (daily): per tenant, change rows older than <see cref="ChangeFeedOptions.Retention"/>.</item>
/// </list>
/// Tenants are the registry's plus the single-account tenant; a tenant being moved between shards waits for the move's end.
/// </summary>
public sealed class DndChangeSweeper
{
    private const int TenantConcurrency = 8;

    private readonly TableClient _entries;
    private readonly CreateOnce _created;
    private readonly DndChangeDispatcher _dispatcher;
    private readonly TenantRegistry _registry;
    private readonly TenantDirectory _directory;
    private readonly StorageShard _shard;
    private readonly ChangeFeedOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<DndChangeSweeper> _logger;
    private readonly MailgunMetrics _metrics;

    public DndChangeSweeper(StorageClients clients, DndChangeDispatcher dispatcher, TenantRegistry registry, TenantDirectory directory, StorageShard shard, IOptions<ChangeFeedOptions> options,
        TimeProvider time, ILogger<DndChangeSweeper> logger, MailgunMetrics metrics)
    {
        _metrics = metrics;
        _entries = clients.Tables.GetTableClient(StorageNames.DndEntriesTable);
        _created = new CreateOnce(ct => _entries.CreateIfNotExistsAsync(ct));
        _dispatcher = dispatcher;
        _registry = registry;
        _directory = directory;
        _shard = shard;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>Dispatches every outbox row of one address (whatever its age). Returns how many.</summary>
    public async Task<int> RedispatchAsync(string tenant, string address, CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        return await DispatchPendingAsync(DndChangeLog.PendingFilter(DndKeys.TenantKey(tenant), DndNotice.HashOf(address)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Dispatches the outbox rows older than SweepAfter of every tenant. Returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var before = _time.GetUtcNow() - _options.SweepAfter;
        int total = 0;
        await ForEachTenantAsync(async (tenantKey, ct) =>
        {
            string filter = DndChangeLog.PendingFilter(tenantKey) + " and " + TableClient.CreateQueryFilter($"CreatedAt lt {before}");
            int pending = await DispatchPendingAsync(filter, ct).ConfigureAwait(false);
            // What the sweep found is the backlog: changes that missed their dispatch (zero recorded too, so the gauge falls back).
            _metrics.NotificationBacklog(tenantKey, pending);
            Interlocked.Add(ref total, pending);
        }, cancellationToken).ConfigureAwait(false);
        if (total > 0)
        {
            ChangeFeedLog.Swept(_logger, total);
        }

        return total;
    }

    /// <summary>Deletes change rows older than the retention. Returns how many.</summary>
    public async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var cutoff = _time.GetUtcNow() - _options.Retention;
        int total = 0;
        await ForEachTenantAsync(async (tenantKey, ct) =>
        {
            var rows = new List<string>();
            string filter = DndChangeLog.ChangesFilter(tenantKey, DndChangeLog.ChangePrefix, DndChangeLog.ChangeRowKeyAt(cutoff));
            await foreach (var e in _entries.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: ct).ConfigureAwait(false))
            {
                rows.Add(e.RowKey);
            }

            foreach (var chunk in rows.Chunk(100))
            {
                await DndChangeLog.SubmitAsync(_entries, chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(tenantKey, r), ETag.All)).ToList(), ct).ConfigureAwait(false);
            }

            Interlocked.Add(ref total, rows.Count);
        }, cancellationToken).ConfigureAwait(false);
        ChangeFeedLog.Purged(_logger, total, cutoff);
        return total;
    }

    private async Task<int> DispatchPendingAsync(string filter, CancellationToken cancellationToken)
    {
        int n = 0;
        var rows = new List<TableEntity>();
        await foreach (var e in _entries.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            rows.Add(e);
        }

        foreach (var pending in rows.OrderBy(r => r.RowKey, StringComparer.Ordinal))
        {
            DndNotice? notice = pending.GetString("Notice") is { Length: > 0 } carried ? DndNotice.FromJson(carried) : null;
            if (notice is null && pending.GetString("ChangeRow") is { Length: > 0 } changeRow)
            {
                var change = await _entries.GetEntityIfExistsAsync<TableEntity>(pending.PartitionKey, changeRow, ["Notice"], cancellationToken).ConfigureAwait(false);
                notice = change.HasValue && change.Value!.GetString("Notice") is { Length: > 0 } json ? DndNotice.FromJson(json) : null;
            }

            if (notice is null)
            {
                // Its change row is gone (purged, or erased with its address): nothing left to send.
                await _entries.DeleteEntityAsync(pending.PartitionKey, pending.RowKey, ETag.All, cancellationToken).ConfigureAwait(false);
                continue;
            }

            await _dispatcher.DispatchAsync([notice], cancellationToken).ConfigureAwait(false);
            n++;
        }

        return n;
    }

    /// <summary>The tenants of this sweeper's shard (each shard's container has its own sweeper; the single-account tenant is home's).</summary>
    private async Task ForEachTenantAsync(Func<string, CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        var tenants = new HashSet<string>(StringComparer.Ordinal);
        if (_directory.Implicit is { } single && _shard.Number == 0)
        {
            tenants.Add(DndKeys.TenantKey(single.Id));
        }

        if (_registry.Enabled)
        {
            await foreach (var tenant in _registry.ListAsync(cancellationToken).ConfigureAwait(false))
            {
                // A tenant being moved is left alone on both shards until the move ends (TenantShards.StandingAsync): a dispatch
                // deletes outbox rows and a purge change rows, which the move's verify would find different. Its changes
                // wait minutes, not lost: the outbox rows are swept on its new shard after the switch.
                if (TenantShards.StandingOf(tenant, _shard.Number) != TenantStanding.Here)
                {
                    continue;
                }

                tenants.Add(DndKeys.TenantKey(tenant.Id));
            }
        }

        await Parallel.ForEachAsync(tenants, new ParallelOptions { MaxDegreeOfParallelism = TenantConcurrency, CancellationToken = cancellationToken }, async (tenantKey, ct) =>
        {
            try
            {
                await work(tenantKey, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One tenant's trouble does not stop the others; the next run tries it again.
                ChangeFeedLog.SweepFailed(_logger, ex, tenantKey, ex.Message.Split('\n', 2)[0]);
            }
        }).ConfigureAwait(false);
    }
}
