using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using MailgunFunctions.Dnd;
using MailgunFunctions.Erasure;
using MailgunFunctions.Inbound;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Migration;

/// <summary>How the tenant of an old domain partition was chosen.</summary>
public enum LegacyOwner
{
    /// <summary>The registry tenant that registered the domain.</summary>
    Registry,
    /// <summary>The single-account tenant, whose settings name the domain (<c>MailgunApi__Domains</c>).</summary>
    Settings,
    /// <summary>The single-account tenant, because no tenant registered the domain: before tenants existed, every row came from that one account.</summary>
    SingleAccount,
    /// <summary>No tenant: no registry tenant owns the domain and there is no single-account tenant. Its rows stay where they are.</summary>
    Unowned,
}

/// <summary>Rows of one table and one old domain partition: moved (or to move, in a dry run), and how many met a row of the tenant and were merged.</summary>
public sealed record LegacyTableCount(string Table, int Rows, int Merged);

/// <summary>One sending domain found in the old layout, the tenant its rows go to, and the counts per table.</summary>
public sealed record LegacyDomain(string Domain, string? Tenant, LegacyOwner Owner, IReadOnlyList<LegacyTableCount> Tables)
{
    public int Rows => Tables.Sum(t => t.Rows);
}

/// <summary>What a migration run found and did (or, in a dry run, would do).</summary>
public sealed record LegacyMigrationReport(bool DryRun, IReadOnlyList<LegacyDomain> Domains)
{
    public IEnumerable<LegacyDomain> Unowned => Domains.Where(d => d.Owner == LegacyOwner.Unowned);
}

/// <summary>
/// Moves data written before tenants existed, when every table was partitioned by the sending domain, to the tenant that
/// owns the domain (<c>mailgun-ops migrate</c>). Old partitions are told apart by their key: a domain always holds a dot,
/// a tenant id never does. The tenant of a domain is the one <see cref="TenantDirectory.FindByDomainAsync"/> names (the
/// single-account tenant's configured domains, then the registry's claims), else the single-account tenant (before
/// tenants, every row came from that one account); with no single-account tenant either, the domain's rows stay and are
/// reported, so nothing lands under a tenant that does not exist. Two domains of one tenant holding the same address are
/// merged by the DND join (<see cref="DndEntry.Join"/>): the merged entry holds every fact of both, exactly the entry the
/// tenant would have had if every change of both domains had been applied to it.
/// <para>
/// Resumable and idempotent: each row is written to the tenant first and its old row deleted only after (conditional on
/// the version read), inserts treat "already there" as done, entries merge by a join (applying it twice changes nothing),
/// and sender-issue counters are recounted from their event rows rather than added. A rerun after a stop finds only the
/// rows not yet moved; a rerun after a finished run finds none and writes nothing. Running beside the live app is safe:
/// entry writes are conditional and retried on a conflict. Order: erasure records and markers first (so an erased
/// address is never missed by a processor), erased entries, then plain entries (each joined with an erased row of its
/// address), then history, sent messages, replies and sender-issue counters.
/// </para>
/// </summary>
public sealed class LegacyDataMigration
{
    private const int MaxAttempts = 10;
    private static readonly string[] Order =
    [
        StorageNames.DndErasuresTable, StorageNames.DndEntriesTable, StorageNames.DndHistoryTable, StorageNames.SentMessagesTable,
        StorageNames.RepliesTable, StorageNames.ContactRepliesTable, StorageNames.SenderIssuesTable,
    ];

    private readonly TableServiceClient _tables;
    private readonly TenantDirectory _directory;
    private readonly TimeProvider _time;
    private readonly DndOptions _dnd;
    private readonly ILogger<LegacyDataMigration> _logger;
    private readonly int _shards;

    public LegacyDataMigration(StorageClients storage, TenantDirectory directory, TimeProvider time, IOptions<DndOptions> dnd, ILogger<LegacyDataMigration> logger,
        IOptions<StorageOptions> storageOptions)
    {
        _shards = storageOptions.Value.Shards;
        _tables = storage.Tables;
        _directory = directory;
        _time = time;
        _dnd = dnd.Value;
        _logger = logger;
    }

