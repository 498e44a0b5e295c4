using System.Text;
using Azure.Storage.Blobs;
using MailgunFunctions.MailgunApi;

namespace MailgunFunctions.Export;

/// <summary>
/// Compares a finished export with our DND table (issue 5: addresses Mailgun suppresses but we do not get a
/// Mailgun-sourced DND; addresses DND here but not suppressed by Mailgun are listed for review). Called once per
/// domain and date after every list is exported, and again on a rerun of the same date: it must be idempotent.
/// <see cref="SuppressionReconciler"/> is the one <c>AddMailgunCore</c> registers; without any the summary says
/// <c>"reconciliation": "not-configured"</c>.
/// </summary>
public interface ISuppressionReconciler
{
    /// <summary>Returns counts to publish in the summary under <c>reconciliationCounts</c> (e.g. applied, forReview).</summary>
    Task<IReadOnlyDictionary<string, long>> ReconcileAsync(string domain, DateOnly date, ExportedSuppressions exported, CancellationToken cancellationToken);
}

/// <summary>
/// Re-streams the finished CSV exports of one domain and date from Blob Storage, one record at a time, exactly as
/// Mailgun gave them (formula neutralisation undone), so a reconciliation sees the same snapshot as the export.
/// </summary>
public sealed class ExportedSuppressions(BlobContainerClient container, string domain, DateOnly date)
{
    public string Domain { get; } = domain;
    public DateOnly Date { get; } = date;

    public async IAsyncEnumerable<SuppressionRecord> ReadAsync(SuppressionList list, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var blob = container.GetBlobClient(ExportBlobNames.List(Domain, Date, list));
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
    public static string Folder(string domain, DateOnly date) => $"{domain}/{date:yyyy-MM-dd}";

    /// <summary>The finished CSV: present only once the whole list is written.</summary>
    public static string List(string domain, DateOnly date, SuppressionList list) => $"{Folder(domain, date)}/{list.PathSegment()}.csv";

    /// <summary>Where a CSV is written before it is complete; deleted once copied to <see cref="List"/>.</summary>
    public static string Partial(string domain, DateOnly date, SuppressionList list) => $"{Folder(domain, date)}/_partial/{list.PathSegment()}.csv";

    public static string Summary(string domain, DateOnly date) => $"{Folder(domain, date)}/summary.json";

    /// <summary>Our own DND table of the domain, evaluated at the run time.</summary>
    public static string Dnd(string domain, DateOnly date) => $"{Folder(domain, date)}/dnd.csv";

    /// <summary>Addresses DND here that none of Mailgun's suppression lists holds (for review; never changed).</summary>
    public static string Review(string domain, DateOnly date) => $"{Folder(domain, date)}/review-dnd-not-in-mailgun.csv";

    /// <summary>The human-readable report of the run.</summary>
    public static string Report(string domain, DateOnly date) => $"{Folder(domain, date)}/report.md";

    /// <summary>Where any file of the folder (by its file name) is written before it is complete.</summary>
    public static string Partial(string domain, DateOnly date, string fileName) => $"{Folder(domain, date)}/_partial/{fileName}";
}
