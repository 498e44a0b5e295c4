using System.Globalization;
using Azure;
using Azure.Data.Tables;

namespace MailgunFunctions.Dnd;

/// <summary>What the entry row says was last announced: its version and the state in that announcement.</summary>
/// <param name="Version">The entry's Version column (0 for an entry written before versions existed, or none at all).</param>
/// <param name="Status">The State/StateSince/TemporaryUntil/StateReason snapshot: the state of the latest notice.</param>
/// <param name="LastChangeRow">RowKey of the latest change row, or null.</param>
public sealed record DndAnnounced(long Version, DndStatus Status, string? LastChangeRow)
{
    public static readonly DndAnnounced Nothing = new(0, DndStatus.None, null);
}

/// <summary>
/// The change log inside <c>DndEntries</c>: per tenant partition, next to the entries, so a change's rows go in the same
/// entity-group transaction as the entry write (one request, all or nothing).
/// <list type="bullet">
/// <item><c>~change|{commit ticks, 19 digits}|{address hash}|{version, 19 digits}</c>: one per version, kept for
/// <c>ChangeFeed:Retention</c>; the tenant's changes in commit order (the <c>changedSince</c> index).
/// Columns <c>Notice</c> (the JSON), <c>AddressHash</c>, <c>Version</c>, <c>RecordedAt</c>.</item>
/// <item><c>~pending|{address hash}|{version, 19 digits}</c>: the outbox. Written with the change, deleted once the change is
/// on the dnd-changes queue and with the platform (or on its retry queue); what a stopped instance leaves is sent again by the
/// redelivered message or the sweeper. Columns <c>ChangeRow</c>, <c>CreatedAt</c>, and <c>Notice</c> for an erasure (its
/// change row has no address).</item>
/// </list>
/// No key holds the address (only its hash): an erasure deletes the address's rows by <c>AddressHash</c>. Both prefixes
/// contain '|', which an address key never does (DndKeys encodes it), so they never meet an entry.
/// </summary>
public static class DndChangeLog
{
    public const string ChangePrefix = "~change|";
    public const string PendingPrefix = "~pending|";

    // '}' follows '|' in ordinal order: [prefix, end) is exactly the rows of one prefix.
    private const string ChangeEnd = "~change}";
    private const string PendingEnd = "~pending}";

    public const string VersionColumn = "Version";
    public const string LastChangeRowColumn = "LastChangeRow";

    public static bool IsLogRow(string rowKey) =>
        rowKey.StartsWith(ChangePrefix, StringComparison.Ordinal) || rowKey.StartsWith(PendingPrefix, StringComparison.Ordinal);

    public static string ChangeRowKey(DateTimeOffset recordedAt, string addressHash, long version) =>
        ChangePrefix + recordedAt.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "|" + addressHash + "|" + version.ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>The first change row key at or after <paramref name="at"/>.</summary>
    public static string ChangeRowKeyAt(DateTimeOffset at) => ChangePrefix + Math.Max(0, at.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);

    public static string PendingRowKey(string addressHash, long version) =>
        PendingPrefix + addressHash + "|" + version.ToString("D19", CultureInfo.InvariantCulture);

    public static string PendingPrefixOf(string addressHash) => PendingPrefix + addressHash + "|";

    /// <summary>The commit time a change row key carries, or null when it is not one.</summary>
    public static DateTimeOffset? TimeOf(string changeRowKey) =>
        changeRowKey.StartsWith(ChangePrefix, StringComparison.Ordinal) && changeRowKey.Length >= ChangePrefix.Length + 19
        && long.TryParse(changeRowKey.AsSpan(ChangePrefix.Length, 19), NumberStyles.None, CultureInfo.InvariantCulture, out long ticks)
        && ticks <= DateTimeOffset.MaxValue.UtcTicks
            ? new DateTimeOffset(ticks, TimeSpan.Zero)
            : null;

    /// <summary>The filters of one tenant's entry rows, log rows left out, each a key range (so a listing never reads the log).</summary>
    public static IEnumerable<string> EntryRangeFilters(string tenantKey) =>
    [
        TableClient.CreateQueryFilter($"PartitionKey eq {tenantKey} and RowKey lt {ChangePrefix}"),
        TableClient.CreateQueryFilter($"PartitionKey eq {tenantKey} and RowKey ge {ChangeEnd} and RowKey lt {PendingPrefix}"),
        TableClient.CreateQueryFilter($"PartitionKey eq {tenantKey} and RowKey ge {PendingEnd}"),
    ];

    /// <summary>A filter that leaves out log rows in any partition (for scans of the whole table).</summary>
    public static string NotLogRows =>
        TableClient.CreateQueryFilter($"(RowKey lt {ChangePrefix} or RowKey ge {ChangeEnd}) and (RowKey lt {PendingPrefix} or RowKey ge {PendingEnd})");

