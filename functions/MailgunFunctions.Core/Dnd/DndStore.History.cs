using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;

namespace MailgunFunctions.Dnd;

/// <summary>
/// The store's history of why (the <c>DndHistory</c> table, one partition per address): each change is recorded once,
/// before its entry is written, so a redelivery after a crash completes the record instead of doubling it.
/// </summary>
public sealed partial class DndStore
{
    /// <summary>The history of one address, newest first (one partition query, all pages).</summary>
    public async IAsyncEnumerable<DndHistoryRecord> HistoryAsync(string tenant, string address, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        string partition = DndKeys.HistoryPartition(tenant, address);
        await foreach (var e in _history.QueryAsync<TableEntity>(x => x.PartitionKey == partition, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return DndHistoryRecord.FromEntity(e);
        }
    }

    /// <summary>
    /// Inserts the record, or, when this call inserted it before and an attempt since computed other states (a conflict,
    /// or an insert-first guess that met an existing entry), rewrites it. A record that already existed (an earlier
    /// delivery's) is left as it is.
    /// </summary>
    private async Task<(DndHistoryRecord? Inserted, bool Existed)> RecordAsync(DndHistoryRecord record, DndHistoryRecord? inserted, bool existed, CancellationToken cancellationToken)
    {
        if (existed)
        {
            return (null, true);
        }

        if (inserted is null)
        {
            return await AddHistoryAsync(record, cancellationToken).ConfigureAwait(false) ? (record, false) : (null, true);
        }

        if ((inserted.PreviousState, inserted.NewState, inserted.EntryUnchanged) != (record.PreviousState, record.NewState, record.EntryUnchanged))
        {
            await _history.UpdateEntityAsync(record.ToEntity(), ETag.All, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            return (record, false);
        }

        return (inserted, false);
    }

    private static DndHistoryRecord Record(DndEntry entry, DndChange change, DndState previous, DndStatus current, DateTimeOffset now, bool entryUnchanged) => new()
    {
        Tenant = entry.Tenant,
        Address = entry.Address,
        ChangeKey = change.Key,
        At = change.At,
        Source = change.Source,
        Kind = change.Kind,
        EventId = change.EventId,
        EventType = change.EventType,
        Category = change.Category is { } category ? DndNames.Of(category) : null,
        Code = change.Code,
        EnhancedCode = change.EnhancedCode,
        Message = change.Message,
        Rule = change.Rule,
        Explanation = change.Explanation,
        Actor = change.Actor,
        PreviousState = previous,
        NewState = current.State,
        RecordedAt = now,
        EntryUnchanged = entryUnchanged,
    };

    private async Task<bool> AddHistoryAsync(DndHistoryRecord record, CancellationToken cancellationToken)
    {
        try
        {
            await _history.AddEntityAsync(record.ToEntity(), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // Already recorded by an earlier delivery of the same change.
            return false;
        }
    }
}
