using System.Globalization;
using Azure;
using Azure.Data.Tables;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Dnd;
using MailgunFunctions.Inbound;
using MailgunFunctions.Storage;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Erasure;

/// <summary>What one erasure removed (counts only: the record of an erasure never names the address).</summary>
public sealed record DndErasureResult(string ErasureId, DateTimeOffset ErasedAt, bool EntryKept, DndState KeptState, int HistoryRecords, int Replies, int ContactReplies, int RawMessages, int SentMessages, int SenderIssueRows)
{
    /// <summary>The address's change-log rows and dead-lettered notifications deleted (each named it), its erasure notice excepted.</summary>
    public int ChangeRecords { get; init; }
}

/// <summary>
/// Erasure on request (GDPR art. 17) of one address in one tenant. Design: the entry row (RowKey = the address)
/// is replaced by a row keyed by a one-way hash (<see cref="DndKeys.ErasedRowKey"/>) that keeps only the DND facts
/// (complaint times, the permanent cause's rule and category, re-enable/override times): no address, contact id,
/// user variables, message ids, event ids or operator notes. <see cref="DndStore"/> falls back to that row when an
/// address has no plain row, so a suppressed address stays suppressed if it comes back, and new events merge onto it.
/// The history partition (every record names the address) is deleted, as are the address's replies (rows and raw
/// inbound payloads), sent-message rows and the recipient column of sender-issue rows. An erasure row in
/// <c>DndErasures</c> (PartitionKey = tenant, RowKey = inverted time + id) records when, the note and the counts.
/// The hash is SHA-256 of the normalized address: pseudonymous (anyone holding the address can test it), which is
/// exactly what keeping the suppression needs.
/// </summary>
public sealed class DndErasure
{
    private readonly TableServiceClient _tables;
    private readonly StorageClients _clients;
    private readonly TimeProvider _time;
    private readonly DndOptions _options;
    private readonly IDndChangeDispatch? _dispatcher;
    private readonly NotificationDeadLetters? _deadLetters;

    public DndErasure(StorageClients clients, TimeProvider time, IOptions<DndOptions> options, IDndChangeDispatch? dispatcher = null, NotificationDeadLetters? deadLetters = null)
    {
        _clients = clients;
        _tables = clients.Tables;
        _time = time;
        _options = options.Value;
        _dispatcher = dispatcher;
        _deadLetters = deadLetters;
    }

    /// <summary>Null when nothing was held for the address in the tenant (no entry, no history, no replies).</summary>
    public async Task<DndErasureResult?> EraseAsync(string tenant, string address, string note, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(note);
        string normalized = DndKeys.NormalizeAddress(address);
        string partition = DndKeys.TenantKey(tenant);
        var now = _time.GetUtcNow();
        var entries = _tables.GetTableClient(StorageNames.DndEntriesTable);
        await entries.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);

        var plain = await entries.GetEntityIfExistsAsync<TableEntity>(partition, DndKeys.AddressKey(normalized), cancellationToken: cancellationToken).ConfigureAwait(false);
        var kept = DndState.None;
        string? contactId = null;
        bool entryKept = plain.HasValue;
        // Named now, so the erasure notice and the row that records the erasure carry the same id.
        string id = Guid.NewGuid().ToString("N");
        DndNotice? notice = null;
        if (plain.HasValue)
        {
            // Processors skip the erasure row of tenants without a marker: mark, and give every processor time to see it,
            // before the plain row goes (the argument is in ErasureMarks).
            var marks = _tables.GetTableClient(StorageNames.DndErasuresTable);
            await marks.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            await ErasureMarks.MarkAsync(marks, partition, now, cancellationToken).ConfigureAwait(false);
            await Task.Delay(ErasureMarks.EraseWait, cancellationToken).ConfigureAwait(false);
            (kept, contactId, notice) = await MoveToErasedRowAsync(entries, partition, normalized, tenant, id, note, cancellationToken).ConfigureAwait(false);
        }

        // Every earlier notice of the address names it: its change-log and outbox rows and its dead letters go (the erasure notice stays, without the address).
        int changeRecords = await DeleteChangeRecordsAsync(entries, partition, tenant, normalized, notice, cancellationToken).ConfigureAwait(false);

        int history = await DeletePartitionAsync(StorageNames.DndHistoryTable, DndKeys.HistoryPartition(tenant, normalized), cancellationToken).ConfigureAwait(false);
        var (replies, contactReplies, raw) = await EraseRepliesAsync(tenant, normalized, contactId, cancellationToken).ConfigureAwait(false);
        int sent = await DeleteWhereAsync(StorageNames.SentMessagesTable, TableClient.CreateQueryFilter($"PartitionKey eq {partition} and Recipient eq {normalized}"), cancellationToken).ConfigureAwait(false);
        int senderRows = await StripSenderIssuesAsync(partition, normalized, cancellationToken).ConfigureAwait(false);
        if (!entryKept && history + replies + contactReplies + raw + sent + senderRows + changeRecords == 0)
        {
            return null;
        }

