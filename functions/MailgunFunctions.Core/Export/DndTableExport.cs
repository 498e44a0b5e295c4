using System.Globalization;
using Azure.Storage.Blobs;
using MailgunFunctions.Dnd;

namespace MailgunFunctions.Export;

/// <summary>
/// Writes the tenant's own DND table beside one domain's Mailgun lists: <c>{tenant}/{domain}/{date}/dnd.csv</c>, one row per entry
/// with its state evaluated by <see cref="DndPolicy"/> at the run time (the stored State column is only what it was at
/// the last write: a temporary DND may have ended since). Streams the partition page by page into staged blocks.
/// </summary>
internal static class DndTableExport
{
    public static readonly string Header = "address,state,reasons,since,until,last_event,last_event_at\r\n";

    public static async Task<long> WriteAsync(DndStore store, DndOptions options, BlobContainerClient container, ExportScope scope, DateOnly date,
        DateTimeOffset now, int blockSizeBytes, CancellationToken cancellationToken)
    {
        await using var csv = new StagedCsvBlob(container, ExportBlobNames.Partial(scope, date, "dnd.csv"), ExportBlobNames.Dnd(scope, date), blockSizeBytes);
        await csv.WriteAsync(Header, cancellationToken).ConfigureAwait(false);
        long rows = 0;
        await foreach (var entry in store.ListAsync(scope.Tenant, cancellationToken).ConfigureAwait(false))
        {
            var status = DndPolicy.Evaluate(entry, now, options);
            await csv.WriteAsync(Row(entry, status), cancellationToken).ConfigureAwait(false);
            rows++;
        }

        await csv.CommitAsync(cancellationToken).ConfigureAwait(false);
        return rows;
    }

    /// <summary>
    /// Reasons: the one that decides the state first, then every other cause the entry still holds (a complaint, the
    /// latest permanent cause with its category), so a reader sees e.g. that an unsubscribed address also bounced.
    /// </summary>
    internal static string Row(DndEntry entry, DndStatus status)
    {
        var cause = entry.LatestPermanentCause;
        string? causeText = cause is null ? null : cause.Detail is { Length: > 0 } category ? $"{cause.Label} ({category})" : cause.Label;
        var reasons = new List<string>();
        if (status.State != DndState.None)
        {
            reasons.Add(cause is not null && status.Reason == cause.Label ? causeText! : status.Reason);
        }

        if (entry.LatestComplaintAt is not null && !reasons.Contains(DndPolicy.ComplaintReason))
        {
            reasons.Add(DndPolicy.ComplaintReason);
        }

        if (causeText is not null && !reasons.Contains(causeText))
        {
            reasons.Add(causeText);
        }

        return SuppressionCsv.Line(entry.Address, DndNames.Of(status.State), string.Join("; ", reasons), Time(status.Since), Time(status.Until),
            entry.LastEvent?.Label, Time(entry.LastEvent?.At));
    }

    internal static string? Time(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
