using MailgunFunctions.Export;
using Microsoft.Azure.Functions.Worker;

namespace MailgunFunctions.App;

/// <summary>
/// The nightly export of Mailgun's suppression lists (schedule: app setting <c>EXPORT_SCHEDULE</c>, e.g. <c>0 0 2 * * *</c>):
/// the timer only fans out, one job per tenant and domain; <see cref="SuppressionExportJobFunction"/> runs the jobs.
/// </summary>
public sealed class SuppressionExportFunction(ExportFanOut fanOut, TimeProvider time)
{
    /// <remarks>
    /// RunOnStartup off: it would fire on every cold start and scale-out. UseMonitor on: a run missed while the app
    /// was down fires late. The timer is a singleton (blob lease), so runs never overlap; a second run of the same
    /// date queues the jobs again, which is harmless (completed scopes are skipped).
    /// </remarks>
    [Function("ExportSuppressions")]
    public Task RunAsync([TimerTrigger("%EXPORT_SCHEDULE%", RunOnStartup = false, UseMonitor = true)] TimerInfo timer, CancellationToken cancellationToken) =>
        fanOut.RunAsync(DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime), cancellationToken);
}