    /// <summary>Whether a partition key (or its first '|'-separated part) names a sending domain, i.e. was written before tenants.</summary>
    public static bool IsLegacyPartition(string partitionKey, out string domain)
    {
        int bar = partitionKey.IndexOf('|', StringComparison.Ordinal);
        domain = bar < 0 ? partitionKey : partitionKey[..bar];
        return domain.Contains('.', StringComparison.Ordinal) && SendingDomain.IsValid(domain);
    }

    /// <summary>Moves every old-layout row (or, with <paramref name="dryRun"/>, only counts them).</summary>
    public async Task<LegacyMigrationReport> RunAsync(bool dryRun, CancellationToken cancellationToken)
    {
        if (_shards > 1)
        {
            // Old-layout rows are all in the home account, and the migration writes where it reads: with shards a tenant's
            // rows would land in the home account instead of its shard (docs/scaling.md).
            throw new TenantOperationException(TenantProblem.Refused,
                $"migrate before raising Storage__Shards (it is {_shards}): data written before tenants is moved within the home account, where every tenant lived then");
        }

        var run = new Run(this, dryRun);
        if (await ExistsAsync(StorageNames.DndErasuresTable, cancellationToken).ConfigureAwait(false))
        {
            await MoveErasuresAsync(run, cancellationToken).ConfigureAwait(false);
        }

        if (await ExistsAsync(StorageNames.DndEntriesTable, cancellationToken).ConfigureAwait(false))
        {
            // Erased rows first: a plain row of the same address is then joined with the erased row it meets.
            await MoveEntriesAsync(run, erased: true, cancellationToken).ConfigureAwait(false);
            await MoveEntriesAsync(run, erased: false, cancellationToken).ConfigureAwait(false);
        }

        foreach (var (table, insertOnly) in new[] { (StorageNames.DndHistoryTable, true), (StorageNames.SentMessagesTable, false), (StorageNames.RepliesTable, true), (StorageNames.ContactRepliesTable, true) })
        {
            if (await ExistsAsync(table, cancellationToken).ConfigureAwait(false))
            {
                await CopyRowsAsync(run, table, insertOnly, cancellationToken).ConfigureAwait(false);
            }
        }

        if (await ExistsAsync(StorageNames.SenderIssuesTable, cancellationToken).ConfigureAwait(false))
        {
            await MoveSenderIssuesAsync(run, cancellationToken).ConfigureAwait(false);
        }

        var report = run.Report();
        foreach (var domain in report.Domains)
        {
            if (domain.Owner == LegacyOwner.Unowned)
            {
                MigrationLog.DomainUnowned(_logger, domain.Domain, domain.Rows);
            }
            else
            {
                MigrationLog.DomainMoved(_logger, domain.Domain, domain.Tenant!, domain.Owner.ToString(), domain.Rows, domain.Tables.Sum(t => t.Merged), dryRun);
            }
        }

        return report;
    }

    /// <summary>Erasure records keep their keys under the tenant; a domain's erasure marker becomes the tenant's.</summary>
    private async Task MoveErasuresAsync(Run run, CancellationToken cancellationToken)
    {
        var table = _tables.GetTableClient(StorageNames.DndErasuresTable);
        var newlyMarked = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var (row, domain, tenant) in LegacyRowsAsync(run, table, null, cancellationToken).ConfigureAwait(false))
        {
            string partition = DndKeys.TenantKey(tenant);
            if (row.RowKey == ErasureMarks.MarkerRow && !run.DryRun
                && !(await table.GetEntityIfExistsAsync<TableEntity>(partition, ErasureMarks.MarkerRow, ["PartitionKey"], cancellationToken).ConfigureAwait(false)).HasValue)
            {
                newlyMarked.Add(partition);
            }

            await MoveAsync(run, table, row, domain, Copy(row, partition, domain.Length), insertOnly: row.RowKey != ErasureMarks.MarkerRow, cancellationToken).ConfigureAwait(false);
        }

