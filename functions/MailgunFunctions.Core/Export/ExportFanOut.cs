using System.Globalization;
using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Export;

/// <summary>
/// The nightly timer's whole job: one <see cref="ExportJob"/> per tenant and domain on <c>suppression-export-jobs</c>,
/// and nothing else. A timer run is one instance with a time limit; the queue function that runs the jobs scales out
/// (Flex Consumption), so 10,000 tenants finish in a night and one slow or broken tenant holds up nobody. Running the
/// fan-out twice for a date is harmless: a job whose scope is complete for its date is skipped by the export.
/// </summary>
public sealed class ExportFanOut(ExportScopes scopes, ExportJobQueue queue, ExportRunStore runs, TimeProvider time, ILogger<ExportFanOut> logger)
{
    public async Task<ExportFanOutRecord> RunAsync(DateOnly date, CancellationToken cancellationToken)
    {
        long started = time.GetTimestamp();
        var queuedAt = time.GetUtcNow();
        // Counted while the jobs are produced (Parallel.ForEachAsync reads the source one item at a time).
        var tenants = new HashSet<string>(StringComparer.Ordinal);

        async IAsyncEnumerable<ExportJob> Jobs()
        {
            await foreach (var scope in scopes.AllAsync(cancellationToken).ConfigureAwait(false))
            {
                tenants.Add(scope.Tenant);
                yield return new ExportJob(scope, date);
            }
        }

        int jobs = await queue.SendAsync(Jobs(), cancellationToken).ConfigureAwait(false);
        var record = new ExportFanOutRecord(date, jobs, tenants.Count, queuedAt, time.GetElapsedTime(started));
        await runs.SaveFanOutAsync(record, cancellationToken).ConfigureAwait(false);
        string day = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        if (jobs == 0)
        {
            ExportLog.NoDomains(logger, day);
        }

        ExportLog.JobsQueued(logger, day, jobs, tenants.Count, (long)record.Elapsed.TotalMilliseconds);
        return record;
    }
}
