using System.Globalization;
using Azure.Data.Tables;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Storage;
using Newtonsoft.Json;

namespace MailgunFunctions.Export;

/// <summary>Where an export of one list (or of a whole domain) stands.</summary>
public enum ExportState
{
    /// <summary>Started and not finished: still running, or the run died (timeout, crash, restart).</summary>
    Running,

    /// <summary>The final blob is written; a rerun for the same date skips it.</summary>
    Completed,

    /// <summary>The run caught an error; <see cref="ExportStatus.Error"/> says which. A rerun redoes it.</summary>
    Failed,
}

/// <summary>
/// One row of the <c>ExportRuns</c> table. <see cref="List"/> is null for the row of the whole domain run.
/// </summary>
public sealed record ExportStatus
{
    public required ExportScope Scope { get; init; }
    public required DateOnly Date { get; init; }
    public SuppressionList? List { get; init; }
    public required ExportState State { get; init; }
    public long Records { get; init; }

    /// <summary>Records created after the same list of the previous export started; null without a previous export.</summary>
    public long? NewSincePrevious { get; init; }

    /// <summary>Bounces: records per SMTP code.</summary>
    public IReadOnlyDictionary<string, long> Codes { get; init; } = new Dictionary<string, long>();
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public int Attempts { get; init; }
    public string? Error { get; init; }
    public string? Blob { get; init; }

    /// <summary>Checkpoint of a list in progress: the Mailgun page to read next (paging.next of the last uploaded page).</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Checkpoint of a list in progress: the blocks already uploaded (uncommitted) to its partial blob, in order.</summary>
    public IReadOnlyList<string> Blocks { get; init; } = [];
}

/// <summary>The night's fan-out: when the timer queued the jobs of <see cref="Date"/>, how many, for how many tenants.</summary>
public sealed record ExportFanOutRecord(DateOnly Date, int Jobs, int Tenants, DateTimeOffset QueuedAt, TimeSpan Elapsed);

/// <summary>
/// The export's checkpoint and the operators' view of the last runs. Table <c>ExportRuns</c>:
/// PartitionKey = <c>{tenant}|{domain}</c> (tenant ids and domains are validated key-safe), RowKey = <c>yyyy-MM-dd</c>
/// for the domain run and <c>yyyy-MM-dd_{list}</c> for each list. Rows of a domain sort by date: the last one is the latest run.
/// Every domain run row is also written to <c>ExportRunsByDate</c> (PartitionKey = <c>yyyy-MM-dd</c>, RowKey =
/// <c>{tenant}|{domain}</c>), so the status of a whole night is one partition, not a scan of every tenant's history.
/// </summary>
public sealed class ExportRunStore
{
    // Table string properties hold 64 KiB (32K UTF-16 chars); keep error texts far below that.
    private const int MaxErrorChars = 4000;
    /// <summary>RowKey of the fan-out's row in a date's partition of <c>ExportRunsByDate</c> (scope rows always hold a '|').</summary>
    private const string FanOutRowKey = "";
    private readonly TableClient _table;
    private readonly TableClient _byDate;
    private readonly CreateOnce _created;

    public ExportRunStore(HomeStorage clients)
    {
        ArgumentNullException.ThrowIfNull(clients);
        _table = clients.Tables.GetTableClient(StorageNames.ExportRunsTable);
        _byDate = clients.Tables.GetTableClient(StorageNames.ExportRunsByDateTable);
        _created = new CreateOnce(async ct =>
        {
            await _table.CreateIfNotExistsAsync(ct).ConfigureAwait(false);
            await _byDate.CreateIfNotExistsAsync(ct).ConfigureAwait(false);
        });
    }

    public static string RowKeyOf(DateOnly date, SuppressionList? list) =>
        list is { } l ? $"{date:yyyy-MM-dd}_{l.PathSegment()}" : date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string PartitionOf(ExportScope scope) => scope.Tenant + "|" + scope.Domain;

    private static ExportScope ScopeOf(string partition) =>
        partition.IndexOf('|', StringComparison.Ordinal) is int bar and >= 0 ? new ExportScope(partition[..bar], partition[(bar + 1)..]) : new ExportScope("", partition);

