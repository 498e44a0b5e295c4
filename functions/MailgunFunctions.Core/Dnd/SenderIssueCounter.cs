using System.Globalization;
using Azure;
using Azure.Data.Tables;
using MailgunFunctions.Events;
using MailgunFunctions.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Dnd;

/// <summary>The counts after recording one sender-side failure.</summary>
/// <param name="Counted">False when the event had been counted before (a re-delivery).</param>
public sealed record SenderIssueCount(string Tenant, DateTimeOffset BucketStart, long Total, long ForRule, bool Counted);

/// <summary>
/// Counts sender-side failures (our authentication, reputation, rate or content: never the contact's fault) per
/// tenant and time bucket, and warns when a tenant's count in one bucket passes the threshold: a broken DKIM key
/// makes a whole list fail within minutes, and that must be loud rather than silently harmless.
/// Table <c>SenderIssues</c>: PartitionKey = tenant|bucket start (yyyyMMddTHHmm, UTC); rows <c>e_{event hash}</c>
/// (one per event), <c>c_{rule}:{code}</c> (count per rule and code) and <c>total</c>. The event row and both counters
/// are written in one entity-group transaction (one partition), so a re-delivered event (409 on its row) is never
/// counted twice and a counter never misses an event that was recorded.
/// </summary>
public sealed class SenderIssueCounter
{
    /// <summary>The RowKey of a bucket's total counter.</summary>
    internal const string TotalRow = "total";

    /// <summary>The RowKey of a bucket's counter of one rule and code (event rows are <c>e_{event hash}</c>).</summary>
    internal static string CounterRow(string rule, string code) => "c_" + DndKeys.Encode(rule + ":" + code);
    private readonly TableClient _table;
    private readonly CreateOnce _created;
    private readonly DndOptions _options;
    private readonly ILogger<SenderIssueCounter> _logger;

    // A counter moved under us (another event of the same bucket): read both counters again.
    private readonly Polly.ResiliencePipeline _counterConflicts;

    public SenderIssueCounter(StorageClients clients, IOptions<DndOptions> options, ILogger<SenderIssueCounter> logger)
    {
        _table = clients.Tables.GetTableClient(StorageNames.SenderIssuesTable);
        _created = new CreateOnce(ct => _table.CreateIfNotExistsAsync(ct));
        _options = options.Value;
        _counterConflicts = ConcurrencyRetry.Pipeline(_options.MaxWriteAttempts, ex => ex is TableTransactionFailedException { Status: 409 or 412 });
        _logger = logger;
    }

    /// <summary>The PartitionKey of a tenant's bucket starting at <paramref name="bucketStart"/>: what operators query.</summary>
    public static string Partition(string tenant, DateTimeOffset bucketStart) =>
        DndKeys.TenantKey(tenant) + "|" + bucketStart.UtcDateTime.ToString("yyyyMMdd'T'HHmm", CultureInfo.InvariantCulture);

    public DateTimeOffset BucketStart(DateTimeOffset at)
    {
        long size = _options.SenderIssueBucket.Ticks;
        return new DateTimeOffset(at.UtcTicks - (at.UtcTicks % size), TimeSpan.Zero);
    }