        if (newlyMarked.Count > 0)
        {
            // A processor may trust an older "this tenant has no erasures" answer for a few seconds: erased entries move
            // in only once every processor has seen the new marker (the argument in ErasureMarks).
            await Task.Delay(ErasureMarks.EraseWait, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task MoveEntriesAsync(Run run, bool erased, CancellationToken cancellationToken)
    {
        var table = _tables.GetTableClient(StorageNames.DndEntriesTable);
        // Entry rows only: change-feed log rows were announced under the partition they are in and stay there.
        await foreach (var (row, domain, tenant) in LegacyRowsAsync(run, table, r => !DndChangeLog.IsLogRow(r.RowKey) && DndKeys.IsErasedRow(r.RowKey) == erased, cancellationToken).ConfigureAwait(false))
        {
            string partition = DndKeys.TenantKey(tenant);
            var source = DndEntryCodec.FromEntity(row) with { Tenant = DndKeys.NormalizeTenant(tenant) };
            for (int attempt = 1; ; attempt++)
            {
                var target = await table.GetEntityIfExistsAsync<TableEntity>(partition, row.RowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
                var merged = target.HasValue ? DndEntryCodec.FromEntity(target.Value!).Join(source) : source;
                if (!erased && await ErasedEntryAsync(table, partition, source.Address, cancellationToken).ConfigureAwait(false) is { } kept)
                {
                    // The address was erased under another domain of the tenant (or this row was written before its erased row
                    // moved here): it stays suppressed. The erased row holds DND facts only, so no personal data comes back.
                    merged = merged.Join(kept);
                }

                run.Count(domain, table.Name, merged: target.HasValue);
                if (run.DryRun)
                {
                    break;
                }

                var now = _time.GetUtcNow();
                var entity = DndEntryCodec.ToEntity(merged, DndPolicy.Evaluate(merged, now, _dnd), now);
                entity.RowKey = row.RowKey;
                try
                {
                    if (target.HasValue)
                    {
                        await table.UpdateEntityAsync(entity, target.Value!.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < MaxAttempts)
                {
                    // The live app wrote the tenant's row meanwhile: join again on fresh data.
                    run.Uncount(domain, table.Name, merged: target.HasValue);
                    continue;
                }

                await DeleteSourceAsync(table, row, cancellationToken).ConfigureAwait(false);
                break;
            }
        }
    }

    private static async Task<DndEntry?> ErasedEntryAsync(TableClient table, string partition, string address, CancellationToken cancellationToken)
    {
        var erased = await table.GetEntityIfExistsAsync<TableEntity>(partition, DndKeys.ErasedRowKey(address), cancellationToken: cancellationToken).ConfigureAwait(false);
        return erased.HasValue ? DndEntryCodec.FromEntity(erased.Value!) : null;
    }

    /// <summary>
    /// Rows whose key names the tenant and nothing else to merge: history records, replies and contact replies are
    /// immutable inserts (an existing row is this row, moved by an earlier run); sent messages merge by message id.
    /// </summary>
    private async Task CopyRowsAsync(Run run, string tableName, bool insertOnly, CancellationToken cancellationToken)
    {
        var table = _tables.GetTableClient(tableName);
        await foreach (var (row, domain, tenant) in LegacyRowsAsync(run, table, null, cancellationToken).ConfigureAwait(false))
        {
            // Replies escape keys their own way (ReplyStore.Key); for a tenant id (letters, digits, '-', '_') both leave it as it is.
            string tenantPart = tableName is StorageNames.RepliesTable or StorageNames.ContactRepliesTable ? ReplyStore.TenantPartition(tenant) : DndKeys.TenantKey(tenant);
            var copy = Copy(row, tenantPart, domain.Length);
            if (copy.ContainsKey("Tenant"))
            {
                copy["Tenant"] = DndKeys.NormalizeTenant(tenant);
            }

            await MoveAsync(run, table, row, domain, copy, insertOnly, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Event rows move as they are (one per event, so a domain's event and a tenant's never collide); the counters of each
    /// tenant bucket are then recounted from its event rows (never added, so a rerun cannot double them), and only then are
    /// the domain bucket's rows deleted.
    /// </summary>
    private async Task MoveSenderIssuesAsync(Run run, CancellationToken cancellationToken)
    {
        var table = _tables.GetTableClient(StorageNames.SenderIssuesTable);
        var bucket = new List<TableEntity>();
        string? bucketKey = null, bucketDomain = null, bucketTenant = null;
        async Task FlushAsync()
        {
            if (bucket.Count == 0)
            {
                return;
            }

            string target = DndKeys.TenantKey(bucketTenant!) + bucketKey![bucketDomain!.Length..];
            foreach (var row in bucket.Where(r => r.RowKey.StartsWith("e_", StringComparison.Ordinal)))
            {
                run.Count(bucketDomain, table.Name, merged: false);
                if (!run.DryRun)
                {
                    await InsertAsync(table, Copy(row, DndKeys.TenantKey(bucketTenant!), bucketDomain.Length), cancellationToken).ConfigureAwait(false);
                }
            }

            if (!run.DryRun)
            {
                await RecountAsync(table, target, cancellationToken).ConfigureAwait(false);
                foreach (var row in bucket)
                {
                    await DeleteSourceAsync(table, row, cancellationToken).ConfigureAwait(false);
                }
            }

            bucket.Clear();
        }

        // A scan returns rows by partition: one bucket (ten minutes of one domain) is held at a time.
        await foreach (var (row, domain, tenant) in LegacyRowsAsync(run, table, null, cancellationToken, counted: r => r.RowKey.StartsWith("e_", StringComparison.Ordinal)).ConfigureAwait(false))
        {
            if (row.PartitionKey != bucketKey)
            {
                await FlushAsync().ConfigureAwait(false);
                (bucketKey, bucketDomain, bucketTenant) = (row.PartitionKey, domain, tenant);
            }

            bucket.Add(row);
        }

        await FlushAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Sets a bucket's counters to the count of its event rows (each counter only ever raised). The counters are read before
    /// the event rows and written conditionally: an event the live app records meanwhile changes them and the recount runs
    /// again, so it is never lost.
    /// </summary>
    private static async Task RecountAsync(TableClient table, string partition, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            var counters = new Dictionary<string, TableEntity>(StringComparer.Ordinal);
            string counterFilter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and (RowKey eq {SenderIssueCounter.TotalRow} or (RowKey ge 'c_' and RowKey lt 'c`'))");
            await foreach (var c in table.QueryAsync<TableEntity>(counterFilter, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                counters[c.RowKey] = c;
            }

            var counted = new Dictionary<string, (string? Rule, string? Code, long Count)>(StringComparer.Ordinal);
            string eventFilter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge 'e_' and RowKey lt 'e`'");
            await foreach (var e in table.QueryAsync<TableEntity>(eventFilter, select: ["Rule", "Code"], cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                string rule = e.GetString("Rule") ?? "", code = e.GetString("Code") ?? "none";
                foreach (var (key, r, c) in new[] { (SenderIssueCounter.TotalRow, (string?)null, (string?)null), (SenderIssueCounter.CounterRow(rule, code), rule, code) })
                {
                    counted[key] = (r, c, counted.GetValueOrDefault(key).Count + 1);
                }
            }

            var actions = new List<TableTransactionAction>();
            foreach (var (key, (rule, code, count)) in counted)
            {
                counters.TryGetValue(key, out var existing);
                if (existing is not null && (existing.GetInt64("Count") ?? 0) >= count)
                {
                    continue;
                }

                var entity = new TableEntity(partition, key) { ["Count"] = count };
                if (rule is not null)
                {
                    entity["Rule"] = rule;
                    entity["Code"] = code;
                }

                actions.Add(existing is null
                    ? new TableTransactionAction(TableTransactionActionType.Add, entity)
                    : new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, existing.ETag));
            }

            try
            {
                foreach (var chunk in actions.Chunk(100))
                {
                    await table.SubmitTransactionAsync(chunk, cancellationToken).ConfigureAwait(false);
                }

                return;
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412 && attempt < MaxAttempts)
            {
                // A counter moved under us (the live app counted an event): recount.
            }
        }
    }

    /// <summary>Writes the copy (insert, or merge for rows that merge by key), then deletes the old row.</summary>
    private static async Task MoveAsync(Run run, TableClient table, TableEntity source, string domain, TableEntity copy, bool insertOnly, CancellationToken cancellationToken)
    {
        bool existed = !insertOnly && (await table.GetEntityIfExistsAsync<TableEntity>(copy.PartitionKey, copy.RowKey, ["PartitionKey"], cancellationToken).ConfigureAwait(false)).HasValue;
        run.Count(domain, table.Name, merged: existed);
        if (run.DryRun)
        {
            return;
        }

        if (insertOnly)
        {
            await InsertAsync(table, copy, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await table.UpsertEntityAsync(copy, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
        }

        await DeleteSourceAsync(table, source, cancellationToken).ConfigureAwait(false);
    }

    private static async Task InsertAsync(TableClient table, TableEntity entity, CancellationToken cancellationToken)
    {
        try
        {
            await table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // Moved by an earlier run that stopped before deleting the old row.
        }
    }

    private static async Task DeleteSourceAsync(TableClient table, TableEntity source, CancellationToken cancellationToken)
    {
        try
        {
            // Conditional on the version read: a row changed since (it should not be: nothing writes old partitions any
            // more) stays, and the next run moves it with its change.
            await table.DeleteEntityAsync(source.PartitionKey, source.RowKey, source.ETag, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
        }
    }

    /// <summary>The row under the tenant's partition: <paramref name="tenantPart"/> replaces the first <paramref name="domainLength"/> characters of its key.</summary>
    private static TableEntity Copy(TableEntity row, string tenantPart, int domainLength)
    {
        var copy = new TableEntity(tenantPart + row.PartitionKey[domainLength..], row.RowKey);
        foreach (var (key, value) in row)
        {
            if (key is not ("PartitionKey" or "RowKey" or "Timestamp" or "odata.etag"))
            {
                copy[key] = value;
            }
        }

        return copy;
    }

    /// <summary>
    /// Every old-layout row of a table (that <paramref name="where"/> selects) with its domain and tenant; rows of domains
    /// without a tenant are counted (those <paramref name="counted"/> selects) and skipped.
    /// </summary>
    private static async IAsyncEnumerable<(TableEntity Row, string Domain, string Tenant)> LegacyRowsAsync(Run run, TableClient table, Func<TableEntity, bool>? where,
        [EnumeratorCancellation] CancellationToken cancellationToken, Func<TableEntity, bool>? counted = null)
    {
        // A full scan: old partitions cannot be found by key range (domains and tenant ids interleave). Once, per table.
        await foreach (var row in table.QueryAsync<TableEntity>(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (!IsLegacyPartition(row.PartitionKey, out string domain) || where?.Invoke(row) == false)
            {
                continue;
            }

            var (tenant, _) = await run.OwnerAsync(domain, cancellationToken).ConfigureAwait(false);
            if (tenant is null)
            {
                if (counted?.Invoke(row) != false)
                {
                    run.Count(domain, table.Name, merged: false);
                }

                continue;
            }

            yield return (row, domain, tenant);
        }
    }

    private async Task<bool> ExistsAsync(string table, CancellationToken cancellationToken)
    {
        await foreach (var _ in _tables.QueryAsync(TableClient.CreateQueryFilter($"TableName eq {table}"), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        return false;
    }

    /// <summary>One run's owners (looked up once per domain) and counts.</summary>
    private sealed class Run(LegacyDataMigration migration, bool dryRun)
    {
        private readonly Dictionary<string, (string? Tenant, LegacyOwner Owner)> _owners = new(StringComparer.Ordinal);
        private readonly Dictionary<(string Domain, string Table), (int Rows, int Merged)> _counts = [];

        public bool DryRun { get; } = dryRun;

        public async ValueTask<(string? Tenant, LegacyOwner Owner)> OwnerAsync(string domain, CancellationToken cancellationToken)
        {
            if (!_owners.TryGetValue(domain, out var owner))
            {
                var directory = migration._directory;
                var found = await directory.FindByDomainAsync(domain, cancellationToken).ConfigureAwait(false);
                owner = found is not null ? (found.Id, found.Tenant.IsImplicit ? LegacyOwner.Settings : LegacyOwner.Registry)
                    : directory.Implicit is { } single ? (single.Id, LegacyOwner.SingleAccount)
                    : (null, LegacyOwner.Unowned);
                _owners[domain] = owner;
            }

            return owner;
        }

        public void Count(string domain, string table, bool merged)
        {
            var (rows, m) = _counts.GetValueOrDefault((domain, table));
            _counts[(domain, table)] = (rows + 1, m + (merged ? 1 : 0));
        }

        public void Uncount(string domain, string table, bool merged)
        {
            var (rows, m) = _counts[(domain, table)];
            _counts[(domain, table)] = (rows - 1, m - (merged ? 1 : 0));
        }

        public LegacyMigrationReport Report() => new(DryRun, _owners.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => new LegacyDomain(o.Key, o.Value.Tenant, o.Value.Owner,
            Order.Where(t => _counts.ContainsKey((o.Key, t))).Select(t => new LegacyTableCount(t, _counts[(o.Key, t)].Rows, _counts[(o.Key, t)].Merged)).ToList())).ToList());
    }
}
