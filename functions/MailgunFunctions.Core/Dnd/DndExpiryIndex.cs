using System.Globalization;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using MailgunFunctions.Storage;

namespace MailgunFunctions.Dnd;

/// <summary>One temporary DND due to end: an address of a tenant, the minute it is due in.</summary>
public sealed record DueExpiry(string Bucket, string RowKey, string Tenant, string Address, DateTimeOffset Until);

/// <summary>
/// <c>DndExpiries</c>: when each temporary DND ends. PartitionKey = the UTC minute it ends in (<c>yyyyMMddHHmm</c>), RowKey =
/// tenant key + '|' + address key. Written (upserted: the same end twice is one row) before the entry that sets or extends a
/// temporary DND, so an entry never holds a temporary DND the index lacks; rows whose time has come are read by one range
/// query over the partition keys below the current minute and deleted once handled, so the table only ever holds the
/// temporary DNDs still running (and each read touches only what is due). A row whose entry has moved on (a later soft
/// bounce extended it, a delivery ended it) is simply deleted when its minute comes.
/// </summary>
public sealed class DndExpiryIndex
{
    private readonly TableClient _table;
    private readonly CreateOnce _created;

    public DndExpiryIndex(StorageClients clients)
        : this(clients.Tables)
    {
    }

    internal DndExpiryIndex(TableServiceClient tables)
    {
        _table = tables.GetTableClient(StorageNames.DndExpiriesTable);
        _created = new CreateOnce(ct => _table.CreateIfNotExistsAsync(ct));
    }

    public static string BucketOf(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture);

    public static string RowKeyOf(string tenant, string address) => DndKeys.TenantKey(tenant) + "|" + DndKeys.AddressKey(address);

    public Task WriteAsync(string tenant, string address, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var row = new TableEntity(BucketOf(until), RowKeyOf(tenant, address))
        {
            ["Tenant"] = DndKeys.NormalizeTenant(tenant),
            ["Address"] = DndKeys.NormalizeAddress(address),
            ["Until"] = until,
        };
        return _created.RunAsync(ct => _table.UpsertEntityAsync(row, TableUpdateMode.Replace, ct), cancellationToken);
    }

    /// <summary>The rows of every minute before the one <paramref name="now"/> is in, oldest minute first: each ended before now.</summary>
    public async IAsyncEnumerable<DueExpiry> DueAsync(DateTimeOffset now, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        string filter = TableClient.CreateQueryFilter($"PartitionKey lt {BucketOf(now)}");
        await foreach (var e in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return new DueExpiry(e.PartitionKey, e.RowKey, e.GetString("Tenant") ?? "", e.GetString("Address") ?? "", e.GetDateTimeOffset("Until")?.ToUniversalTime() ?? default);
        }
    }

    /// <summary>Deletes handled rows: one transaction per minute and 100 rows.</summary>
    public async Task DeleteAsync(IEnumerable<DueExpiry> handled, CancellationToken cancellationToken)
    {
        foreach (var chunk in handled.GroupBy(h => h.Bucket, StringComparer.Ordinal).SelectMany(g => g.DistinctBy(h => h.RowKey).Chunk(100)))
        {
            try
            {
                await DndChangeLog.SubmitAsync(_table, chunk.Select(h => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(h.Bucket, h.RowKey), ETag.All)).ToList(), cancellationToken).ConfigureAwait(false);
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 404)
            {
                // Another run deleted one: delete the rest one by one (a 404 is an answer there).
                foreach (var h in chunk)
                {
                    await _table.DeleteEntityAsync(h.Bucket, h.RowKey, ETag.All, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }
}
