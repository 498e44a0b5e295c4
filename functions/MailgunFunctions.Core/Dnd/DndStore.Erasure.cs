using Azure;
using Azure.Data.Tables;

namespace MailgunFunctions.Dnd;

/// <summary>
/// The store's side of GDPR erasure (Erasure/DndErasure.cs moves an erased address's row to a kept, hashed row): reading
/// the kept suppression when an address has no plain row, and joining it into a row written meanwhile, so an erased
/// address stays suppressed whatever arrives after the erasure.
/// </summary>
public sealed partial class DndStore
{
    /// <summary>
    /// The suppression kept for an address whose personal data was erased (<c>Erasure.DndErasure</c>), with the address
    /// the caller gave, or null. Called only when the address has no plain row; a second point read only for tenants
    /// that have had an erasure (<see cref="ErasureMarks"/>).
    /// </summary>
    private async Task<DndEntry?> GetErasedAsync(string tenant, string address, CancellationToken cancellationToken) =>
        (await GetErasedRowAsync(tenant, address, cancellationToken).ConfigureAwait(false))?.Entry;

    /// <summary><see cref="GetErasedAsync"/> with the kept row itself (its version and announced state).</summary>
    private async Task<(DndEntry Entry, TableEntity Row)?> GetErasedRowAsync(string tenant, string address, CancellationToken cancellationToken)
    {
        if (!await _erasureMarks.MayHaveErasuresAsync(DndKeys.TenantKey(tenant), cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var erased = await _entries.GetEntityIfExistsAsync<TableEntity>(DndKeys.TenantKey(tenant), DndKeys.ErasedRowKey(address), cancellationToken: cancellationToken).ConfigureAwait(false);
        return erased.HasValue
            ? (DndEntryCodec.FromEntity(erased.Value!) with { Tenant = DndKeys.NormalizeTenant(tenant), Address = DndKeys.NormalizeAddress(address) }, erased.Value!)
            : null;
    }

    /// <summary>
    /// After an insert-first write that the erasure marker no longer covers (the insert took longer than the marker's
    /// lifetime): if the address had been erased, joins the kept suppression into the row just written, so the address
    /// stays suppressed. Practically never runs; exists so that a pause of the process cannot lose a suppression.
    /// </summary>
    private async Task<(DndEntry Entry, IReadOnlyList<DndNotice> Notices)> FoldInErasedAsync(string tenant, string address, string partition, string row, DndEntry written, DndChange change,
        CancellationToken cancellationToken)
    {
        var erasedRow = await GetErasedRowAsync(tenant, address, cancellationToken).ConfigureAwait(false);
        if (erasedRow is not { Entry: var erased, Row: var keptRow })
        {
            return (written, []);
        }

        while (true)
        {
            DateTimeOffset now = _time.GetUtcNow();
            var response = await _entries.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!response.HasValue)
            {
                // Moved by the erasure itself, which keeps what the row held.
                return (written.Join(erased), []);
            }

            var current = DndEntryCodec.FromEntity(response.Value!);
            var joined = current.Join(erased);
            if (joined.Equals(current))
            {
                return (joined, []);
            }

            try
            {
                // The row was written as new (version 1...): its versions go on from the kept row's, so none is ever reused.
                var rowAnnounced = DndChangeLog.AnnouncedOf(response.Value!);
                var announced = rowAnnounced with { Version = Math.Max(rowAnnounced.Version, DndChangeLog.AnnouncedOf(keptRow).Version) };
                var notices = await WriteEntryAsync(tenant, address, change, joined, announced, announced.Status, DndPolicy.Evaluate(joined, now, _options), now, response.Value!.ETag, cancellationToken).ConfigureAwait(false);
                return (joined, notices);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                // Changed meanwhile: join again on fresh data.
            }
        }
    }
}
