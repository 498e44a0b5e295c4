using System.Globalization;
using Azure;
using Azure.Data.Tables;
using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;
using MailgunFunctions.Events;
using MailgunFunctions.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Rates;

/// <summary>What one event adds to a tenant's day.</summary>
public enum RateKind
{
    Accepted,
    Delivered,
    HardBounce,
    Complaint,
    Unsubscribe,
}

/// <summary>A rate crossing, once per tenant, day, rate and level.</summary>
public enum RateLevel
{
    Warning,
    Critical,
}

/// <summary>One tenant's counts for one UTC day, and the rates the platform judges (one rule, for the alert and the CLI).</summary>
public sealed record DailyRates(DateOnly Day, long Accepted, long Delivered, long HardBounces, long Complaints, long Unsubscribes)
{
    /// <summary>Messages sent: Mailgun's accepted events, or, when a tenant's webhook does not send those, what came of them.</summary>
    public long Sent => Math.Max(Accepted, Delivered + HardBounces);

    /// <summary>Hard bounces per message sent; null below the minimum volume.</summary>
    public double? HardBounceRate(int minimumVolume) => Sent >= minimumVolume ? (double)HardBounces / Sent : null;

    /// <summary>Complaints per message delivered; null below the minimum volume.</summary>
    public double? ComplaintRate(int minimumVolume) => Delivered >= minimumVolume ? (double)Complaints / Delivered : null;
}

/// <summary>
/// Counts, per tenant and UTC day of the event, the deliveries, hard bounces, complaints and unsubscribes that the platform's
/// sending limits are computed from, and logs once per tenant, day, rate and level when a threshold is crossed.
/// Table <c>TenantRates</c>: PartitionKey = tenant|yyyyMMdd; rows <c>e_{event hash}</c> (one per counted event, no
/// personal data), <c>c_{shard}</c> (counter shards: one Int64 property per <see cref="RateKind"/>) and
/// <c>a_{rate}_{level}</c> (a crossing already logged). The event row and its shard's counter are written in one
/// entity-group transaction (one partition), so a redelivered event (409 on its row) is never counted twice and a counter
/// never misses a recorded event; the counter's ETag makes concurrent writers re-read and retry, never lose an update.
/// </summary>
public sealed class TenantDailyRates
{
    private readonly TableClient _table;
    private readonly CreateOnce _created;
    private readonly RateOptions _options;
    private readonly ILogger<TenantDailyRates> _logger;
    private readonly Polly.ResiliencePipeline _counterConflicts;

    public TenantDailyRates(StorageClients clients, IOptions<RateOptions> options, IOptions<DndOptions> dndOptions, ILogger<TenantDailyRates> logger)
    {
        _table = clients.Tables.GetTableClient(StorageNames.TenantRatesTable);
        _created = new CreateOnce(ct => _table.CreateIfNotExistsAsync(ct));
        _options = options.Value;
        _logger = logger;
        // Another event of the same shard moved the counter since the read (412), or created it first (409).
        _counterConflicts = ConcurrencyRetry.Pipeline(dndOptions.Value.MaxWriteAttempts,
            ex => ex is TableTransactionFailedException { FailedTransactionActionIndex: not 0, Status: 409 or 412 });
    }

