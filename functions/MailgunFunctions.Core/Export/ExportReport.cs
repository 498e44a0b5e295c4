using System.Globalization;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace MailgunFunctions.Export;

/// <summary>
/// The human-readable <c>report.md</c> of one domain and date: counts per list and per code, new since the previous
/// export, the reconciliation counts and the most recent review items. Built from the summary and the review CSV
/// (streamed, keeping only the top items), so it costs no more memory than the summary itself.
/// </summary>
public static class ExportReport
{
    /// <summary>Review items shown in the report (the full list is the review CSV).</summary>
    public const int TopReviewItems = 20;

    public static async Task<string> WriteAsync(BlobContainerClient container, ExportSummary summary, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(summary);
        var date = DateOnly.ParseExact(summary.Date, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var top = await TopReviewAsync(container.GetBlobClient(ExportBlobNames.Review(summary.Scope, date)), cancellationToken).ConfigureAwait(false);
        string text = Render(summary, top);
        // One small upload is all or nothing: the report is never seen half written.
        await container.GetBlobClient(ExportBlobNames.Report(summary.Scope, date))
            .UploadAsync(BinaryData.FromString(text), new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/markdown; charset=utf-8" } }, cancellationToken)
            .ConfigureAwait(false);
        return text;
    }

    /// <param name="review">Rows of the review CSV (address, state, reasons, since...), most recent first.</param>
    public static string Render(ExportSummary summary, IReadOnlyList<IReadOnlyList<string>>? review)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var md = new StringBuilder();
        md.Append(CultureInfo.InvariantCulture, $"# Suppression export {summary.Domain} (tenant {summary.Tenant}) {summary.Date}\n\n");
        md.Append(CultureInfo.InvariantCulture, $"Region {summary.Region}, completed {summary.CompletedAt:yyyy-MM-dd HH:mm:ss} UTC. ");
        md.Append(summary.PreviousExport is { } previous ? $"Compared with the export of {previous}.\n\n" : "First export of this domain: nothing to compare with.\n\n");

        md.Append("## Mailgun's lists\n\n| List | Records | New since previous | Previous records |\n| --- | ---: | ---: | ---: |\n");
        foreach (var (name, list) in summary.Lists)
        {
            md.Append(CultureInfo.InvariantCulture, $"| {name} | {list.Records} | {Number(list.NewSincePrevious)} | {Number(list.PreviousRecords)} |\n");
        }

        md.Append(CultureInfo.InvariantCulture, $"| **total** | {summary.TotalRecords} | {Number(summary.TotalNewSincePrevious)} | |\n\n");

        md.Append("## Bounces per code\n\n");
        if (summary.Codes.Count == 0)
        {
            md.Append("No bounces.\n\n");
        }
        else
        {
            md.Append("| Code | Records |\n| --- | ---: |\n");
            foreach (var (code, count) in summary.Codes.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal))
            {
                md.Append(CultureInfo.InvariantCulture, $"| {Cell(code)} | {count} |\n");
            }

            md.Append('\n');
        }

        md.Append("## Reconciliation with the DND table\n\n");
        if (summary.ReconciliationCounts is not { } counts)
        {
            md.Append(CultureInfo.InvariantCulture, $"Not done ({summary.Reconciliation}).\n");
            return md.ToString();
        }

        md.Append("| Outcome | Addresses |\n| --- | ---: |\n");
        foreach (var (name, meaning) in Outcomes)
        {
            if (counts.TryGetValue(name, out long count))
            {
                md.Append(CultureInfo.InvariantCulture, $"| {meaning} (`{name}`) | {count} |\n");
            }
        }

        md.Append('\n');
        long reviewCount = counts.GetValueOrDefault(SuppressionReconciler.Review);
        if (review is null || review.Count == 0)
        {
            md.Append("Nothing to review: every permanent or locked DND entry is on one of Mailgun's lists.\n");
            return md.ToString();
        }

        md.Append(CultureInfo.InvariantCulture, $"### DND here but not suppressed by Mailgun: the {review.Count} most recent of {reviewCount}\n\n");
        md.Append("Never changed automatically. The full list is `review-dnd-not-in-mailgun.csv` beside this report.\n\n");
        md.Append("| Address | State | Reasons | Since |\n| --- | --- | --- | --- |\n");
        foreach (var row in review)
        {
            md.Append(CultureInfo.InvariantCulture, $"| {Cell(At(row, 0))} | {Cell(At(row, 1))} | {Cell(At(row, 2))} | {Cell(At(row, 3))} |\n");
        }

        return md.ToString();
    }

    private static readonly (string Name, string Meaning)[] Outcomes =
    [
        (SuppressionReconciler.Applied, "Suppressed by Mailgun, made DND here"),
        (SuppressionReconciler.AlreadyDnd, "Suppressed by Mailgun, already DND here"),
        (SuppressionReconciler.Review, "DND here, not suppressed by Mailgun (review)"),
        (SuppressionReconciler.ClearedHere, "Suppressed by Mailgun, cleared here by an operator"),
        (SuppressionReconciler.Allowlisted, "Bounces of allowlisted addresses, not DND"),
        (SuppressionReconciler.TagScoped, "Unsubscribed from some tags only at Mailgun (a DND here like every unsubscribe, also counted above)"),
        (SuppressionReconciler.EmptyAddress, "Records without an address"),
        (SuppressionReconciler.PointReads, "DND table point reads"),
        (SuppressionReconciler.DndExported, "Entries in dnd.csv"),
    ];

    /// <summary>The most recent review rows (by their <c>since</c>), keeping at most <see cref="TopReviewItems"/> in memory.</summary>
    private static async Task<IReadOnlyList<IReadOnlyList<string>>?> TopReviewAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        Stream stream;
        try
        {
            stream = await blob.OpenReadAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }

        // Ordered by since, then by the row text, so equal times still give one stable order.
        var top = new SortedSet<(string Since, string Key, List<string> Row)>(Comparer<(string Since, string Key, List<string> Row)>.Create(
            (a, b) => string.CompareOrdinal(a.Since, b.Since) is int c and not 0 ? c : string.CompareOrdinal(a.Key, b.Key)));
        await using (stream.ConfigureAwait(false))
        {
            using var text = new StreamReader(stream, Encoding.UTF8);
            bool header = true;
            await foreach (var row in SuppressionCsv.ReadRowsAsync(text, cancellationToken).ConfigureAwait(false))
            {
                if (header)
                {
                    header = false;
                    continue;
                }

                var restored = row.Select(SuppressionCsv.Restore).ToList();
                top.Add((At(restored, 3), string.Join('\n', restored), restored));
                if (top.Count > TopReviewItems)
                {
                    top.Remove(top.Min);
                }
            }
        }

        return top.Reverse().Select(t => (IReadOnlyList<string>)t.Row).ToList();
    }

    private static string At(IReadOnlyList<string> row, int i) => i < row.Count ? row[i] : "";

    private static string Number(long? n) => n?.ToString(CultureInfo.InvariantCulture) ?? "–";

    // A Markdown table cell: a pipe would split it, a line break would end the row, backticks and HTML would render.
    private static string Cell(string value) => value
        .Replace("\\", "\\\\", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal)
        .Replace("`", "\\`", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
