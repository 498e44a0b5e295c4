using Azure;
using Azure.Data.Tables;

namespace MailgunFunctions.Dnd;

/// <summary>
/// The store's side of the change feed (docs/change-feed.md): every write of an entry that changes its DND raises the
/// entry's <c>Version</c> and adds the change's rows (<see cref="DndChangeLog"/>: the change-log row and the outbox row) in
/// the same entity-group transaction, so the entry and its announcement are stored together or not at all; after the write
/// the notices are dispatched (<see cref="IDndChangeDispatch"/>, the change feed's dispatcher). A change is announced when it has a DND meaning
/// (complaint, permanent cause, soft bounce, re-enable, override: also when the state stays, as in the history) or when it
/// moves the state (a delivery ending a temporary DND). When the row's last announced state has ended meanwhile (a
/// temporary DND whose time passed), that end is announced first, with the version before the change's.
/// </summary>
public sealed partial class DndStore
{
    private readonly IDndChangeDispatch? _dispatcher;
    private readonly DndExpiryIndex _expiries;

    /// <summary>
    /// Writes <paramref name="merged"/> (conditional on <paramref name="etag"/>, or an insert when null) with its notices.
    /// Throws <see cref="RequestFailedException"/> 404/409/412 on a conflict, as a plain write would: the caller merges again.
    /// </summary>
    private async Task<IReadOnlyList<DndNotice>> WriteEntryAsync(string tenant, string address, DndChange? change, DndEntry merged, DndAnnounced announced,
        DndStatus before, DndStatus after, DateTimeOffset now, ETag? etag, CancellationToken cancellationToken)
    {
        // Keyed by the clock just before the write, so the change log's order is the order of the writes (up to the skew
        // and the write time that ChangeFeed:SafetyMargin covers).
        DateTimeOffset recordedAt = _time.GetUtcNow();
        string? contactId = change?.ContactId ?? merged.Context?.ContactId;
        var notices = new List<DndNotice>(2);
        long version = announced.Version;
        if (before != announced.Status)
        {
            // Time moved the state since the last write (a temporary DND ended and the expiry timer has not said so yet).
            notices.Add(DndNotice.Expiry(tenant, address, contactId, ++version, announced.Status, before, recordedAt));
        }

        if (change is not null && (change.HasDndMeaning || after != before))
        {
            notices.Add(DndNotice.For(change, tenant, address, contactId, ++version, before, after, recordedAt));
        }

        if (after is { State: DndState.Temporary, Until: { } until } && until != announced.Status.Until)
        {
            // Indexed before the entry holds it, so an entry never has a temporary DND the expiry timer cannot find.
            await _expiries.WriteAsync(tenant, address, until, cancellationToken).ConfigureAwait(false);
        }

        var entity = DndEntryCodec.ToEntity(merged, after, now);
        string? lastChangeRow = notices.Count > 0 ? DndChangeLog.ChangeRowKey(recordedAt, notices[^1].AddressHash, version) : announced.LastChangeRow;
        DndChangeLog.Stamp(entity, version, lastChangeRow);
        var write = etag is { } tag
            ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, tag)
            : new TableTransactionAction(TableTransactionActionType.Add, entity);
        if (notices.Count == 0)
        {
            if (etag is { } ifMatch)
            {
                await _entries.UpdateEntityAsync(entity, ifMatch, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _entries.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            await DndChangeLog.SubmitAsync(_entries, DndChangeLog.Transaction(write, notices), cancellationToken).ConfigureAwait(false);
        }

        return notices;
    }

    /// <summary>Dispatches what a write announced; a failure leaves the changes pending (see <see cref="IDndChangeDispatch.TryDispatchAsync"/>).</summary>
    private Task DispatchAsync(IReadOnlyList<DndNotice> notices, CancellationToken cancellationToken) =>
        _dispatcher is null || notices.Count == 0 ? Task.CompletedTask : _dispatcher.TryDispatchAsync(notices, cancellationToken);

    /// <summary>
    /// The expiry timer's step for one address: re-evaluates the entry now and, when its state differs from what it last
    /// announced (a temporary DND whose time passed), writes the new state with the next version and announces it. Returns
    /// whether it announced. An address without a plain row (never written, or erased) is left alone.
    /// </summary>
    public async Task<bool> ExpireAsync(string tenant, string address, CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        // Written meanwhile (that write announced the end if it saw it), or erased: look again.
        return await _expiryConflicts.ExecuteAsync(async _ =>
        {
            var now = _time.GetUtcNow();
            var response = await _entries.GetEntityIfExistsAsync<TableEntity>(DndKeys.TenantKey(tenant), DndKeys.AddressKey(address), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!response.HasValue)
            {
                return false;
            }

            var entry = DndEntryCodec.FromEntity(response.Value!);
            var announced = DndChangeLog.AnnouncedOf(response.Value!);
            var status = DndPolicy.Evaluate(entry, now, _options);
            if (status == announced.Status)
            {
                return false;
            }

            var notices = await WriteEntryAsync(tenant, address, null, entry, announced, status, status, now, response.Value!.ETag, cancellationToken).ConfigureAwait(false);
            await DispatchAsync(notices, cancellationToken).ConfigureAwait(false);
            return notices.Count > 0;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The entry of an address with what it last announced and the notice of its latest change (for the platform's API):
    /// two point reads, three for an address kept only under its erasure hash.
    /// </summary>
    public async Task<(DndEntry? Entry, DndAnnounced Announced, DndNotice? LastChange)> GetAnnouncedAsync(string tenant, string address, CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        string partition = DndKeys.TenantKey(tenant);
        var response = await _entries.GetEntityIfExistsAsync<TableEntity>(partition, DndKeys.AddressKey(address), cancellationToken: cancellationToken).ConfigureAwait(false);
        var (entry, row) = response.HasValue
            ? (DndEntryCodec.FromEntity(response.Value!), response.Value!)
            : await GetErasedRowAsync(tenant, address, cancellationToken).ConfigureAwait(false) is { } erased ? (erased.Entry, erased.Row) : (null, null);
        var announced = DndChangeLog.AnnouncedOf(row);
        DndNotice? last = null;
        if (announced.LastChangeRow is { } changeRow)
        {
            var change = await _entries.GetEntityIfExistsAsync<TableEntity>(partition, changeRow, ["Notice"], cancellationToken).ConfigureAwait(false);
            last = change.HasValue && change.Value!.GetString("Notice") is { Length: > 0 } json ? DndNotice.FromJson(json) : null;
        }

        return (entry, announced, last);
    }
}
