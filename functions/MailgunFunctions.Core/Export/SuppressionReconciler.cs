using System.Globalization;
using Azure.Storage.Blobs;
using MailgunFunctions.Dnd;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Export;

/// <summary>
/// Reconciles a finished export of one domain with the DND table of its tenant, both ways, with memory bounded by
/// settings rather than by the size of the lists:
/// <list type="number">
/// <item>Mailgun's bounces, complaints and unsubscribes go into a Bloom filter (about 1.8 bytes per record).</item>
/// <item>The DND partition is streamed once: entries DND here (permanent or locked) that the filter says Mailgun
/// certainly does not list go to <c>review-dnd-not-in-mailgun.csv</c> (never changed); the states of DND entries are
/// remembered as 64-bit hashes, up to <see cref="SuppressionReconcilerOptions.MaxDndKeysInMemory"/>.</item>
/// <item>Mailgun's lists are streamed again: a record whose address is already at least as DND as Mailgun's list
/// means (map hit, or one point read when no map fitted) costs nothing more; otherwise it is applied through the
/// DND store as a <see cref="DndChangeSource.MailgunSuppression"/> change with a stable key, so reruns change nothing.</item>
/// <item>Our own DND table is written as <c>dnd.csv</c>, evaluated after the changes.</item>
/// </list>
/// Nothing depends on Mailgun's order of records (alphabetical today, but not documented as a contract).
/// </summary>
public sealed class SuppressionReconciler : ISuppressionReconciler
{
    public const string Applied = "applied";
    public const string AlreadyDnd = "already-dnd";
    public const string Review = "review";
    public const string Allowlisted = "allowlisted";
    public const string ClearedHere = "cleared-here";
    public const string TagScoped = "tag-scoped-unsubscribes";
    public const string DndExported = "dnd-entries";
    public const string PointReads = "point-reads";
    public const string EmptyAddress = "empty-address";

    /// <summary>The lists whose entries mean "do not send", in the order they are applied.</summary>
    internal static readonly SuppressionList[] Suppressing = [SuppressionList.Bounces, SuppressionList.Complaints, SuppressionList.Unsubscribes];

    private readonly DndStore _dnd;
    private readonly MailgunAllowlists _allowlists;
    private readonly DndOptions _dndOptions;
    private readonly ExportRunStore _runs;
    private readonly BlobContainerClient _container;
    private readonly SuppressionReconcilerOptions _options;
    private readonly SuppressionExportOptions _exportOptions;
    private readonly TimeProvider _time;
    private readonly ILogger<SuppressionReconciler> _logger;

