using System.Globalization;
using System.Net.Http.Json;
using MailgunFunctions.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Export;

/// <summary>
/// Makes each night's reconciliation reach people, per tenant and domain: a summary log event (7030) and metrics with the
/// tenant as a dimension (<c>mailgun.export.review</c>: entries to review, suppressions applied from Mailgun, records new
/// at Mailgun), and, when <see cref="SuppressionExportOptions.ReviewWebhookUrl"/> is set, a JSON POST of the same figures
/// to that URL (a chat or ticketing webhook). The POST is a courtesy: the export is complete before it, a failed POST is
/// logged (7031) and never fails or repeats the export; the report and the review CSV stay in Blob Storage either way.
/// </summary>
public sealed class NightlyReview(IHttpClientFactory http, IOptions<SuppressionExportOptions> options, MailgunMetrics metrics, ILogger<NightlyReview> logger)
{
    /// <summary>The named HttpClient of the POST (10 s timeout, no retries: tomorrow's summary comes anyway).</summary>
    public const string HttpClientName = "nightly-review";

    public async Task PublishAsync(ExportSummary summary, DateOnly date, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var counts = summary.ReconciliationCounts ?? new Dictionary<string, long>();
        long review = counts.GetValueOrDefault(SuppressionReconciler.Review);
        long applied = counts.GetValueOrDefault(SuppressionReconciler.Applied);
        long fresh = summary.TotalNewSincePrevious ?? 0;
        string report = ExportBlobNames.Report(summary.Scope, date);
        ExportLog.NightlyReview(logger, summary.Tenant, summary.Domain, summary.Date, review, applied, summary.TotalNewSincePrevious, summary.PreviousExport, report);
        metrics.ExportReview(summary.Tenant, summary.Domain, review, applied, fresh);

        if (options.Value.ReviewWebhookUrl is not { Length: > 0 } url)
        {
            return;
        }

        var body = new Dictionary<string, object?>
        {
            ["kind"] = "nightly-review",
            ["tenant"] = summary.Tenant,
            ["domain"] = summary.Domain,
            ["date"] = summary.Date,
            ["toReview"] = review,
            ["appliedFromMailgun"] = applied,
            ["newAtMailgun"] = summary.TotalNewSincePrevious,
            ["previousExport"] = summary.PreviousExport,
            ["report"] = report,
            // Slack and Teams incoming webhooks show "text"; other receivers read the fields.
            ["text"] = string.Create(CultureInfo.InvariantCulture,
                $"Nightly review {summary.Tenant} {summary.Domain} {summary.Date}: {review} DND entries not suppressed by Mailgun to review, {applied} suppressions applied from Mailgun, report {report}"),
        };
        try
        {
            using var response = await http.CreateClient(HttpClientName).PostAsJsonAsync(new Uri(url), body, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                ExportLog.NightlyReviewNotSent(logger, null, summary.Tenant, summary.Domain, summary.Date, $"HTTP {(int)response.StatusCode}");
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            ExportLog.NightlyReviewNotSent(logger, ex, summary.Tenant, summary.Domain, summary.Date, ex.GetType().Name);
        }
    }
}