    public async Task<ExportStatus?> GetAsync(ExportScope scope, DateOnly date, SuppressionList? list, CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(PartitionOf(scope), RowKeyOf(date, list), cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? FromEntity(response.Value!, scope) : null;
    }

    public async Task SaveAsync(ExportStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        // Replace, not merge: a rerun's row must not keep the error of the failed attempt.
        await _table.UpsertEntityAsync(ToEntity(status, PartitionOf(status.Scope), RowKeyOf(status.Date, status.List)), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        if (status.List is null)
        {
            // Second, so the night's view never shows a state the scope's own row does not have yet.
            await _byDate.UpsertEntityAsync(ToEntity(status, Day(status.Date), PartitionOf(status.Scope)), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Every domain run of one date (one partition of <c>ExportRunsByDate</c>), of one tenant when <paramref name="tenant"/> is given.</summary>
    public async IAsyncEnumerable<ExportStatus> ListDateAsync(DateOnly date, string? tenant, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        string day = Day(date);
        // Scope rows are "{tenant}|{domain}"; '}' sorts right after '|', so the range is exactly one tenant's domains.
        string filter = tenant is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {day} and RowKey gt {FanOutRowKey}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {day} and RowKey ge {tenant + "|"} and RowKey lt {tenant + "}"}");
        await foreach (var entity in _byDate.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return FromEntity(entity, ScopeOf(entity.RowKey));
        }
    }

    public async Task SaveFanOutAsync(ExportFanOutRecord fanOut, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fanOut);
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var entity = new TableEntity(Day(fanOut.Date), FanOutRowKey)
        {
            ["Jobs"] = fanOut.Jobs,
            ["Tenants"] = fanOut.Tenants,
            ["QueuedAt"] = fanOut.QueuedAt,
            ["ElapsedMs"] = (long)fanOut.Elapsed.TotalMilliseconds,
        };
        // The last fan-out of the date wins: a second run (past-due timer, manual run) queued everything again.
        await _byDate.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The last fan-out of <paramref name="date"/>, or null when the timer has not queued that night.</summary>
    public async Task<ExportFanOutRecord?> GetFanOutAsync(DateOnly date, CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var response = await _byDate.GetEntityIfExistsAsync<TableEntity>(Day(date), FanOutRowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!response.HasValue)
        {
            return null;
        }

        var e = response.Value!;
        return new ExportFanOutRecord(date, e.GetInt32("Jobs") ?? 0, e.GetInt32("Tenants") ?? 0, e.GetDateTimeOffset("QueuedAt") ?? default,
            TimeSpan.FromMilliseconds(e.GetInt64("ElapsedMs") ?? 0));
    }

    private static string Day(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static TableEntity ToEntity(ExportStatus status, string partitionKey, string rowKey) =>
        new(partitionKey, rowKey)
        {
            ["Date"] = status.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["List"] = status.List?.PathSegment(),
            ["State"] = status.State.ToString(),
            ["Records"] = status.Records,
            ["NewSincePrevious"] = status.NewSincePrevious,
            ["Codes"] = JsonConvert.SerializeObject(status.Codes),
            ["StartedAt"] = status.StartedAt,
            ["CompletedAt"] = status.CompletedAt,
            ["Attempts"] = status.Attempts,
            ["Error"] = status.Error is { Length: > MaxErrorChars } e ? e[..MaxErrorChars] : status.Error,
            ["Blob"] = status.Blob,
            ["ResumeFrom"] = status.ResumeFrom,
            // Block ids are base64 (no commas); about 1,500 of them fit a 64 KiB property, i.e. 6 GB of CSV at 4 MiB a block.
            ["Blocks"] = status.Blocks.Count == 0 ? null : string.Join(',', status.Blocks),
        };

    /// <summary>Every row of one domain and date: the domain run and its lists.</summary>
    /// <summary>
    /// Whether an export of one of <paramref name="tenant"/>'s domains, on any date, was started and has not ended (a row
    /// in state Running: still running, or died and not yet retried). <c>tenant move</c> asks before it copies.
    /// </summary>
    public async Task<bool> AnyRunningAsync(string tenant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        string running = nameof(ExportState.Running);
        string filter = TableClient.CreateQueryFilter($"PartitionKey ge {tenant + "|"} and PartitionKey lt {tenant + "}"} and State eq {running}");
        await foreach (var _ in _table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: ["PartitionKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        return false;
    }

    public async Task<IReadOnlyList<ExportStatus>> GetRunAsync(ExportScope scope, DateOnly date, CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        string day = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {PartitionOf(scope)} and RowKey ge {day} and RowKey lt {day + "~"}");
        var rows = new List<ExportStatus>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            rows.Add(FromEntity(entity, ScopeOf(entity.PartitionKey)));
        }

        return rows;
    }

    private static ExportStatus FromEntity(TableEntity entity, ExportScope scope)
    {
        string? listName = entity.GetString("List");
        return new ExportStatus
        {
            Scope = scope,
            Date = DateOnly.ParseExact(entity.GetString("Date"), "yyyy-MM-dd", CultureInfo.InvariantCulture),
            List = listName is null ? null : SuppressionLists.All.First(l => l.PathSegment() == listName),
            State = Enum.Parse<ExportState>(entity.GetString("State")),
            Records = entity.GetInt64("Records") ?? 0,
            NewSincePrevious = entity.GetInt64("NewSincePrevious"),
            Codes = JsonConvert.DeserializeObject<Dictionary<string, long>>(entity.GetString("Codes") ?? "{}") ?? [],
            StartedAt = entity.GetDateTimeOffset("StartedAt") ?? default,
            CompletedAt = entity.GetDateTimeOffset("CompletedAt"),
            Attempts = entity.GetInt32("Attempts") ?? 0,
            Error = entity.GetString("Error"),
            Blob = entity.GetString("Blob"),
            ResumeFrom = entity.GetString("ResumeFrom"),
            Blocks = entity.GetString("Blocks") is { Length: > 0 } blocks ? blocks.Split(',') : [],
        };
    }
}