    public SuppressionReconciler(DndStore dnd, MailgunAllowlists allowlists, IOptions<DndOptions> dndOptions, ExportRunStore runs, HomeStorage storage, IOptions<SuppressionReconcilerOptions> options,
        IOptions<SuppressionExportOptions> exportOptions, TimeProvider time, ILogger<SuppressionReconciler> logger)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _dnd = dnd;
        _allowlists = allowlists;
        _dndOptions = dndOptions.Value;
        _runs = runs;
        _container = storage.Blobs.GetBlobContainerClient(StorageNames.SuppressionExportsContainer);
        _options = options.Value;
        _exportOptions = exportOptions.Value;
        _time = time;
        _logger = logger;
    }

    public async Task<IReadOnlyDictionary<string, long>> ReconcileAsync(ExportScope scope, DateOnly exportDate, ExportedSuppressions exported, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(exported);
        string day = exportDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        DateTimeOffset now = _time.GetUtcNow();
        var counts = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            [Applied] = 0, [AlreadyDnd] = 0, [EmptyAddress] = 0, [Review] = 0, [Allowlisted] = 0, [ClearedHere] = 0, [TagScoped] = 0, [PointReads] = 0,
        };

        var allowlist = await ReadAllowlistAsync(exported, cancellationToken).ConfigureAwait(false);
        // Processing applies the same allowlist rule to every bounce as it arrives: it reads the allowlist stored here.
        await _allowlists.SyncAsync(scope.Tenant, scope.Domain, allowlist, cancellationToken).ConfigureAwait(false);
        var mailgun = await MailgunFilterAsync(scope, exportDate, exported, cancellationToken).ConfigureAwait(false);
        var (dndStates, review) = await ReviewAsync(scope, exportDate, now, mailgun, cancellationToken).ConfigureAwait(false);
        counts[Review] = review;
        ReconcileLog.Compared(_logger, scope.Key, day, review, dndStates?.Count, mailgun.SizeBytes);

        foreach (var list in Suppressing)
        {
            await foreach (var record in exported.ReadAsync(list, cancellationToken).ConfigureAwait(false))
            {
                string outcome = await ApplyAsync(scope.Tenant, exportDate, now, list, record, allowlist, dndStates, counts, cancellationToken).ConfigureAwait(false);
                counts[outcome]++;
            }
        }

        counts[DndExported] = await DndTableExport.WriteAsync(_dnd, _dndOptions, _container, scope, exportDate, _time.GetUtcNow(), _exportOptions.BlockSizeBytes, cancellationToken).ConfigureAwait(false);
        ReconcileLog.Reconciled(_logger, scope.Key, day, counts[Applied], counts[AlreadyDnd], counts[Review], counts[Allowlisted], counts[ClearedHere], counts[TagScoped], counts[PointReads]);
        return counts;
    }

    /// <summary>Decides one Mailgun record; returns the count it adds to.</summary>
    private async Task<string> ApplyAsync(string tenant, DateOnly date, DateTimeOffset now, SuppressionList list, SuppressionRecord record, Allowlist allowlist,
        Dictionary<ulong, DndState>? dndStates, Dictionary<string, long> counts, CancellationToken cancellationToken)
    {
        string address = DndKeys.NormalizeAddress(record.Address);
        if (address.Length == 0)
        {
            return EmptyAddress;
        }

        // Mailgun's created_at is the change's time: a later operator re-enable or admin override still wins, as for any cause.
        // Unreadable dates take the export's day: a fixed time, so the change (and its key) is the same on every rerun of it.
        DateTimeOffset at = record.CreatedAtUtc ?? new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var change = DndChange.FromMailgunSuppression(list.PathSegment(), address, at, record.CreatedAt, record.Code, record.Error, record.Tags);

        // The allowlist rule (Allowlist.Exempt), as everywhere: a bounce recorded before the address was allowlisted must not
        // DND it either; complaints and unsubscribes are the contact's own wish and are not exempt. Mailgun's list entry is
        // state, not a new event, so nothing is written for it here (processing records exempted bounces as they arrive).
        if (allowlist.Exempt(address, change).Kind == DndChangeKind.Exempted)
        {
            return Allowlisted;
        }

        // An unsubscribe from some tags only is a DND like any other (UnsubscribeScope); counted apart as well, for the report.
        if (list == SuppressionList.Unsubscribes && UnsubscribeScope.IsTagScoped(record.Tags))
        {
            counts[TagScoped]++;
        }

        DndState target = list == SuppressionList.Complaints ? DndState.Locked : DndState.Permanent;
        ulong hash = AddressHash.Of(DndKeys.AddressKey(address)).High;
        if (dndStates is not null)
        {
            if (dndStates.GetValueOrDefault(hash) >= target)
            {
                return AlreadyDnd;
            }

            // Below the target at the scan: apply straight away (the store reads the entry itself, so no extra read here).
        }
        else
        {
            // No map (too many DND entries to remember): one point read decides, so an address already DND costs no write.
            counts[PointReads]++;
            var (entry, status) = await _dnd.GetStatusAsync(tenant, address, cancellationToken).ConfigureAwait(false);
            if (status.State >= target)
            {
                return AlreadyDnd;
            }

            if (entry is not null && entry.Apply(change).Equals(entry))
            {
                // Recorded on an earlier night, and an operator cleared it since: their decision stands.
                return ClearedHere;
            }
        }

        var result = await _dnd.ApplyAsync(tenant, address, change, cancellationToken).ConfigureAwait(false);
        if (result.Current.State < target)
        {
            // An operator re-enable (or admin override) later than Mailgun's entry keeps the address sendable here.
            return ClearedHere;
        }

        if (dndStates is not null)
        {
            // The same address may be on several lists: its next record then needs no write.
            dndStates[hash] = result.Current.State;
        }

        return result.Outcome == DndApplyOutcome.Applied ? Applied : AlreadyDnd;
    }

    private async Task<Allowlist> ReadAllowlistAsync(ExportedSuppressions exported, CancellationToken cancellationToken)
    {
        var allowlist = new Allowlist();
        await foreach (var record in exported.ReadAsync(SuppressionList.Allowlist, cancellationToken).ConfigureAwait(false))
        {
            if (allowlist.Count >= _options.MaxAllowlistEntries)
            {
                throw new InvalidOperationException(
                    $"The allowlist of {exported.Scope.Domain} has more than {_options.MaxAllowlistEntries} entries; raise {SuppressionReconcilerOptions.Section}__{nameof(SuppressionReconcilerOptions.MaxAllowlistEntries)}.");
            }

            allowlist.Add(record.Address, record.Type);
        }

        return allowlist;
    }

    /// <summary>Every address of Mailgun's suppressing lists, in a filter sized from the counts the export recorded.</summary>
    private async Task<AddressBloomFilter> MailgunFilterAsync(ExportScope scope, DateOnly date, ExportedSuppressions exported, CancellationToken cancellationToken)
    {
        var rows = await _runs.GetRunAsync(scope, date, cancellationToken).ConfigureAwait(false);
        long expected = rows.Where(r => r.List is { } l && Suppressing.Contains(l)).Sum(r => r.Records);
        var filter = new AddressBloomFilter(Math.Max(expected, 1024), _options.ReviewFilterFalsePositiveRate);
        foreach (var list in Suppressing)
        {
            await foreach (var record in exported.ReadAsync(list, cancellationToken).ConfigureAwait(false))
            {
                filter.Add(AddressHash.Of(DndKeys.AddressKey(record.Address)));
            }
        }

        return filter;
    }

    /// <summary>
    /// One pass over the DND partition: writes the review list and returns the states of DND entries by address hash
    /// (null when there are more than <see cref="SuppressionReconcilerOptions.MaxDndKeysInMemory"/>).
    /// </summary>
    private async Task<(Dictionary<ulong, DndState>? States, long Review)> ReviewAsync(ExportScope scope, DateOnly date, DateTimeOffset now, AddressBloomFilter mailgun,
        CancellationToken cancellationToken)
    {
        Dictionary<ulong, DndState>? states = _options.MaxDndKeysInMemory > 0 ? [] : null;
        long review = 0;
        await using var csv = new StagedCsvBlob(_container, ExportBlobNames.Partial(scope, date, "review-dnd-not-in-mailgun.csv"), ExportBlobNames.Review(scope, date),
            _exportOptions.BlockSizeBytes);
        await csv.WriteAsync(ReviewHeader, cancellationToken).ConfigureAwait(false);
        await foreach (var entry in _dnd.ListAsync(scope.Tenant, cancellationToken).ConfigureAwait(false))
        {
            var status = DndPolicy.Evaluate(entry, now, _dndOptions);
            if (status.State == DndState.None)
            {
                continue;
            }

            var hash = AddressHash.Of(DndKeys.AddressKey(entry.Address));
            if (states is not null)
            {
                if (states.Count >= _options.MaxDndKeysInMemory)
                {
                    // Too many to remember: drop the map (freeing it) and confirm every Mailgun record with a point read.
                    states = null;
                }
                else
                {
                    states[hash.High] = status.State;
                }
            }

            // A temporary DND (soft bounces) is ours alone by design: Mailgun never lists soft bounces.
            if (status.State >= DndState.Permanent && !mailgun.MightContain(hash))
            {
                await csv.WriteAsync(DndTableExport.Row(entry, status), cancellationToken).ConfigureAwait(false);
                review++;
            }
        }

        await csv.CommitAsync(cancellationToken).ConfigureAwait(false);
        return (states, review);
    }

    /// <summary>The review list has the columns of <c>dnd.csv</c>.</summary>
    public static string ReviewHeader => DndTableExport.Header;
}

/// <summary>Log events of the reconciliation: counts only, never addresses.</summary>
internal static partial class ReconcileLog
{
    [LoggerMessage(3012, LogLevel.Information,
        "Suppression reconciliation {Scope} {Date}: {Review} DND entries not on Mailgun's lists listed for review; DND map {DndKeysInMemory} keys (null: point reads), Mailgun filter {FilterBytes} bytes")]
    public static partial void Compared(ILogger logger, string scope, string date, long review, int? dndKeysInMemory, long filterBytes);

    [LoggerMessage(3013, LogLevel.Information,
        "Suppression reconciliation {Scope} {Date}: applied {Applied}, already DND {AlreadyDnd}, review {Review}, allowlisted {Allowlisted}, cleared here {ClearedHere}, tag-scoped unsubscribes {TagScoped}, point reads {PointReads}")]
    public static partial void Reconciled(ILogger logger, string scope, string date, long applied, long alreadyDnd, long review, long allowlisted, long clearedHere, long tagScoped, long pointReads);
}