        var erasures = _tables.GetTableClient(StorageNames.DndErasuresTable);
        await erasures.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        await erasures.AddEntityAsync(new TableEntity(partition, (DateTimeOffset.MaxValue.UtcTicks - now.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "_" + id)
        {
            ["ErasedAt"] = now,
            ["Note"] = note,
            ["KeptState"] = DndNames.Of(kept),
            ["HistoryRecords"] = history,
            ["Replies"] = replies + contactReplies,
            ["RawMessages"] = raw,
        }, cancellationToken).ConfigureAwait(false);
        if (notice is not null && _dispatcher is not null)
        {
            // Last: the platform hears of the erasure once our side is done (a failure leaves it to the sweeper).
            await _dispatcher.TryDispatchAsync([notice], cancellationToken).ConfigureAwait(false);
        }

        return new DndErasureResult(id, now, entryKept, kept, history, replies, contactReplies, raw, sent, senderRows) { ChangeRecords = changeRecords };
    }

    /// <summary>The address's change rows and outbox rows (by its hash; the erasure's own excepted) and its dead letters.</summary>
    private async Task<int> DeleteChangeRecordsAsync(TableClient entries, string partition, string tenant, string address, DndNotice? keep, CancellationToken cancellationToken)
    {
        string hash = DndNotice.HashOf(address);
        string? keepChange = keep is null ? null : DndChangeLog.ChangeRowKey(keep.RecordedAt, keep.AddressHash, keep.Version);
        string? keepPending = keep is null ? null : DndChangeLog.PendingRowKey(keep.AddressHash, keep.Version);
        var rows = new List<string>();
        string changes = DndChangeLog.ChangesFilter(partition, DndChangeLog.ChangePrefix, DndChangeLog.ChangePrefix + "~") + " and " + TableClient.CreateQueryFilter($"AddressHash eq {hash}");
        foreach (string filter in new[] { changes, DndChangeLog.PendingFilter(partition, hash) })
        {
            await foreach (var e in entries.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (e.RowKey != keepChange && e.RowKey != keepPending)
                {
                    rows.Add(e.RowKey);
                }
            }
        }

        foreach (var chunk in rows.Chunk(100))
        {
            await DndChangeLog.SubmitAsync(entries, chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partition, r), ETag.All)).ToList(), cancellationToken).ConfigureAwait(false);
        }

        int deadLetters = _deadLetters is null ? 0 : await _deadLetters.DeleteAddressAsync(tenant, hash, cancellationToken).ConfigureAwait(false);
        return rows.Count + deadLetters;
    }

    /// <summary>
    /// Replaces the plain row by its stripped copy under the hashed key, in one entity-group transaction with the erasure's
    /// notice (the next version; its change row without the address): the kept row written, the plain row deleted with its
    /// ETag, the change recorded, all or nothing. A processor that changed the plain row meanwhile makes the transaction
    /// fail, and the move is redone with its change, so nothing written during the wait is lost.
    /// </summary>
    private async Task<(DndState Kept, string? ContactId, DndNotice? Notice)> MoveToErasedRowAsync(TableClient entries, string partition, string address, string tenant, string erasureId,
        string note, CancellationToken cancellationToken)
    {
        var kept = DndState.None;
        string? contactId = null;
        while (true)
        {
            var plain = await entries.GetEntityIfExistsAsync<TableEntity>(partition, DndKeys.AddressKey(address), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!plain.HasValue)
            {
                // Another erasure of the same address finished first.
                return (kept, contactId, null);
            }

            var now = _time.GetUtcNow();
            var entry = DndEntryCodec.FromEntity(plain.Value!);
            contactId = entry.Context?.ContactId ?? contactId;
            var stripped = Strip(entry);
            var status = DndPolicy.Evaluate(stripped, now, _options);
            kept = status.State;
            var announced = DndChangeLog.AnnouncedOf(plain.Value!);
            var notice = DndNotice.Erasure(tenant, address, contactId, announced.Version + 1, announced.Status, status, _time.GetUtcNow(), erasureId, note);
            var row = DndEntryCodec.ToEntity(stripped, status, now);
            row.RowKey = DndKeys.ErasedRowKey(address);
            row.Remove("Address");
            row.Remove("Tenant");
            row["Address"] = "(erased)";
            row["Tenant"] = DndKeys.NormalizeTenant(tenant);
            DndChangeLog.Stamp(row, notice.Version, DndChangeLog.ChangeRowKey(notice.RecordedAt, notice.AddressHash, notice.Version));
            // Replace is right for a second erasure: a plain row that came back was merged onto the earlier hashed row, so it
            // holds every fact (and a later version than) that row held.
            var actions = DndChangeLog.Transaction(new TableTransactionAction(TableTransactionActionType.UpsertReplace, row), [notice], redact: true);
            actions.Insert(1, new TableTransactionAction(TableTransactionActionType.Delete, plain.Value!, plain.Value!.ETag));
            try
            {
                await DndChangeLog.SubmitAsync(entries, actions, cancellationToken).ConfigureAwait(false);
                return (kept, contactId, notice);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                // Changed (or moved) since the read: move it again with the change.
            }
        }
    }

    /// <summary>Only what decides the DND state, without anything that identifies or describes the person.</summary>
    private static DndEntry Strip(DndEntry e) => new()
    {
        Tenant = e.Tenant,
        Address = e.Address,
        FirstComplaintAt = e.FirstComplaintAt,
        LatestComplaintAt = e.LatestComplaintAt,
        LatestPermanentCause = e.LatestPermanentCause is { } p ? p with { Actor = null } : null,
        // Message ids become their hashes: still one per message for the escalation count, no longer a reference to a mail.
        SoftBounces = e.SoftBounces.Select(s => new SoftBounce("sha256:" + DndKeys.Hash(s.MessageId), s.At)).ToArray(),
        LastReenable = e.LastReenable is { } r ? r with { Detail = null } : null,
        LastOverride = e.LastOverride is { } o ? o with { Detail = null } : null,
    };

    private async Task<(int Replies, int ContactReplies, int Raw)> EraseRepliesAsync(string tenant, string address, string? contactId, CancellationToken cancellationToken)
    {
        var replies = _tables.GetTableClient(StorageNames.RepliesTable);
        var contactReplies = _tables.GetTableClient(StorageNames.ContactRepliesTable);
        if (!await ExistsAsync(replies, cancellationToken).ConfigureAwait(false))
        {
            return (0, 0, 0);
        }

        var raw = _clients.Blobs.GetBlobContainerClient(StorageNames.InboundRawContainer);
        int deleted = 0, contactDeleted = 0, blobs = 0;
        var replyIds = new HashSet<string>(StringComparer.Ordinal);
        // From holds the header as written ("Name <a@b>"): normalized here, so the scan is of the tenant's partition.
        await foreach (var row in replies.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {ReplyStore.TenantPartition(tenant)}"), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (row.GetString("From") is not { } from || DndKeys.NormalizeAddress(from) != address)
            {
                continue;
            }

            replyIds.Add(row.GetString("ReplyId") ?? "");
            if (row.GetString("RawBlob") is { Length: > 0 } blob && (await raw.GetBlobClient(blob).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value)
            {
                blobs++;
            }

            if (row.GetString("ContactId") is { Length: > 0 } rowContact)
            {
                contactDeleted += await DeleteIfExistsAsync(contactReplies, ReplyStore.ContactPartition(tenant, rowContact), row.RowKey, cancellationToken).ConfigureAwait(false);
            }

            deleted += await DeleteIfExistsAsync(replies, row.PartitionKey, row.RowKey, cancellationToken).ConfigureAwait(false);
        }

        return (deleted, contactDeleted, blobs);
    }

    private async Task<int> StripSenderIssuesAsync(string tenantKey, string address, CancellationToken cancellationToken)
    {
        var table = _tables.GetTableClient(StorageNames.SenderIssuesTable);
        if (!await ExistsAsync(table, cancellationToken).ConfigureAwait(false))
        {
            return 0;
        }

        int n = 0;
        string filter = TableClient.CreateQueryFilter($"PartitionKey gt {tenantKey + "|"} and PartitionKey lt {tenantKey + "}"} and Recipient eq {address}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            row.Remove("Recipient");
            row.Remove("Message");
            await table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            n++;
        }

        return n;
    }

    private Task<int> DeletePartitionAsync(string tableName, string partition, CancellationToken cancellationToken) =>
        DeleteWhereAsync(tableName, TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), cancellationToken);

    private async Task<int> DeleteWhereAsync(string tableName, string filter, CancellationToken cancellationToken)
    {
        var table = _tables.GetTableClient(tableName);
        if (!await ExistsAsync(table, cancellationToken).ConfigureAwait(false))
        {
            return 0;
        }

        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            rows.Add(row);
        }

        // Batches of at most 100 deletes, each of one partition (the Table service's transaction rules).
        foreach (var batch in rows.GroupBy(r => r.PartitionKey).SelectMany(g => g.Chunk(100)))
        {
            await table.SubmitTransactionAsync(batch.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)), cancellationToken).ConfigureAwait(false);
        }

        return rows.Count;
    }

    private static async Task<int> DeleteIfExistsAsync(TableClient table, string partition, string row, CancellationToken cancellationToken)
    {
        var response = await table.DeleteEntityAsync(partition, row, ETag.All, cancellationToken).ConfigureAwait(false);
        return response.Status == 404 ? 0 : 1;
    }

    private async Task<bool> ExistsAsync(TableClient table, CancellationToken cancellationToken)
    {
        await foreach (var _ in _tables.QueryAsync(TableClient.CreateQueryFilter($"TableName eq {table.Name}"), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        return false;
    }
}
