using System.Globalization;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Export;

/// <summary>
/// The nightly export of Mailgun's suppression lists: for each tenant's domain and a date, every list is streamed page
/// by page, with the tenant's own API key and the domain's region, into
/// <c>suppression-exports/{tenant}/{domain}/{yyyy-MM-dd}/{list}.csv</c> (never held in memory),
/// then a <c>summary.json</c> is written and logged. Idempotent per domain and date: a list is uploaded in blocks to
/// <c>_partial/</c> and copied to its final name only when complete; each list's state and position (the next Mailgun
/// page and the blocks uploaded so far) is checkpointed in <c>ExportRuns</c>, so a rerun skips completed lists and
/// continues an unfinished one where its last checkpoint left it.
/// </summary>
public sealed class SuppressionExport
{
    /// <summary>Distinct bounce codes counted one by one; the rest go under "other" so a garbage code field cannot grow the summary.</summary>
    public const int MaxDistinctCodes = 200;

    private readonly MailgunApiClient _api;
    private readonly TenantDirectory _tenants;
    private readonly ExportScopes _scopes;
    private readonly BlobContainerClient _container;
    private readonly ExportRunStore _runs;
    private readonly IReadOnlyList<ISuppressionReconciler> _reconcilers;
    private readonly TimeProvider _time;
    private readonly ILogger<SuppressionExport> _logger;
    private readonly CreateOnce _created;
    private readonly SuppressionListExport _lists;
    private readonly NightlyReview _review;

