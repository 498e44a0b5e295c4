using System.Globalization;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Export;

/// <summary>
/// The nightly export of Mailgun's suppression lists: for each configured domain and a date, every list is
/// streamed page by page into <c>suppression-exports/{domain}/{yyyy-MM-dd}/{list}.csv</c> (never held in memory),
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
    private readonly BlobContainerClient _container;
    private readonly ExportRunStore _runs;
    private readonly IReadOnlyList<ISuppressionReconciler> _reconcilers;
    private readonly TimeProvider _time;
    private readonly ILogger<SuppressionExport> _logger;
    private readonly CreateOnce _created;
    private readonly SuppressionExportOptions _options;

    public SuppressionExport(MailgunApiClient api, StorageClients storage, ExportRunStore runs, IEnumerable<ISuppressionReconciler> reconcilers,
        IOptions<SuppressionExportOptions> options, TimeProvider time, ILogger<SuppressionExport> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        ArgumentNullException.ThrowIfNull(storage);
        _api = api;
        _container = storage.Blobs.GetBlobContainerClient(StorageNames.SuppressionExportsContainer);
        _runs = runs;
        _reconcilers = reconcilers.ToList();
        _time = time;
        _logger = logger;
        _created = new CreateOnce(ct => _container.CreateIfNotExistsAsync(cancellationToken: ct));
    }

    /// <summary>
    /// Exports every configured domain for <paramref name="date"/>. A failing domain does not stop the others;
    /// afterwards the run throws <see cref="SuppressionExportException"/> naming each failure, so the timer run shows as failed.
    /// </summary>
    public async Task<IReadOnlyList<ExportSummary>> RunAsync(DateOnly date, CancellationToken cancellationToken)
    {
        string day = Day(date);
        if (_api.Domains.Count == 0)
        {
            ExportLog.NoDomains(_logger, day);
            return [];
        }

        var summaries = new List<ExportSummary>();
        var failures = new List<Exception>();
        foreach (var domain in _api.Domains)
        {
            try
            {
                summaries.Add(await ExportDomainAsync(domain.Name, date, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                ExportLog.DomainFailed(_logger, ex, domain.Name, day);
                failures.Add(ex);
            }
        }

        if (failures.Count > 0)
        {
            throw new SuppressionExportException(
                $"Suppression export {day} failed for {failures.Count} of {_api.Domains.Count} domain(s): " + string.Join(" | ", failures.Select(f => f.Message)),
                failures);
        }

        return summaries;
    }

    /// <summary>Exports one configured domain for <paramref name="date"/> and returns its summary.</summary>
    public async Task<ExportSummary> ExportDomainAsync(string domain, DateOnly date, CancellationToken cancellationToken)
    {
        var configured = _api.Domains.FirstOrDefault(d => string.Equals(d.Name.Trim(), domain, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Domain '{domain}' is not configured in {MailgunApiOptions.Section}__Domains.", nameof(domain));
        string key = configured.Name.Trim().ToLowerInvariant();
        string day = Day(date);
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);

        var previousRun = await _runs.GetAsync(key, date, null, cancellationToken).ConfigureAwait(false);
        if (previousRun is { State: ExportState.Completed } && await FinishedSummaryAsync(key, date, cancellationToken).ConfigureAwait(false) is { } finished)
        {
            // Lets the timer fire several times a night (to continue a large export) at the cost of a few reads per domain.
            ExportLog.DomainSkipped(_logger, key, day);
            return finished;
        }

        var started = _time.GetUtcNow();
        await _runs.SaveAsync(new ExportStatus { Domain = key, Date = date, State = ExportState.Running, StartedAt = started, Attempts = (previousRun?.Attempts ?? 0) + 1 }, cancellationToken).ConfigureAwait(false);
        try
        {
            var (previousDate, previous) = await PreviousSummaryAsync(key, date, cancellationToken).ConfigureAwait(false);
            var lists = new List<ExportStatus>();
            foreach (var list in SuppressionLists.All)
            {
                ExportListSummary? before = null;
                previous?.Lists.TryGetValue(list.PathSegment(), out before);
                lists.Add(await ExportListAsync(configured.Name.Trim(), key, date, list, before?.StartedAt, cancellationToken).ConfigureAwait(false));
            }

            string reconciliation = "not-configured";
            Dictionary<string, long>? reconciliationCounts = null;
            if (_reconcilers.Count == 0)
            {
                ExportLog.ReconciliationNotConfigured(_logger, key, day);
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
            long Count(SuppressionList l) => summary.Lists[l.PathSegment()].Records;
            ExportLog.Summary(_logger, key, day, Count(SuppressionList.Bounces), Count(SuppressionList.Complaints), Count(SuppressionList.Unsubscribes),
                Count(SuppressionList.Allowlist), summary.PreviousExport, summary.TotalNewSincePrevious, reconciliation,
                Newtonsoft.Json.JsonConvert.SerializeObject(summary, Newtonsoft.Json.Formatting.None, ExportSummary.JsonSettings));

            await _runs.SaveAsync(new ExportStatus
            {
                Domain = key, Date = date, State = ExportState.Completed, Records = summary.TotalRecords, NewSincePrevious = summary.TotalNewSincePrevious,
                Codes = summary.Codes, StartedAt = started, CompletedAt = summary.CompletedAt, Attempts = (previousRun?.Attempts ?? 0) + 1,
                Blob = ExportBlobNames.Summary(key, date),
            }, cancellationToken).ConfigureAwait(false);
            return summary;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await SaveFailureAsync(new ExportStatus
            {
                Domain = key, Date = date, State = ExportState.Failed, StartedAt = started, Attempts = (previousRun?.Attempts ?? 0) + 1, Error = ex.Message,
            }).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<ExportStatus> ExportListAsync(string domain, string key, DateOnly date, SuppressionList list, DateTimeOffset? baseline, CancellationToken cancellationToken)
    {
        string day = Day(date);
        string name = list.PathSegment();
        string finalName = ExportBlobNames.List(key, date, list);
        var partial = _container.GetBlockBlobClient(ExportBlobNames.Partial(key, date, list));
        var existing = await _runs.GetAsync(key, date, list, cancellationToken).ConfigureAwait(false);
        if (existing is { State: ExportState.Completed } && await _container.GetBlobClient(finalName).ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            ExportLog.ListSkipped(_logger, key, day, name, existing.Records);
            return existing;
        }

        int attempt = (existing?.Attempts ?? 0) + 1;
        var checkpoint = await UsableCheckpointAsync(existing, partial, cancellationToken).ConfigureAwait(false);
        var current = new ExportStatus
        {
            Domain = key, Date = date, List = list, State = ExportState.Running, Attempts = attempt,
            StartedAt = checkpoint?.StartedAt ?? _time.GetUtcNow(),
            Records = checkpoint?.Records ?? 0,
            NewSincePrevious = baseline is null ? null : checkpoint?.NewSincePrevious ?? 0,
            Codes = checkpoint?.Codes ?? new Dictionary<string, long>(),
            ResumeFrom = checkpoint?.ResumeFrom,
            Blocks = checkpoint?.Blocks ?? [],
        };
        await _runs.SaveAsync(current, cancellationToken).ConfigureAwait(false);
        if (checkpoint is null)
        {
            ExportLog.ListStarted(_logger, key, day, name, attempt);
        }
        else
        {
            ExportLog.ListResumed(_logger, key, day, name, attempt, current.Records);
        }

        long records = current.Records, fresh = current.NewSincePrevious ?? 0;
        var codes = new Dictionary<string, long>(current.Codes, StringComparer.Ordinal);
        var blocks = current.Blocks.ToList();
        try
        {
            using var buffer = new MemoryStream();
            await using (var writer = new StreamWriter(buffer, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 64 * 1024, leaveOpen: true))
            {
                if (blocks.Count == 0)
                {
                    await writer.WriteAsync((SuppressionCsv.Header(list) + "\r\n").AsMemory(), cancellationToken).ConfigureAwait(false);
                }

                Uri? resumeFrom = current.ResumeFrom is { } from ? new Uri(from) : null;
                await foreach (var page in _api.StreamSuppressionPagesAsync(domain, list, resumeFrom, cancellationToken).ConfigureAwait(false))
                {
                    foreach (var record in page.Records)
                    {
                        await writer.WriteAsync(SuppressionCsv.Row(list, record).AsMemory(), cancellationToken).ConfigureAwait(false);
                        records++;
                        if (baseline is { } since && record.CreatedAtUtc > since)
                        {
                            fresh++;
                        }

                        if (list == SuppressionList.Bounces)
                        {
                            CountCode(codes, record.Code);
                        }
                    }

                    await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                    // Checkpoint only on a page boundary with a page after it: the uploaded blocks then hold exactly
                    // the pages before ResumeFrom, so a resumed run neither skips nor repeats a record.
                    if (buffer.Length >= _options.BlockSizeBytes && page.Next is not null)
                    {
                        await StageAsync(partial, buffer, blocks, attempt, cancellationToken).ConfigureAwait(false);
                        current = current with
                        {
                            Records = records, NewSincePrevious = baseline is null ? null : fresh, Codes = new Dictionary<string, long>(codes),
                            ResumeFrom = page.Next.AbsoluteUri, Blocks = blocks.ToList(),
                        };
                        await _runs.SaveAsync(current, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            if (buffer.Length > 0)
            {
                await StageAsync(partial, buffer, blocks, attempt, cancellationToken).ConfigureAwait(false);
            }

            // Blocks stay invisible until committed; only a complete list then reaches its final name, so a reader
            // never takes half an export for a finished one.
            await partial.CommitBlockListAsync(blocks, new CommitBlockListOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" } }, cancellationToken).ConfigureAwait(false);
            var final = _container.GetBlobClient(finalName);
            var copy = await final.StartCopyFromUriAsync(partial.Uri, cancellationToken: cancellationToken).ConfigureAwait(false);
            await copy.WaitForCompletionAsync(cancellationToken).ConfigureAwait(false);
            await partial.DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);

            var completed = current with
            {
                State = ExportState.Completed,
                Records = records,
                NewSincePrevious = baseline is null ? null : fresh,
                Codes = codes,
                CompletedAt = _time.GetUtcNow(),
                Blob = finalName,
                ResumeFrom = null,
                Blocks = [],
            };
            await _runs.SaveAsync(completed, cancellationToken).ConfigureAwait(false);
            ExportLog.ListCompleted(_logger, key, day, name, records, finalName);
            return completed;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ExportLog.ListFailed(_logger, ex, key, day, name, records);
            // The last checkpoint stays: the next run continues from it.
            await SaveFailureAsync(current with { State = ExportState.Failed, Error = ex.Message }).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The checkpoint of an unfinished earlier attempt, if its uploaded blocks are all still there (uncommitted blocks
    /// are discarded by Azure after a week, or by a commit); otherwise null and the list starts over.
    /// </summary>
    private static async Task<ExportStatus?> UsableCheckpointAsync(ExportStatus? existing, BlockBlobClient partial, CancellationToken cancellationToken)
    {
        if (existing is not { State: ExportState.Running or ExportState.Failed, ResumeFrom: not null, Blocks.Count: > 0 })
        {
            return null;
        }

        try
        {
            var list = (await partial.GetBlockListAsync(BlockListTypes.Uncommitted, cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            var staged = list.UncommittedBlocks.Select(b => b.Name).ToHashSet(StringComparer.Ordinal);
            return existing.Blocks.All(staged.Contains) ? existing : null;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    private static async Task StageAsync(BlockBlobClient partial, MemoryStream buffer, List<string> blocks, int attempt, CancellationToken cancellationToken)
    {
        // Azure wants every block id of a blob to have the same length; the attempt keeps ids of a restarted list unique.
        string id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{attempt:D6}-{blocks.Count:D8}"));
        buffer.Position = 0;
        await partial.StageBlockAsync(id, buffer, cancellationToken: cancellationToken).ConfigureAwait(false);
        blocks.Add(id);
        buffer.SetLength(0);
    }

    private static void CountCode(Dictionary<string, long> codes, string? raw)
    {
        string code = string.IsNullOrWhiteSpace(raw) ? "none" : raw.Trim();
        if (!codes.ContainsKey(code) && codes.Count >= MaxDistinctCodes)
        {
            code = "other";
        }

        codes[code] = codes.GetValueOrDefault(code) + 1;
    }

    private async Task SaveFailureAsync(ExportStatus failed)
    {
        try
        {
            // Not the run's token: a failure should still be recorded when the run is being cancelled for its error.
            await _runs.SaveAsync(failed, CancellationToken.None).ConfigureAwait(false);
        }
        catch (RequestFailedException ex)
        {
            ExportLog.StatusNotSaved(_logger, ex, failed.Domain, Day(failed.Date));
        }
    }

    /// <summary>The summary of a finished run of this date, when it and every list's CSV are still there.</summary>
    private async Task<ExportSummary?> FinishedSummaryAsync(string key, DateOnly date, CancellationToken cancellationToken)
    {
        foreach (var list in SuppressionLists.All)
        {
            if (!await _container.GetBlobClient(ExportBlobNames.List(key, date, list)).ExistsAsync(cancellationToken).ConfigureAwait(false))
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
    private async Task<(string? Date, ExportSummary? Summary)> PreviousSummaryAsync(string key, DateOnly date, CancellationToken cancellationToken)
    {
        var earlier = new List<DateOnly>();
        await foreach (var item in _container.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, delimiter: "/", prefix: key + "/", cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (item.IsPrefix
                && DateOnly.TryParseExact(item.Prefix[(key.Length + 1)..].TrimEnd('/'), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var folder)
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

    private ExportSummary Summarise(MailgunDomainOptions configured, string key, DateOnly date, string? previousDate, ExportSummary? previous,
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
            Domain = key,
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
