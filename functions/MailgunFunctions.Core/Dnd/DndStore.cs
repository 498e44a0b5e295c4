using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using MailgunFunctions.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Dnd;

/// <summary>What applying a change did.</summary>
public enum DndApplyOutcome
{
    /// <summary>The entry changed (or was created).</summary>
    Applied,
    /// <summary>The entry already held the change: a duplicate or a re-delivery. Nothing was written to the entry.</summary>
    Unchanged,
    /// <summary>Refused: an operator re-enable of a locked address without the admin override.</summary>
    Refused,
}

/// <param name="Entry">The entry after the change.</param>
/// <param name="Previous">The state before the change (at the time of processing).</param>
/// <param name="Current">The state after the change.</param>
/// <param name="HistoryWritten">Whether this call inserted a history record (false for duplicates and activity).</param>
public sealed record DndApplyResult(DndApplyOutcome Outcome, DndEntry Entry, DndStatus Previous, DndStatus Current, bool HistoryWritten)
{
    /// <summary>The entry's version after the call (see <see cref="DndChangeLog"/>): raised by one for each change announced.</summary>
    public long Version { get; init; }

    /// <summary>What this call announced (in version order); empty when the DND did not change in a way worth a notice.</summary>
    public IReadOnlyList<DndNotice> Notices { get; init; } = [];
}

/// <summary>An entry as read, with the version of its row, for a write that must not land on a changed entry (<see cref="DndStore.ApplyIfUnchangedAsync"/>).</summary>
/// <param name="ETag">The row's ETag; null when the address has no row of its own (never seen, or only an erased row).</param>
/// <param name="Announced">What the row last announced to the change feed (its version and state).</param>
public sealed record DndSnapshot(DndEntry? Entry, DndStatus Status, ETag? ETag, DndAnnounced Announced);

/// <summary>Thrown when an entry kept changing under us for every attempt: transient, the queue retries the message.</summary>
public sealed class DndWriteConflictException(string message) : Exception(message);

/// <summary>
/// DND entries and their history in Table Storage. <c>DndEntries</c>: PartitionKey = tenant, RowKey = encoded
/// address (one request per lookup, one partition per domain). <c>DndHistory</c>: PartitionKey = tenant|address,
/// RowKey = inverted event time + change hash (newest first, and a second insert of one change is a 409).
/// Writes are read-merge-write with ETags, so concurrent processors never lose each other's changes; the merge is
/// a join, so a retry after a conflict, or a re-delivered message, cannot double anything. A change's history record
/// is inserted before its entry write. Storage requests for one change: the point read, the history insert, the entry
/// write; for a tenant whose recent changes mostly found no entry (<see cref="NewAddressRate"/>), the history insert and
/// the entry insert, with the read only if the insert meets an existing entry. Plus a marker read every few seconds per
/// tenant (<see cref="ErasureMarks"/>).
/// </summary>
public sealed partial class DndStore
{
    private readonly TableClient _entries;
    private readonly TableClient _history;
    private readonly ErasureMarks _erasureMarks;
    private readonly NewAddressRate _newAddresses = new();
    private readonly CreateOnce _created;
    private readonly TimeProvider _time;
    private readonly DndOptions _options;
    private readonly ILogger<DndStore> _logger;

    // Read-merge-write under ETags (ConcurrencyRetry): the entry's write lost to another writer, or the expiry's did.
    private readonly Polly.ResiliencePipeline _entryConflicts;
    private readonly Polly.ResiliencePipeline _expiryConflicts;

    public DndStore(StorageClients clients, TimeProvider time, IOptions<DndOptions> options, ILogger<DndStore> logger, IDndChangeDispatch? dispatcher = null)
        : this(clients.Tables, time, options, logger, dispatcher)
    {
    }