    public SuppressionExport(MailgunApiClient api, TenantDirectory tenants, ExportScopes scopes, HomeStorage storage, ExportRunStore runs,
        IEnumerable<ISuppressionReconciler> reconcilers, IOptions<SuppressionExportOptions> options, TimeProvider time, ILogger<SuppressionExport> logger,
        NightlyReview review)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(storage);
        _api = api;
        _tenants = tenants;
        _scopes = scopes;
        _container = storage.Blobs.GetBlobContainerClient(StorageNames.SuppressionExportsContainer);
        _runs = runs;
        _reconcilers = reconcilers.ToList();
        _time = time;
        _logger = logger;
        _created = new CreateOnce(ct => _container.CreateIfNotExistsAsync(cancellationToken: ct));
        _lists = new SuppressionListExport(api, _container, runs, options.Value, time, logger);
        _review = review;
    }

    /// <summary>
    /// Exports every scope (<see cref="ExportScopes.AllAsync"/>) for <paramref name="date"/> in this process, one after
    /// the other: for tools and tests of a few domains. The nightly export fans out instead (<see cref="ExportFanOut"/>),
    /// one job per scope. A failing domain does not stop the others; afterwards the run throws
    /// <see cref="SuppressionExportException"/> naming each failure.
    /// </summary>
    public async Task<IReadOnlyList<ExportSummary>> RunAsync(DateOnly date, CancellationToken cancellationToken)
    {
        string day = Day(date);
        var summaries = new List<ExportSummary>();
        var failures = new List<Exception>();
        int scopes = 0;
        await foreach (var scope in _scopes.AllAsync(cancellationToken).ConfigureAwait(false))
        {
            scopes++;
            try
            {
                summaries.Add(await ExportDomainAsync(scope, date, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                ExportLog.DomainFailed(_logger, ex, scope.Key, day);
                failures.Add(ex);
            }
        }

        if (scopes == 0)
        {
            ExportLog.NoDomains(_logger, day);
        }

        if (failures.Count > 0)
        {
            throw new SuppressionExportException(
                $"Suppression export {day} failed for {failures.Count} of {scopes} domain(s): " + string.Join(" | ", failures.Select(f => f.Message)),
                failures);
        }

        return summaries;
    }

    /// <summary>Exports one domain of one tenant for <paramref name="date"/>, with that tenant's API key, and returns its summary.</summary>
    public async Task<ExportSummary> ExportDomainAsync(ExportScope scope, DateOnly date, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var tenant = await _tenants.FindAsync(scope.Tenant, cancellationToken).ConfigureAwait(false);
        if (ExportScopes.Refusal(tenant, scope) is { } refusal)
        {
            throw new ArgumentException(refusal, nameof(scope));
        }

        return await ExportDomainAsync(tenant!.Tenant, tenant.Tenant.MailgunDomain(tenant.Tenant.Domain(scope.Domain)!), date, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Exports <paramref name="target"/> (a domain of <paramref name="tenant"/>, with its key and region) for <paramref name="date"/>.</summary>
    public Task<ExportSummary> ExportDomainAsync(Tenant tenant, MailgunDomain target, DateOnly date, CancellationToken cancellationToken) =>
        ExportDomainAsync(tenant, target, date, null, cancellationToken);

    /// <summary>
    /// Exports <paramref name="target"/> (a domain of <paramref name="tenant"/>, with its key and region) for <paramref name="date"/>;
    /// <paramref name="recordsRead"/> hears of the records of each page read from Mailgun (the CLI shows progress with it).
    /// </summary>
    public async Task<ExportSummary> ExportDomainAsync(Tenant tenant, MailgunDomain target, DateOnly date, IProgress<long>? recordsRead, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(target);
        var configured = new TenantDomain(target.Name.Trim().ToLowerInvariant(), target.Region);
        var key = new ExportScope(tenant.Id, configured.Name);
        string day = Day(date);
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);

        var previousRun = await _runs.GetAsync(key, date, null, cancellationToken).ConfigureAwait(false);
        if (previousRun is { State: ExportState.Completed } && await FinishedSummaryAsync(key, date, cancellationToken).ConfigureAwait(false) is { } finished)
        {
            // Lets the timer fire several times a night (to continue a large export) at the cost of a few reads per domain.
            ExportLog.DomainSkipped(_logger, key.Key, day);
            return finished;
        }

        var started = _time.GetUtcNow();
        await _runs.SaveAsync(new ExportStatus { Scope = key, Date = date, State = ExportState.Running, StartedAt = started, Attempts = (previousRun?.Attempts ?? 0) + 1 }, cancellationToken).ConfigureAwait(false);
        try
        {
            var (previousDate, previous) = await PreviousSummaryAsync(key, date, cancellationToken).ConfigureAwait(false);
            var lists = new List<ExportStatus>();
            foreach (var list in SuppressionLists.All)
            {
                ExportListSummary? before = null;
                previous?.Lists.TryGetValue(list.PathSegment(), out before);
                lists.Add(await _lists.ExportAsync(target, key, date, list, before?.StartedAt, recordsRead, cancellationToken).ConfigureAwait(false));
            }

            string reconciliation = "not-configured";
            Dictionary<string, long>? reconciliationCounts = null;
            if (_reconcilers.Count == 0)
            {
                ExportLog.ReconciliationNotConfigured(_logger, key.Key, day);
            }
            else
            {
                var exported = new ExportedSuppressions(_container, key, date);
                reconciliationCounts = [];
                foreach (var reconciler in _reconcilers)
                {
                    foreach (var (name, count) in await reconciler.ReconcileAsync(key, date, exported, cancellationToken).ConfigureAwait(false))
                    {
                        reconciliationCounts[name] = reconciliationCounts.GetValueOrDefault(name) + count;
                    }
                }

                reconciliation = "done";
            }

            var summary = Summarise(configured, key, date, previousDate, previous, lists, reconciliation, reconciliationCounts);
            string json = summary.ToJson();
            await _container.GetBlobClient(ExportBlobNames.Summary(key, date))
                .UploadAsync(BinaryData.FromString(json), new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/json; charset=utf-8" } }, cancellationToken)
                .ConfigureAwait(false);
            await ExportReport.WriteAsync(_container, summary, cancellationToken).ConfigureAwait(false);
            long Count(SuppressionList l) => summary.Lists[l.PathSegment()].Records;
            long? Reconciled(string name) => reconciliationCounts?.GetValueOrDefault(name);
            ExportLog.Summary(_logger, key.Key, day, Count(SuppressionList.Bounces), Count(SuppressionList.Complaints), Count(SuppressionList.Unsubscribes),
                Count(SuppressionList.Allowlist), summary.PreviousExport, summary.TotalNewSincePrevious, reconciliation,
                Reconciled(SuppressionReconciler.Applied), Reconciled(SuppressionReconciler.AlreadyDnd), Reconciled(SuppressionReconciler.Review),
                Newtonsoft.Json.JsonConvert.SerializeObject(summary, Newtonsoft.Json.Formatting.None, ExportSummary.JsonSettings));

            await _runs.SaveAsync(new ExportStatus
            {
                Scope = key, Date = date, State = ExportState.Completed, Records = summary.TotalRecords, NewSincePrevious = summary.TotalNewSincePrevious,
                Codes = summary.Codes, StartedAt = started, CompletedAt = summary.CompletedAt, Attempts = (previousRun?.Attempts ?? 0) + 1,
                Blob = ExportBlobNames.Summary(key, date),
            }, cancellationToken).ConfigureAwait(false);
            // Once the scope is complete (a rerun of a complete date returns above and says nothing twice).
            await _review.PublishAsync(summary, date, cancellationToken).ConfigureAwait(false);
            return summary;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await SuppressionListExport.SaveFailureAsync(_runs, _logger, new ExportStatus
            {
                Scope = key, Date = date, State = ExportState.Failed, StartedAt = started, Attempts = (previousRun?.Attempts ?? 0) + 1, Error = ex.Message,
            }).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The summary of a finished run of this date, when it, every list's CSV and the report are still there.</summary>
    private async Task<ExportSummary?> FinishedSummaryAsync(ExportScope key, DateOnly date, CancellationToken cancellationToken)
    {
        // The report is written last (after the summary): with it present, everything of the run is there.
        foreach (string name in SuppressionLists.All.Select(l => ExportBlobNames.List(key, date, l)).Append(ExportBlobNames.Report(key, date)))
        {
            if (!await _container.GetBlobClient(name).ExistsAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
        }

        try
        {
            var content = await _container.GetBlobClient(ExportBlobNames.Summary(key, date)).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return ExportSummary.FromJson(content.Value.Content.ToString());
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <summary>The newest summary of an earlier date, if any; "new since" counts compare with it.</summary>
    private async Task<(string? Date, ExportSummary? Summary)> PreviousSummaryAsync(ExportScope key, DateOnly date, CancellationToken cancellationToken)
    {
        var earlier = new List<DateOnly>();
        await foreach (var item in _container.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, delimiter: "/", prefix: key.Key + "/", cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (item.IsPrefix
                && DateOnly.TryParseExact(item.Prefix[(key.Key.Length + 1)..].TrimEnd('/'), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var folder)
                && folder < date)
            {
                earlier.Add(folder);
            }
        }

        foreach (var candidate in earlier.OrderDescending())
        {
            try
            {
                var content = await _container.GetBlobClient(ExportBlobNames.Summary(key, candidate)).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
                if (ExportSummary.FromJson(content.Value.Content.ToString()) is { } summary)
                {
                    return (Day(candidate), summary);
                }
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // That day's run never finished: look further back.
            }
        }

        return (null, null);
    }

    private ExportSummary Summarise(TenantDomain configured, ExportScope key, DateOnly date, string? previousDate, ExportSummary? previous,
        IReadOnlyList<ExportStatus> lists, string reconciliation, Dictionary<string, long>? reconciliationCounts)
    {
        var perList = new Dictionary<string, ExportListSummary>(StringComparer.Ordinal);
        var codes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var status in lists)
        {
            string name = status.List!.Value.PathSegment();
            ExportListSummary? before = null;
            previous?.Lists.TryGetValue(name, out before);
            perList[name] = new ExportListSummary
            {
                Records = status.Records,
                NewSincePrevious = status.NewSincePrevious,
                PreviousRecords = before?.Records,
                StartedAt = status.StartedAt,
                Blob = status.Blob ?? ExportBlobNames.List(key, date, status.List.Value),
                Codes = new Dictionary<string, long>(status.Codes, StringComparer.Ordinal),
            };
            foreach (var (code, count) in status.Codes)
            {
                codes[code] = codes.GetValueOrDefault(code) + count;
            }
        }

        return new ExportSummary
        {
            Tenant = key.Tenant,
            Domain = key.Domain,
            Region = configured.Region.ToString(),
            Date = Day(date),
            CompletedAt = _time.GetUtcNow(),
            PreviousExport = previousDate,
            Lists = perList,
            TotalRecords = perList.Values.Sum(l => l.Records),
            TotalNewSincePrevious = perList.Values.All(l => l.NewSincePrevious is not null) ? perList.Values.Sum(l => l.NewSincePrevious!.Value) : null,
            Codes = codes,
            Reconciliation = reconciliation,
            ReconciliationCounts = reconciliationCounts,
        };
    }

    private static string Day(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// <summary>One or more domains failed to export; <see cref="AggregateException.InnerExceptions"/> has each cause.</summary>
public sealed class SuppressionExportException(string message, IEnumerable<Exception> failures) : AggregateException(message, failures);
