using System.Globalization;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using MailgunFunctions.MailgunApi;
using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Export;

/// <summary>
/// Exports one suppression list of one domain and date into its CSV: skips it when already complete, otherwise streams
/// Mailgun's pages into blocks of the partial blob, checkpointing (next page + blocks) after each block, and continues
/// from a usable checkpoint of an earlier attempt. Commits, copies to the final name and deletes the partial blob at the end.
/// </summary>
internal sealed class SuppressionListExport(MailgunApiClient api, BlobContainerClient container, ExportRunStore runs, SuppressionExportOptions options, TimeProvider time, ILogger logger)
{
    private readonly MailgunApiClient _api = api;
    private readonly BlobContainerClient _container = container;
    private readonly ExportRunStore _runs = runs;
    private readonly SuppressionExportOptions _options = options;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;

    public async Task<ExportStatus> ExportAsync(MailgunDomain domain, ExportScope key, DateOnly date, SuppressionList list, DateTimeOffset? baseline, IProgress<long>? recordsRead,
        CancellationToken cancellationToken)
    {
        string day = Day(date);
        string name = list.PathSegment();
        string finalName = ExportBlobNames.List(key, date, list);
        var partial = _container.GetBlockBlobClient(ExportBlobNames.Partial(key, date, list));
        var existing = await _runs.GetAsync(key, date, list, cancellationToken).ConfigureAwait(false);
        if (existing is { State: ExportState.Completed } && await _container.GetBlobClient(finalName).ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            ExportLog.ListSkipped(_logger, key.Key, day, name, existing.Records);
            return existing;
        }

        int attempt = (existing?.Attempts ?? 0) + 1;
        var checkpoint = await UsableCheckpointAsync(existing, partial, cancellationToken).ConfigureAwait(false);
        var current = new ExportStatus
        {
            Scope = key, Date = date, List = list, State = ExportState.Running, Attempts = attempt,
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
            ExportLog.ListStarted(_logger, key.Key, day, name, attempt);
        }
        else
        {
            ExportLog.ListResumed(_logger, key.Key, day, name, attempt, current.Records);
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

                    recordsRead?.Report(page.Records.Count);
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
            ExportLog.ListCompleted(_logger, key.Key, day, name, records, finalName);
            return completed;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ExportLog.ListFailed(_logger, ex, key.Key, day, name, records);
            // The last checkpoint stays: the next run continues from it.
            await SaveFailureAsync(_runs, _logger, current with { State = ExportState.Failed, Error = ex.Message }).ConfigureAwait(false);
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
        if (!codes.ContainsKey(code) && codes.Count >= SuppressionExport.MaxDistinctCodes)
        {
            code = "other";
        }

        codes[code] = codes.GetValueOrDefault(code) + 1;
    }

    /// <summary>Records a failure; a storage outage while doing so is logged, not thrown over the original error.</summary>
    public static async Task SaveFailureAsync(ExportRunStore runs, ILogger logger, ExportStatus failed)
    {
        try
        {
            // Not the run's token: a failure should still be recorded when the run is being cancelled for its error.
            await runs.SaveAsync(failed, CancellationToken.None).ConfigureAwait(false);
        }
        catch (RequestFailedException ex)
        {
            ExportLog.StatusNotSaved(logger, ex, failed.Scope.Key, Day(failed.Date));
        }
    }

    private static string Day(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