    /// <summary>For tests that put a policy into the table client's pipeline (e.g. a competing writer).</summary>
    internal DndStore(TableServiceClient tables, TimeProvider time, IOptions<DndOptions> options, ILogger<DndStore> logger, IDndChangeDispatch? dispatcher = null)
    {
        _dispatcher = dispatcher;
        _expiries = new DndExpiryIndex(tables);
        _entries = tables.GetTableClient(StorageNames.DndEntriesTable);
        _history = tables.GetTableClient(StorageNames.DndHistoryTable);
        var erasures = tables.GetTableClient(StorageNames.DndErasuresTable);
        _erasureMarks = new ErasureMarks(erasures);
        _created = new CreateOnce(async ct =>
        {
            await _entries.CreateIfNotExistsAsync(ct).ConfigureAwait(false);
            await _history.CreateIfNotExistsAsync(ct).ConfigureAwait(false);
            await erasures.CreateIfNotExistsAsync(ct).ConfigureAwait(false);
        });
        _time = time;
        _options = options.Value;
        _logger = logger;
        _entryConflicts = ConcurrencyRetry.Pipeline(_options.MaxWriteAttempts, ex => ex is EntryWriteConflict);
        _expiryConflicts = ConcurrencyRetry.Pipeline(_options.MaxWriteAttempts, ex => ex is RequestFailedException { Status: 404 or 412 });
    }

