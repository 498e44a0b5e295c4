using System.Globalization;
using System.Net;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Storage;
using MailgunFunctions.Telemetry;
using MailgunFunctions.Tenants;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Export;

/// <summary>What became of one export job.</summary>
public enum ExportJobOutcome
{
    /// <summary>The scope is exported and reconciled for the job's date (now, or by an earlier job: then skipped).</summary>
    Completed,

    /// <summary>Failed for a reason retrying cannot fix (key refused, tenant unknown or disconnected): recorded, not retried.</summary>
    Failed,

    /// <summary>The time budget ran out: the scope keeps its checkpoint and a continuation job is queued.</summary>
    Continued,

    /// <summary>The message is not a job: moved to the poison queue.</summary>
    Unreadable,

    /// <summary>The tenant is being moved between storage shards: the job is queued again for later (a continuation).</summary>
    Deferred,
}

public sealed record ExportJobResult(ExportJobOutcome Outcome, ExportJob? Job, string? Error = null, ExportSummary? Summary = null);

/// <summary>
/// The export queue function's whole job, without the Functions host: export and reconcile one tenant's domain for the
/// job's date, with that tenant's API key and the domain's region, continuing from the scope's checkpoints.
/// <list type="bullet">
/// <item>A failure retrying cannot fix (Mailgun refuses the key: 401/403, or any other 4xx; no API key; the tenant is
/// unknown or disconnected; the domain is no longer the tenant's) fails this scope alone and visibly: state
/// <c>Failed</c> with the error in <c>ExportRuns</c>, log event 7021, and the call returns, so the host completes the
/// message instead of retrying it pointlessly.</item>
/// <item>Anything else (Mailgun 5xx/429 or unreachable after the client's retries, storage) throws: the host retries the
/// job (maxDequeueCount), which continues from the last checkpoint, and then moves it to poison.</item>
/// <item>After <see cref="SuppressionExportOptions.JobTimeBudget"/> the job stops at its last checkpoint and queues its
/// continuation (event 7024), so no job ever meets the host's functionTimeout.</item>
/// </list>
/// </summary>
public sealed class ExportJobRunner(SuppressionExport export, TenantDirectory tenants, StorageShard shard, ExportRunStore runs, ExportJobQueue queue,
    IOptions<SuppressionExportOptions> options, TimeProvider time, ILogger<ExportJobRunner> logger, MailgunMetrics metrics)
{
    /// <summary>Continuations of one job at most (6.4 hours of work at the default budget); then the scope fails, keeping its checkpoint.</summary>
    public const int MaxContinuations = 48;

    /// <summary>How long a job of a tenant being moved between shards waits before it is tried again (a move takes minutes).</summary>
    public static readonly TimeSpan MoveDeferral = TimeSpan.FromMinutes(5);

    private readonly TimeSpan _budget = options.Value.JobTimeBudget;

    /// <param name="messageText">The message as the queue trigger hands it over (already base64-decoded by the host).</param>
    /// <param name="dequeueCount">The host's delivery count of the message (1 on the first attempt).</param>
    public async Task<ExportJobResult> RunAsync(string messageText, long dequeueCount, CancellationToken cancellationToken)
    {
        try
        {
            var result = await RunJobAsync(messageText, dequeueCount, cancellationToken).ConfigureAwait(false);
            metrics.ExportJob(result.Job?.Scope.Tenant, result.Outcome.ToString().ToLowerInvariant());
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The host retries the job; counted so that a tenant whose export keeps failing transiently shows before poison.
            metrics.ExportJob(TenantOf(messageText), "retried");
            throw;
        }
    }

    /// <summary>The tenant a job names, or null when the message is not a job (the runner then parks it).</summary>
    public static string? TenantOf(string messageText)
    {
        try
        {
            return ExportJob.Parse(messageText).Scope.Tenant;
        }
        catch (ExportJobFormatException)
        {
            return null;
        }
    }

    private async Task<ExportJobResult> RunJobAsync(string messageText, long dequeueCount, CancellationToken cancellationToken)
    {
        ExportJob job;
        try
        {
            job = ExportJob.Parse(messageText);
        }
        catch (ExportJobFormatException ex)
        {
            ExportLog.JobUnreadable(logger, ex.Message);
            await queue.PoisonAsync(messageText, cancellationToken).ConfigureAwait(false);
            return new ExportJobResult(ExportJobOutcome.Unreadable, null, ex.Message);
        }

        var scope = job.Scope;
        string day = job.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        try
        {
            // A registry that cannot be read throws here: retried like any storage failure.
            var tenant = await tenants.FindAsync(scope.Tenant, cancellationToken).ConfigureAwait(false);
            if (ExportScopes.Refusal(tenant, scope) is { } refusal)
            {
                return await RefuseAsync(job, refusal, cancellationToken).ConfigureAwait(false);
            }

            if (job.Continuation > MaxContinuations)
            {
                return await RefuseAsync(job, $"did not finish within {MaxContinuations} continuations (time budgets of {_budget}, SuppressionExport__JobTimeBudget, or waits for a tenant move); " +
                    $"its checkpoints stay: mailgun-ops export --tenant {scope.Tenant} --domain {scope.Domain} continues it", cancellationToken).ConfigureAwait(false);
            }

            var resolved = tenant!.Tenant;
            if (TenantShards.StandingOf(resolved, shard.Number) != TenantStanding.Here)
            {
                // Reconciliation writes the tenant's DND entries: not while tenant move copies them (a change on the source
                // after the copy would be lost at the switch), nor on a shard it has just left. Later, on its shard.
                var later = job with { Continuation = job.Continuation + 1 };
                await queue.SendAsync(later, MoveDeferral, cancellationToken).ConfigureAwait(false);
                ExportLog.ScopeDeferred(logger, scope.Key, day, MoveDeferral);
                return new ExportJobResult(ExportJobOutcome.Deferred, later);
            }

            using var budget = new CancellationTokenSource(_budget, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, budget.Token);
            try
            {
                var summary = await export.ExportDomainAsync(resolved, resolved.MailgunDomain(resolved.Domain(scope.Domain)!), job.Date, linked.Token).ConfigureAwait(false);
                return new ExportJobResult(ExportJobOutcome.Completed, job, Summary: summary);
            }
            catch (OperationCanceledException) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // Every list keeps its last checkpoint (a cancellation is not recorded as a failure): the next job continues there.
                var next = job with { Continuation = job.Continuation + 1 };
                await queue.SendAsync(next, cancellationToken).ConfigureAwait(false);
                ExportLog.ScopeContinued(logger, scope.Key, day, _budget, next.Continuation);
                return new ExportJobResult(ExportJobOutcome.Continued, next);
            }
        }
        catch (MailgunApiException ex) when (RetryCannotHelp(ex))
        {
            // The export has recorded the failure (state Failed, the error) in ExportRuns already.
            ExportLog.ScopeFailed(logger, scope.Key, day, ex.Message);
            return new ExportJobResult(ExportJobOutcome.Failed, job, ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ExportLog.ScopeRetried(logger, ex, scope.Key, day, dequeueCount);
            throw;
        }
    }

    /// <summary>Records a scope that cannot be exported as failed, unless an earlier job completed it for this date.</summary>
    private async Task<ExportJobResult> RefuseAsync(ExportJob job, string error, CancellationToken cancellationToken)
    {
        string day = job.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var previous = await runs.GetAsync(job.Scope, job.Date, null, cancellationToken).ConfigureAwait(false);
        if (previous is { State: ExportState.Completed })
        {
            // E.g. disconnected after tonight's export: what was exported stays valid, and the night stays complete.
            ExportLog.DomainSkipped(logger, job.Scope.Key, day);
            return new ExportJobResult(ExportJobOutcome.Completed, job);
        }

        await runs.SaveAsync(new ExportStatus
        {
            Scope = job.Scope, Date = job.Date, State = ExportState.Failed, StartedAt = time.GetUtcNow(), Attempts = (previous?.Attempts ?? 0) + 1, Error = error,
        }, cancellationToken).ConfigureAwait(false);
        ExportLog.ScopeFailed(logger, job.Scope.Key, day, error);
        return new ExportJobResult(ExportJobOutcome.Failed, job, error);
    }

    /// <summary>
    /// Mailgun's 4xx answers other than 408 and 429 say a setting is wrong (a revoked or refused key, a domain in the wrong
    /// region or unknown to the account); so does a missing key. The client has retried everything else already.
    /// </summary>
    private static bool RetryCannotHelp(MailgunApiException ex) =>
        ex.IsMissingApiKey
        || ex.StatusCode is { } status && (int)status is >= 400 and < 500 && status is not HttpStatusCode.RequestTimeout and not HttpStatusCode.TooManyRequests;
}
