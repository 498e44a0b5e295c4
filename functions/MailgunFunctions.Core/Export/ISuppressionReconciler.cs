using System.Text;
using Azure.Storage.Blobs;
using MailgunFunctions.MailgunApi;

namespace MailgunFunctions.Export;

/// <summary>
/// Compares a finished export with our DND table (its purpose: addresses Mailgun suppresses but we do not get a
/// Mailgun-sourced DND; addresses DND here but not suppressed by Mailgun are listed for review). Called once per
/// domain and date after every list is exported, and again on a rerun of the same date: it must be idempotent.
/// <see cref="SuppressionReconciler"/> is the one <c>AddMailgunCore</c> registers; without any the summary says
/// <c>"reconciliation": "not-configured"</c>.
/// </summary>
public interface ISuppressionReconciler
{
    /// <summary>Returns counts to publish in the summary under <c>reconciliationCounts</c> (e.g. applied, forReview).</summary>
    Task<IReadOnlyDictionary<string, long>> ReconcileAsync(ExportScope scope, DateOnly exportDate, ExportedSuppressions exported, CancellationToken cancellationToken);
}

/// <summary>
/// What one export covers: one sending domain of one tenant. Mailgun keeps suppressions per domain; the DND belongs to the
/// tenant, so the reconciliation compares the domain's lists with the tenant's DND table. <see cref="Key"/>
/// (<c>{tenant}/{domain}</c>) names its blob folder and its <c>ExportRuns</c> partition.
/// </summary>
public sealed record ExportScope(string Tenant, string Domain)
{
    public string Key => $"{Tenant}/{Domain}";

    public override string ToString() => Key;
}

/// <summary>
/// Re-streams the finished CSV exports of one domain and date from Blob Storage, one record at a time, exactly as
/// Mailgun gave them (formula neutralisation undone), so a reconciliation sees the same snapshot as the export.
/// </summary>
public sealed class ExportedSuppressions(BlobContainerClient container, ExportScope scope, DateOnly date)
{
    public ExportScope Scope { get; } = scope;
    public DateOnly Date { get; } = date;

    public async IAsyncEnumerable<SuppressionRecord> ReadAsync(SuppressionList list, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var blob = container.GetBlobClient(ExportBlobNames.List(Scope, Date, list));
        await using var stream = await blob.OpenReadAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        using var text = new StreamReader(stream, Encoding.UTF8);
        await foreach (var record in SuppressionCsv.ReadAsync(list, text, cancellationToken).ConfigureAwait(false))
        {
            yield return record;
        }
    }
}

/// <summary>Blob layout of the <c>suppression-exports</c> container.</summary>
public static class ExportBlobNames
{
    public static string Folder(ExportScope scope, DateOnly date) => $"{scope.Key}/{date:yyyy-MM-dd}";

    /// <summary>The finished CSV: present only once the whole list is written.</summary>
    public static string List(ExportScope scope, DateOnly date, SuppressionList list) => $"{Folder(scope, date)}/{list.PathSegment()}.csv";

    /// <summary>Where a CSV is written before it is complete; deleted once copied to <see cref="List"/>.</summary>
    public static string Partial(ExportScope scope, DateOnly date, SuppressionList list) => $"{Folder(scope, date)}/_partial/{list.PathSegment()}.csv";

    public static string Summary(ExportScope scope, DateOnly date) => $"{Folder(scope, date)}/summary.json";

    /// <summary>Our own DND table of the tenant, evaluated at the run time.</summary>
    public static string Dnd(ExportScope scope, DateOnly date) => $"{Folder(scope, date)}/dnd.csv";

    /// <summary>Addresses DND here that none of Mailgun's suppression lists holds (for review; never changed).</summary>
    public static string Review(ExportScope scope, DateOnly date) => $"{Folder(scope, date)}/review-dnd-not-in-mailgun.csv";

    /// <summary>The human-readable report of the run.</summary>
    public static string Report(ExportScope scope, DateOnly date) => $"{Folder(scope, date)}/report.md";

    /// <summary>Where any file of the folder (by its file name) is written before it is complete.</summary>
    public static string Partial(ExportScope scope, DateOnly date, string fileName) => $"{Folder(scope, date)}/_partial/{fileName}";
}