    /// <summary>What the event counts as, or null when it counts as nothing (opens, clicks, temporary failures...).</summary>
    public static RateKind? KindOf(MailgunEvent e, Classification.Classification classification)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(classification);
        return e.EventType switch
        {
            "accepted" => RateKind.Accepted,
            "delivered" => RateKind.Delivered,
            "complained" => RateKind.Complaint,
            "unsubscribed" => RateKind.Unsubscribe,
            "failed" when classification.Category == BounceCategory.HardBounce => RateKind.HardBounce,
            _ => null,
        };
    }

    public static string Partition(string tenant, DateOnly day) => DndKeys.TenantKey(tenant) + "|" + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>Counts the event once (by its key) in the tenant's day of the event. Returns false for an event counted before.</summary>
    public async Task<bool> RecordAsync(string tenant, MailgunEvent e, RateKind kind, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        // The event's own day, so a late or redelivered event lands where it belongs.
        var day = DateOnly.FromDateTime(e.Timestamp.UtcDateTime);
        string partition = Partition(tenant, day);
        string key = DndChange.EventKey(e);
        string shardRow = "c_" + (Convert.ToUInt32(key[..8], 16) % (uint)_options.Shards).ToString("D2", CultureInfo.InvariantCulture);
        string property = kind.ToString();

        bool counted = await _counterConflicts.ExecuteAsync(async _ =>
        {
            var shard = await _table.GetEntityIfExistsAsync<TableEntity>(partition, shardRow, cancellationToken: cancellationToken).ConfigureAwait(false);
            var counter = shard.HasValue ? shard.Value! : new TableEntity(partition, shardRow);
            counter[property] = (counter.GetInt64(property) ?? 0) + 1;
            var actions = new List<TableTransactionAction>
            {
                new(TableTransactionActionType.Add, new TableEntity(partition, "e_" + key) { ["Kind"] = property }),
                shard.HasValue
                    ? new(TableTransactionActionType.UpdateReplace, counter, shard.Value!.ETag)
                    : new(TableTransactionActionType.Add, counter),
            };
            try
            {
                await _table.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (TableTransactionFailedException ex) when (ex.FailedTransactionActionIndex == 0 && ex.Status == 409)
            {
                return false;
            }
        }, cancellationToken).ConfigureAwait(false);

        // Only a bounce or a complaint can raise a rate: deliveries lower them, so they never need the day read back.
        if (counted && kind is RateKind.HardBounce or RateKind.Complaint)
        {
            await JudgeAsync(tenant, day, cancellationToken).ConfigureAwait(false);
        }

        return counted;
    }

    /// <summary>The tenant's days in [<paramref name="from"/>, <paramref name="to"/>], oldest first, days without events included as zeros.</summary>
    public async Task<IReadOnlyList<DailyRates>> ListAsync(string tenant, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var sums = new Dictionary<DateOnly, long[]>();
        string prefix = DndKeys.TenantKey(tenant) + "|";
        string filter = TableClient.CreateQueryFilter($"PartitionKey ge {Partition(tenant, from)} and PartitionKey le {Partition(tenant, to)} and RowKey ge 'c_' and RowKey lt 'c`'");
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var day = DateOnly.ParseExact(row.PartitionKey[prefix.Length..], "yyyyMMdd", CultureInfo.InvariantCulture);
            Add(sums, day, row);
        }

        var days = new List<DailyRates>();
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            days.Add(Rates(day, sums.GetValueOrDefault(day)));
        }

        return days;
    }

    private async Task JudgeAsync(string tenant, DateOnly day, CancellationToken cancellationToken)
    {
        var sums = new Dictionary<DateOnly, long[]>();
        var logged = new HashSet<string>(StringComparer.Ordinal);
        string partition = Partition(tenant, day);
        // One query: the shard counters and the crossings already logged ('a_' .. 'c`' skips the event rows 'e_').
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge 'a_' and RowKey lt 'c`'");
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (row.RowKey.StartsWith("a_", StringComparison.Ordinal))
            {
                logged.Add(row.RowKey);
            }
            else if (row.RowKey.StartsWith("c_", StringComparison.Ordinal))
            {
                Add(sums, day, row);
            }
        }

        var rates = Rates(day, sums.GetValueOrDefault(day));
        await CrossAsync(tenant, rates, "hard_bounces", rates.HardBounceRate(_options.MinimumVolume), _options.HardBounceWarning, _options.HardBounceCritical, logged, cancellationToken).ConfigureAwait(false);
        await CrossAsync(tenant, rates, "complaints", rates.ComplaintRate(_options.MinimumVolume), _options.ComplaintWarning, _options.ComplaintCritical, logged, cancellationToken).ConfigureAwait(false);
    }

    private async Task CrossAsync(string tenant, DailyRates rates, string rate, double? value, double warning, double critical, HashSet<string> logged, CancellationToken cancellationToken)
    {
        if (value is not { } v)
        {
            return;
        }

        foreach (var (level, threshold) in new[] { (RateLevel.Warning, warning), (RateLevel.Critical, critical) })
        {
            string row = "a_" + rate + "_" + level.ToString().ToLowerInvariant();
            if (v < threshold || logged.Contains(row))
            {
                continue;
            }

            try
            {
                // The marker decides who logs: of concurrent events that all see the crossing, one insert succeeds.
                await _table.AddEntityAsync(new TableEntity(Partition(tenant, rates.Day), row) { ["Rate"] = v, ["Threshold"] = threshold }, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                continue;
            }

            string day = rates.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            string tenantKey = DndKeys.TenantKey(tenant);
            long sent = rates.Sent;
            if (level == RateLevel.Warning)
            {
                RateLog.RateWarning(_logger, tenantKey, rate, day, v, threshold, sent, rates.Delivered);
            }
            else
            {
                RateLog.RateCritical(_logger, tenantKey, rate, day, v, threshold, sent, rates.Delivered);
            }
        }
    }

    private static void Add(Dictionary<DateOnly, long[]> sums, DateOnly day, TableEntity row)
    {
        if (!sums.TryGetValue(day, out var sum))
        {
            sums[day] = sum = new long[Enum.GetValues<RateKind>().Length];
        }

        foreach (var kind in Enum.GetValues<RateKind>())
        {
            sum[(int)kind] += row.GetInt64(kind.ToString()) ?? 0;
        }
    }

    private static DailyRates Rates(DateOnly day, long[]? sum) => sum is null
        ? new DailyRates(day, 0, 0, 0, 0, 0)
        : new DailyRates(day, sum[(int)RateKind.Accepted], sum[(int)RateKind.Delivered], sum[(int)RateKind.HardBounce], sum[(int)RateKind.Complaint], sum[(int)RateKind.Unsubscribe]);
}

internal static partial class RateLog
{
    [LoggerMessage(EventId = 15001, Level = LogLevel.Warning,
        Message = "Tenant {Tenant}: {Rate} rate {Value:P3} on {Day} reached the warning threshold {Threshold:P3} ({Sent} sent, {Delivered} delivered)")]
    public static partial void RateWarning(ILogger logger, string tenant, string rate, string day, double value, double threshold, long sent, long delivered);

    [LoggerMessage(EventId = 15002, Level = LogLevel.Critical,
        Message = "Tenant {Tenant}: {Rate} rate {Value:P3} on {Day} reached the critical threshold {Threshold:P3}, where the platform suspends sending ({Sent} sent, {Delivered} delivered)")]
    public static partial void RateCritical(ILogger logger, string tenant, string rate, string day, double value, double threshold, long sent, long delivered);
}