    /// <summary>
    /// The counters of a tenant's buckets starting in [<paramref name="from"/>, <paramref name="to"/>): one range query
    /// over the tenant's partitions (the bucket start sorts as text), counter rows only. Rule key "" is a bucket's total.
    /// </summary>
    public async IAsyncEnumerable<(DateTimeOffset BucketStart, string Rule, string Code, long Count)> ListCountersAsync(string tenant, DateTimeOffset from, DateTimeOffset to,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        string low = Partition(tenant, BucketStart(from));
        string high = Partition(tenant, BucketStart(to)) + "~";
        string prefix = DndKeys.TenantKey(tenant) + "|";
        string filter = TableClient.CreateQueryFilter($"PartitionKey ge {low} and PartitionKey lt {high} and (RowKey eq {TotalRow} or (RowKey ge 'c_' and RowKey lt 'c`'))");
        await foreach (var e in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var bucket = DateTimeOffset.ParseExact(e.PartitionKey[prefix.Length..], "yyyyMMdd'T'HHmm", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            yield return e.RowKey == TotalRow
                ? (bucket, "", "", e.GetInt64("Count") ?? 0)
                : (bucket, e.GetString("Rule") ?? "", e.GetString("Code") ?? "", e.GetInt64("Count") ?? 0);
        }
    }

    public async Task<SenderIssueCount> RecordAsync(string tenant, MailgunEvent e, Classification.Classification classification, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(classification);
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        // Bucketed by the event's own time, so a late or re-delivered event lands in the same bucket.
        DateTimeOffset bucket = BucketStart(e.Timestamp);
        string partition = Partition(tenant, bucket);
        string code = classification.EnhancedCode ?? classification.Code?.ToString(CultureInfo.InvariantCulture) ?? e.DeliveryStatus?.Code?.ToString(CultureInfo.InvariantCulture) ?? "none";
        string ruleRow = CounterRow(classification.Rule, code);
        string eventRow = "e_" + DndChange.EventKey(e);

        return await _counterConflicts.ExecuteAsync(async _ =>
        {
            var total = await _table.GetEntityIfExistsAsync<TableEntity>(partition, TotalRow, cancellationToken: cancellationToken).ConfigureAwait(false);
            var rule = await _table.GetEntityIfExistsAsync<TableEntity>(partition, ruleRow, cancellationToken: cancellationToken).ConfigureAwait(false);
            long newTotal = (total.HasValue ? total.Value!.GetInt64("Count") ?? 0 : 0) + 1;
            long newRule = (rule.HasValue ? rule.Value!.GetInt64("Count") ?? 0 : 0) + 1;
            var actions = new List<TableTransactionAction>
            {
                new(TableTransactionActionType.Add, new TableEntity(partition, eventRow)
                {
                    ["EventType"] = e.EventType,
                    ["EventId"] = e.Id,
                    ["EventAt"] = e.Timestamp,
                    ["Recipient"] = e.Recipient is null ? null : DndKeys.NormalizeAddress(e.Recipient),
                    ["Rule"] = classification.Rule,
                    ["Code"] = code,
                    ["Message"] = Truncate(e.DeliveryStatus?.Message ?? e.RejectDescription),
                }),
                Counter(partition, TotalRow, total, newTotal, null, null),
                Counter(partition, ruleRow, rule, newRule, classification.Rule, code),
            };
            try
            {
                await _table.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
            }
            catch (TableTransactionFailedException ex) when (ex.FailedTransactionActionIndex == 0 && ex.Status == 409)
            {
                return new SenderIssueCount(tenant, bucket, newTotal - 1, newRule - 1, Counted: false);
            }

            DndLog.SenderIssueCounted(_logger, DndKeys.TenantKey(tenant), classification.Rule, code, newTotal, bucket);
            int threshold = _options.SenderIssueWarningThreshold;
            // Counters advance one at a time under ETags, so exactly one event sees each crossing.
            if (newTotal > threshold && (newTotal - 1) % threshold == 0)
            {
                DndLog.SenderIssueStorm(_logger, DndKeys.TenantKey(tenant), newTotal, bucket, threshold, classification.Rule, code);
            }

            return new SenderIssueCount(tenant, bucket, newTotal, newRule, Counted: true);
        }, cancellationToken).ConfigureAwait(false);
    }

    private static TableTransactionAction Counter(string partition, string row, NullableResponse<TableEntity> existing, long count, string? rule, string? code)
    {
        var entity = new TableEntity(partition, row) { ["Count"] = count };
        if (rule is not null)
        {
            entity["Rule"] = rule;
            entity["Code"] = code;
        }

        return existing.HasValue
            ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, existing.Value!.ETag)
            : new TableTransactionAction(TableTransactionActionType.Add, entity);
    }

    private static string? Truncate(string? s) => s is { Length: > DndChange.MaxMessageLength } ? s[..DndChange.MaxMessageLength] : s;
}