    public static string ChangesFilter(string tenantKey, string afterRowKey, string beforeRowKey) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {tenantKey} and RowKey gt {afterRowKey} and RowKey lt {beforeRowKey} and RowKey lt {ChangeEnd}");

    public static string PendingFilter(string tenantKey, string? addressHash = null) => addressHash is null
        ? TableClient.CreateQueryFilter($"PartitionKey eq {tenantKey} and RowKey ge {PendingPrefix} and RowKey lt {PendingEnd}")
        : TableClient.CreateQueryFilter($"PartitionKey eq {tenantKey} and RowKey ge {PendingPrefixOf(addressHash)} and RowKey lt {PendingPrefix + addressHash + "}"}");

    /// <summary>What the entry row (or an erased address's kept row) last announced.</summary>
    public static DndAnnounced AnnouncedOf(TableEntity? row)
    {
        if (row is null)
        {
            return DndAnnounced.Nothing;
        }

        var state = DndNames.Parse<DndState>(row.GetString("State")) ?? DndState.None;
        var status = state == DndState.None
            ? DndStatus.None
            : new DndStatus(state, row.GetDateTimeOffset("StateSince")?.ToUniversalTime(), row.GetDateTimeOffset("TemporaryUntil")?.ToUniversalTime(), row.GetString("StateReason") ?? "");
        return new DndAnnounced(row.GetInt64(VersionColumn) ?? 0, status, row.GetString(LastChangeRowColumn));
    }

    /// <summary>Sets the version columns of an entry row about to be written.</summary>
    public static void Stamp(TableEntity entry, long version, string? lastChangeRow)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (version > 0)
        {
            entry[VersionColumn] = version;
        }

        if (lastChangeRow is not null)
        {
            entry[LastChangeRowColumn] = lastChangeRow;
        }
    }

    /// <summary>The change row of a notice (for an erasure: without the address).</summary>
    public static TableEntity ChangeRow(string tenantKey, DndNotice notice, bool redact)
    {
        ArgumentNullException.ThrowIfNull(notice);
        return new TableEntity(tenantKey, ChangeRowKey(notice.RecordedAt, notice.AddressHash, notice.Version))
        {
            ["Notice"] = (redact ? notice.Redacted() : notice).ToJson(),
            ["AddressHash"] = notice.AddressHash,
            ["Version"] = notice.Version,
            ["RecordedAt"] = notice.RecordedAt,
        };
    }

    /// <summary>The outbox row of a notice; it carries the notice itself only when the change row does not (an erasure).</summary>
    public static TableEntity PendingRow(string tenantKey, DndNotice notice, bool carryNotice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        var row = new TableEntity(tenantKey, PendingRowKey(notice.AddressHash, notice.Version))
        {
            ["ChangeRow"] = ChangeRowKey(notice.RecordedAt, notice.AddressHash, notice.Version),
            ["CreatedAt"] = notice.RecordedAt,
        };
        if (carryNotice)
        {
            row["Notice"] = notice.ToJson();
        }

        return row;
    }

    /// <summary>The entity-group transaction of an entry write and its notices' rows.</summary>
    public static List<TableTransactionAction> Transaction(TableTransactionAction entryWrite, IReadOnlyList<DndNotice> notices, bool redact = false)
    {
        ArgumentNullException.ThrowIfNull(entryWrite);
        ArgumentNullException.ThrowIfNull(notices);
        string partition = entryWrite.Entity.PartitionKey;
        var actions = new List<TableTransactionAction> { entryWrite };
        foreach (var notice in notices)
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Add, ChangeRow(partition, notice, redact)));
            actions.Add(new TableTransactionAction(TableTransactionActionType.Add, PendingRow(partition, notice, carryNotice: redact)));
        }

        return actions;
    }

    /// <summary>
    /// Submits an entity-group transaction after checking what the service itself would refuse: one partition, at most 100
    /// actions. Azurite accepts a batch across partitions (and applies it without the atomicity Azure gives only within
    /// one), so a mistake here would pass every local test and fail in Azure.
    /// </summary>
    public static Task<Response<IReadOnlyList<Response>>> SubmitAsync(TableClient table, IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(actions);
        if (actions.Count is 0 or > 100)
        {
            throw new ArgumentException($"an entity-group transaction holds 1 to 100 actions, not {actions.Count}", nameof(actions));
        }

        string partition = actions[0].Entity.PartitionKey;
        if (actions.Any(a => !string.Equals(a.Entity.PartitionKey, partition, StringComparison.Ordinal)))
        {
            throw new ArgumentException("an entity-group transaction must stay in one partition: " +
                string.Join(", ", actions.Select(a => a.Entity.PartitionKey).Distinct(StringComparer.Ordinal)), nameof(actions));
        }

        return table.SubmitTransactionAsync(actions, cancellationToken);
    }
}