    /// <summary>The entry of one address, or null when nothing was ever recorded for it. One point read.</summary>
    public async Task<DndEntry?> GetAsync(string tenant, string address, CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var response = await _entries.GetEntityIfExistsAsync<TableEntity>(DndKeys.TenantKey(tenant), DndKeys.AddressKey(address), cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? DndEntryCodec.FromEntity(response.Value!) : await GetErasedAsync(tenant, address, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The entry and its state now: what the platform asks before sending.</summary>
    public async Task<(DndEntry? Entry, DndStatus Status)> GetStatusAsync(string tenant, string address, CancellationToken cancellationToken)
    {
        var entry = await GetAsync(tenant, address, cancellationToken).ConfigureAwait(false);
        return (entry, entry is null ? DndStatus.None : DndPolicy.Evaluate(entry, _time.GetUtcNow(), _options));
    }

    /// <summary>The entry, its state now and its row's version: one point read (two for an erased address).</summary>
    public async Task<DndSnapshot> ReadAsync(string tenant, string address, CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var response = await _entries.GetEntityIfExistsAsync<TableEntity>(DndKeys.TenantKey(tenant), DndKeys.AddressKey(address), cancellationToken: cancellationToken).ConfigureAwait(false);
        var erased = response.HasValue ? null : await GetErasedRowAsync(tenant, address, cancellationToken).ConfigureAwait(false);
        var entry = response.HasValue ? DndEntryCodec.FromEntity(response.Value!) : erased?.Entry;
        // An erased address that comes back goes on with the versions of the row kept for it.
        var announced = DndChangeLog.AnnouncedOf(response.HasValue ? response.Value : erased?.Row);
        return new DndSnapshot(entry, entry is null ? DndStatus.None : DndPolicy.Evaluate(entry, _time.GetUtcNow(), _options), response.HasValue ? response.Value!.ETag : null, announced);
    }

    /// <summary>
    /// Applies <paramref name="change"/> only if the entry is still the one <paramref name="read"/> saw (its row's ETag; or
    /// still no row). Returns null when it changed meanwhile: nothing of this change is left behind, and the caller decides
    /// again on fresh data. For check-then-write callers (the platform link's undo), whose check reads more than the entry.
    /// The history record is written first, as for <see cref="ApplyAsync"/>, and removed again when the write loses.
    /// </summary>
    public async Task<DndApplyResult?> ApplyIfUnchangedAsync(string tenant, string address, DndChange change, DndSnapshot read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(read);
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset now = _time.GetUtcNow();
        var current = read.Entry ?? DndEntry.Empty(tenant, address);
        var merged = current.Apply(change);
        DndStatus before = DndPolicy.Evaluate(current, now, _options), after = DndPolicy.Evaluate(merged, now, _options);
        if (merged.Equals(current) && read.ETag is not null)
        {
            return new DndApplyResult(DndApplyOutcome.Unchanged, merged, before, after, HistoryWritten: false);
        }

        var record = Record(merged, change, before.State, after, now, entryUnchanged: false);
        bool inserted = change.HasDndMeaning && await AddHistoryAsync(record, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<DndNotice> notices;
        try
        {
            // The same write as ApplyAsync's: the entry with its version and change-feed rows, in one transaction.
            notices = await WriteEntryAsync(tenant, address, change, merged, read.Announced, before, after, now, read.ETag, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
        {
            DndLog.WriteConflict(_logger, DndKeys.TenantKey(tenant), DndKeys.Hash(DndKeys.AddressKey(address), 12), 1, ex.Status);
            if (inserted)
            {
                // The change never reached the entry: its record must not say it did.
                await _history.DeleteEntityAsync(DndKeys.HistoryPartition(tenant, address), DndKeys.HistoryRow(record.At, record.ChangeKey), ETag.All, cancellationToken).ConfigureAwait(false);
            }

            return null;
        }

        Log(change, merged, before, after, "written", inserted ? "written" : change.HasDndMeaning ? "existed" : "none");
        await DispatchAsync(notices, cancellationToken).ConfigureAwait(false);
        return new DndApplyResult(DndApplyOutcome.Applied, merged, before, after, inserted);
    }

    /// <summary>Every entry of a tenant (one partition query, all pages).</summary>
    public async IAsyncEnumerable<DndEntry> ListAsync(string tenant, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        // The entry rows only: the change log shares the partition (DndChangeLog) and is skipped by key range, never read.
        foreach (string filter in DndChangeLog.EntryRangeFilters(DndKeys.TenantKey(tenant)))
        {
            await foreach (var e in _entries.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (!DndKeys.IsErasedRow(e.RowKey))
                {
                    yield return DndEntryCodec.FromEntity(e);
                }
            }
        }
    }

    /// <summary>
    /// The entries of a tenant in key order, each with its position, starting after <paramref name="after"/> (a position
    /// this method gave): an operator's listing can stop after some rows and go on later from where it stopped, reading
    /// nothing before that point. Pages are read as they are consumed, so the first rows come after one request.
    /// </summary>
    public async IAsyncEnumerable<(DndEntry Entry, string Position)> ListAfterAsync(string tenant, string? after, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        foreach (string range in DndChangeLog.EntryRangeFilters(DndKeys.TenantKey(tenant)))
        {
            string filter = after is null ? range : $"({range}) and {TableClient.CreateQueryFilter($"RowKey gt {after}")}";
            await foreach (var e in _entries.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (!DndKeys.IsErasedRow(e.RowKey))
                {
                    yield return (DndEntryCodec.FromEntity(e), e.RowKey);
                }
            }
        }
    }

    /// <summary>Every entry of every tenant (a full table scan, all pages): for exports, not for lookups.</summary>
    public async IAsyncEnumerable<DndEntry> ListAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var e in _entries.QueryAsync<TableEntity>(DndChangeLog.NotLogRows, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (!DndKeys.IsErasedRow(e.RowKey))
            {
                yield return DndEntryCodec.FromEntity(e);
            }
        }
    }

    /// <summary>
    /// Every tenant's entries in key order (tenant by tenant, then address), each with its position (PartitionKey and RowKey,
    /// which hold no control characters, joined by a line feed), starting after <paramref name="after"/>: a scan of the whole
    /// table, for an operator's listing across tenants, read page by page as it is consumed.
    /// </summary>
    public async IAsyncEnumerable<(DndEntry Entry, string Position)> ListAllAfterAsync(string? after, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        string filter = DndChangeLog.NotLogRows;
        if (after is not null)
        {
            int split = after.IndexOf('\n', StringComparison.Ordinal);
            string partition = split < 0 ? after : after[..split], row = split < 0 ? "" : after[(split + 1)..];
            filter = $"({filter}) and ({TableClient.CreateQueryFilter($"PartitionKey gt {partition} or (PartitionKey eq {partition} and RowKey gt {row})")})";
        }

        await foreach (var e in _entries.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (!DndKeys.IsErasedRow(e.RowKey))
            {
                yield return (DndEntryCodec.FromEntity(e), e.PartitionKey + "\n" + e.RowKey);
            }
        }
    }

    /// <summary>
    /// The entries whose address starts with <paramref name="prefix"/>, of one tenant or (<paramref name="tenant"/> null) of
    /// every tenant. Entries are keyed by the encoded address and the encoding keeps prefixes, so this is a RowKey range
    /// query (<c>ge prefix and lt prefix+1</c>): in one tenant it reads only the matching rows; across tenants the service
    /// still visits every partition.
    /// </summary>
    public IAsyncEnumerable<DndEntry> FindByPrefixAsync(string? tenant, string prefix, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        string start = DndKeys.Encode(prefix.Trim().ToLowerInvariant());
        if (start.Length > DndKeys.MaxPrefixLength)
        {
            throw new ArgumentException($"an address prefix is at most {DndKeys.MaxPrefixLength} characters (encoded)", nameof(prefix));
        }

        string range = start[^1] == char.MaxValue
            ? TableClient.CreateQueryFilter($"RowKey ge {start}")
            : TableClient.CreateQueryFilter($"RowKey ge {start} and RowKey lt {start[..^1] + (char)(start[^1] + 1)}");
        return QueryEntriesAsync(tenant, range, cancellationToken);
    }

    /// <summary>
    /// The entries whose latest event carrying one named this contact id (the user-variable <c>Dnd:ContactIdVariable</c>), of
    /// one tenant or (<paramref name="tenant"/> null) every tenant. No index holds contact ids: this is a scan of the tenant's
    /// partition (or of the whole table) with a server-side filter on the <c>ContactId</c> property.
    /// </summary>
    public IAsyncEnumerable<DndEntry> FindByContactIdAsync(string? tenant, string contactId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(contactId);
        return QueryEntriesAsync(tenant, TableClient.CreateQueryFilter($"ContactId eq {contactId.Trim()}"), cancellationToken);
    }

    private async IAsyncEnumerable<DndEntry> QueryEntriesAsync(string? tenant, string condition, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        IEnumerable<string> filters = tenant is null ? [DndChangeLog.NotLogRows] : DndChangeLog.EntryRangeFilters(DndKeys.TenantKey(tenant));
        foreach (string range in filters)
        {
            await foreach (var e in _entries.QueryAsync<TableEntity>($"({range}) and ({condition})", cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (!DndKeys.IsErasedRow(e.RowKey))
                {
                    yield return DndEntryCodec.FromEntity(e);
                }
            }
        }
    }

    /// <summary>
    /// The entries of one address in every tenant. The address is not a key (entries are keyed tenant, then address),
    /// so this is a table scan with a server-side filter on the Address property: fine for an operator's lookup, not
    /// for the sending path (which always knows the tenant).
    /// </summary>
    public async IAsyncEnumerable<DndEntry> FindByAddressAsync(string address, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        string normalized = DndKeys.NormalizeAddress(address);
        await foreach (var e in _entries.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"Address eq {normalized}"), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return DndEntryCodec.FromEntity(e);
        }
    }

    /// <summary>
    /// Operator re-enable: clears a permanent or temporary DND caused before now. A locked (complaint) address is
    /// refused unless <paramref name="adminOverride"/>, which is recorded as an audited override.
    /// </summary>
    public async Task<DndApplyResult> ReenableAsync(string tenant, string address, string actor, string reason, bool adminOverride, CancellationToken cancellationToken)
    {
        DateTimeOffset now = _time.GetUtcNow();
        if (!adminOverride)
        {
            var (entry, status) = await GetStatusAsync(tenant, address, cancellationToken).ConfigureAwait(false);
            if (status.State == DndState.Locked)
            {
                DndLog.ReenableRefused(_logger, DndKeys.TenantKey(tenant), DndKeys.Hash(DndKeys.AddressKey(address), 12), actor);
                return new DndApplyResult(DndApplyOutcome.Refused, entry!, status, status, HistoryWritten: false);
            }
        }

        var change = adminOverride ? DndChange.AdminOverride(now, actor, reason) : DndChange.Reenable(now, actor, reason);
        return await ApplyAsync(tenant, address, change, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// An unsubscribe through the platform's link (permanent DND), at the current time. <paramref name="reference"/>
    /// identifies the request (e.g. the link token): the same request submitted twice at one instant is one change;
    /// later clicks are further (harmless) changes, each with its history record.
    /// </summary>
    public Task<DndApplyResult> UnsubscribeAsync(string tenant, string address, string reference, CancellationToken cancellationToken) =>
        ApplyAsync(tenant, address, DndChange.PlatformUnsubscribe(_time.GetUtcNow(), reference), cancellationToken);

    /// <summary>
    /// Merges one change into the entry of (tenant, address) and records it in the history when it has a DND meaning.
    /// Idempotent: the same change twice leaves one entry state and one history record. Throws on storage errors
    /// and on <see cref="DndWriteConflictException"/> (both transient: the queue retries).
    /// </summary>
    public async Task<DndApplyResult> ApplyAsync(string tenant, string address, DndChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        string partition = DndKeys.TenantKey(tenant);
        string row = DndKeys.AddressKey(address);

        // Insert first (no read) when this tenant's recent changes mostly found no entry, and only on a fresh answer that
        // the tenant has no erasures (an erased address must start from its kept row, which only a read finds).
        long? unmarkedSince = _newAddresses.InsertFirst(partition)
            ? await _erasureMarks.UnmarkedSinceAsync(partition, cancellationToken).ConfigureAwait(false)
            : null;
        bool assumeNew = unmarkedSince is not null;

        // The record this call inserted, kept to correct it if a later attempt computes other states for it.
        DndHistoryRecord? inserted = null;
        bool existed = false;
        int attempt = 0;
        try
        {
            return await _entryConflicts.ExecuteAsync(async _ =>
            {
                attempt++;
                return await ApplyAttemptAsync().ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (EntryWriteConflict)
        {
            throw new DndWriteConflictException($"DND entry {partition}/{DndKeys.Hash(row, 12)} changed under us {attempt} times; the queue will retry the message");
        }

        // One attempt: read (unless the address is taken as new), merge, record, write.
        async Task<DndApplyResult> ApplyAttemptAsync()
        {
            while (true)
            {
                DateTimeOffset now = _time.GetUtcNow();
                NullableResponse<TableEntity>? response = null;
                DndEntry current;
                // What the row last announced (version and state): a new address, or one the insert-first guess takes as new, has none.
                DndAnnounced announced = DndAnnounced.Nothing;
                if (assumeNew)
                {
                    current = DndEntry.Empty(tenant, address);
                }
                else
                {
                    response = await _entries.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: cancellationToken).ConfigureAwait(false);
                    if (attempt == 1)
                    {
                        _newAddresses.Observe(partition, !response.HasValue);
                    }

                    // An erased address that comes back starts from the suppression kept for it, so it stays suppressed (and its versions go on).
                    var erased = response.HasValue ? null : await GetErasedRowAsync(tenant, address, cancellationToken).ConfigureAwait(false);
                    current = response.HasValue ? DndEntryCodec.FromEntity(response.Value!) : erased?.Entry ?? DndEntry.Empty(tenant, address);
                    announced = DndChangeLog.AnnouncedOf(response.HasValue ? response.Value! : erased?.Row);
                }

                bool exists = response?.HasValue == true;
                DndEntry merged = current.Apply(change);
                DndStatus before = DndPolicy.Evaluate(current, now, _options);
                DndStatus after = DndPolicy.Evaluate(merged, now, _options);

                if (exists && merged.Equals(current))
                {
                    // Already reflected: an older event, or a re-delivery. Its record is written once (a duplicate gets a 409);
                    // an older event's record says the entry was unchanged, with the state at that time as its previous state.
                    if (change.HasDndMeaning)
                    {
                        (inserted, existed) = await RecordAsync(Record(merged, change, after.State, after, now, entryUnchanged: true), inserted, existed, cancellationToken).ConfigureAwait(false);
                        if (inserted is not null)
                        {
                            await TouchAsync(response!.Value!, cancellationToken).ConfigureAwait(false);
                        }
                    }

                    Log(change, merged, before, after, "unchanged", inserted is not null ? "written" : "none");
                    return new DndApplyResult(DndApplyOutcome.Unchanged, merged, before, after, inserted is not null) { Version = announced.Version };
                }

                if (change.HasDndMeaning)
                {
                    // History before the entry: a stop between the two leaves a record whose change the redelivery applies
                    // (its insert is then a 409), so recovery ends exactly as a clean run. The other order would leave an
                    // entry holding the change and no way to know the state before it. If the entry write never succeeds,
                    // the message ends in the poison queue and the record stays, describing a change the entry lacks.
                    (inserted, existed) = await RecordAsync(Record(merged, change, before.State, after, now, entryUnchanged: false), inserted, existed, cancellationToken).ConfigureAwait(false);
                }

                IReadOnlyList<DndNotice> notices;
                try
                {
                    // The entry, its version and its notices' change-log rows in one write (see DndStore.ChangeFeed.cs).
                    notices = await WriteEntryAsync(tenant, address, change, merged, announced, before, after, now, exists ? response!.Value!.ETag : null, cancellationToken).ConfigureAwait(false);
                }
                catch (RequestFailedException ex) when (assumeNew && ex.Status == 409)
                {
                    // The address was known after all: read, merge and write as usual (the record is corrected if need be).
                    _newAddresses.Observe(partition, foundNoEntry: false);
                    assumeNew = false;
                    continue;
                }
                catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
                {
                    // 409: another processor created the entry first; 412: it changed since our read; 404: an erasure deleted
                    // it since our read. Merge again on fresh data.
                    DndLog.WriteConflict(_logger, partition, DndKeys.Hash(row, 12), attempt, ex.Status);
                    throw new EntryWriteConflict(ex);
                }

                if (assumeNew)
                {
                    _newAddresses.Observe(partition, foundNoEntry: true);
                    if (!ErasureMarks.StillProves(unmarkedSince!.Value))
                    {
                        // The insert returned too long after the marker read to rule out an erasure of this address before it.
                        (merged, var folded) = await FoldInErasedAsync(tenant, address, partition, row, merged, change, cancellationToken).ConfigureAwait(false);
                        notices = [.. notices, .. folded];
                    }
                }

                await DispatchAsync(notices, cancellationToken).ConfigureAwait(false);
                Log(change, merged, before, after, "written", inserted is not null ? "written" : change.HasDndMeaning ? "existed" : "none");
                return new DndApplyResult(DndApplyOutcome.Applied, merged, before, after, inserted is not null)
                {
                    Version = notices.Count > 0 ? notices[^1].Version : announced.Version,
                    Notices = notices,
                };
            }
        }
    }

    /// <summary>The entry's write lost to another writer (see <see cref="ConcurrencyRetry"/>): the attempt runs again.</summary>
    private sealed class EntryWriteConflict(RequestFailedException inner) : Exception(inner.Message, inner);

    /// <summary>
    /// A new change with a DND meaning that the entry already covers (an older bounce than the cause it holds) still moves
    /// the row's ETag, with an empty merge: a caller that checked the history and then writes conditionally
    /// (<see cref="ApplyIfUnchangedAsync"/>) must see that something landed in between, though the entry's content did
    /// not change. Lost races are fine: whoever changed the row moved its ETag anyway.
    /// </summary>
    private async Task TouchAsync(TableEntity read, CancellationToken cancellationToken)
    {
        try
        {
            await _entries.UpdateEntityAsync(new TableEntity(read.PartitionKey, read.RowKey), read.ETag, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
        }
    }

    private void Log(DndChange change, DndEntry entry, DndStatus before, DndStatus after, string entryOutcome, string historyOutcome) =>
        DndLog.Applied(_logger, DndKeys.TenantKey(entry.Tenant), DndKeys.Hash(DndKeys.AddressKey(entry.Address), 12), change.Kind,
            DndHistoryRecord.SourceName(change.Source), change.Rule, before.State, after.State, entryOutcome, historyOutcome);
}
