using System.Collections.Concurrent;
using Azure.Data.Tables;
using MailgunFunctions.Classification;
using MailgunFunctions.Storage;

namespace MailgunFunctions.Dnd;

/// <summary>
/// Mailgun's allowlist of one tenant (its <c>whitelists</c> suppression list): exact addresses and whole domains. Mailgun
/// keeps allowlisted addresses off its bounce list; <see cref="Exempt"/> is the one rule that makes our DND do the same,
/// wherever a bounce reaches us (webhook events, bounce reports sent to the reply address, the nightly reconciliation).
/// </summary>
public sealed class Allowlist
{
    public static readonly Allowlist None = new();

    private readonly HashSet<string> _addresses = new(StringComparer.Ordinal);
    private readonly HashSet<string> _domains = new(StringComparer.Ordinal);

    public int Count => _addresses.Count + _domains.Count;

    public IEnumerable<string> Addresses => _addresses;

    public IEnumerable<string> Domains => _domains;

    /// <summary>An entry as Mailgun lists it: <paramref name="type"/> "domain" (or a value without '@') is a whole domain.</summary>
    public void Add(string value, string? type)
    {
        ArgumentNullException.ThrowIfNull(value);
        string normalized = DndKeys.NormalizeAddress(value);
        if (normalized.Length == 0)
        {
            return;
        }

        if (string.Equals(type, "domain", StringComparison.OrdinalIgnoreCase) || (type is null && !normalized.Contains('@', StringComparison.Ordinal)))
        {
            _domains.Add(normalized.TrimStart('@'));
        }
        else
        {
            _addresses.Add(normalized);
        }
    }

    /// <summary>Why the allowlist holds <paramref name="address"/> ("the address", "its domain x"), or null.</summary>
    public string? Holds(string address)
    {
        string normalized = DndKeys.NormalizeAddress(address);
        if (_addresses.Contains(normalized))
        {
            return "the address";
        }

        int at = normalized.LastIndexOf('@');
        return at >= 0 && _domains.Contains(normalized[(at + 1)..]) ? $"its domain {normalized[(at + 1)..]}" : null;
    }

    /// <summary>
    /// The rule: a bounce (hard, soft, blocked) of an allowlisted address or domain is recorded in the history but not applied
    /// (<see cref="DndChangeKind.Exempted"/>); complaints and unsubscribes are the contact's own wish and always apply.
    /// Returns <paramref name="change"/> itself when the allowlist does not cover it.
    /// </summary>
    public DndChange Exempt(string address, DndChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return Covers(change) && Holds(address) is { } why ? change.Exempted($"Not applied: {why} is on Mailgun's allowlist, which keeps it off the bounce list. ") : change;
    }

    /// <summary>Whether the allowlist can exempt <paramref name="change"/> at all: only bounces (so only those need a lookup).</summary>
    public static bool Covers(DndChange change) =>
        change is { Kind: DndChangeKind.PermanentCause or DndChangeKind.SoftBounce, Category: BounceCategory.HardBounce or BounceCategory.SoftBounce or BounceCategory.Blocked };
}

/// <summary>
/// The allowlists as the nightly export last read them, kept in table <c>MailgunAllowlist</c> (PartitionKey = tenant,
/// RowKey = <c>{sending domain}|a:{address}</c> or <c>{sending domain}|d:{domain}</c>) so that processing can apply
/// <see cref="Allowlist.Exempt"/> to every bounce. Mailgun keeps one allowlist per sending domain; the DND belongs to the
/// tenant, so a tenant's allowlist is the union of its domains' (an operator who allowlisted an address in one of the
/// tenant's domains vouched for it). Processing reads a tenant's allowlist (one partition query, usually one page) at most every
/// <see cref="CacheDuration"/> per instance, and only when a bounce arrives. Until the export has run for a tenant its
/// allowlist is empty here, and bounces apply as before.
/// </summary>
public sealed class MailgunAllowlists
{
    /// <summary>How long an instance trusts the allowlist it read: an allowlist changes rarely, and the export refreshes it once a night.</summary>
    public static readonly TimeSpan CacheDuration = TimeSpan.FromMinutes(5);

    private readonly TableClient _table;
    private readonly CreateOnce _created;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, (Allowlist List, DateTimeOffset ReadAt)> _cache = new(StringComparer.Ordinal);

    public MailgunAllowlists(StorageClients clients, TimeProvider time)
    {
        _table = clients.Tables.GetTableClient(StorageNames.MailgunAllowlistTable);
        _created = new CreateOnce(ct => _table.CreateIfNotExistsAsync(ct));
        _time = time;
    }

    /// <summary>The change as the tenant's allowlist lets it apply (<see cref="Allowlist.Exempt"/>); reads the allowlist only for bounces.</summary>
    public async Task<DndChange> ExemptAsync(string tenant, string address, DndChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        return Allowlist.Covers(change) ? (await GetAsync(tenant, cancellationToken).ConfigureAwait(false)).Exempt(address, change) : change;
    }

    public async Task<Allowlist> GetAsync(string tenant, CancellationToken cancellationToken)
    {
        string partition = DndKeys.TenantKey(tenant);
        DateTimeOffset now = _time.GetUtcNow();
        if (_cache.TryGetValue(partition, out var cached) && now - cached.ReadAt < CacheDuration)
        {
            return cached.List;
        }

        var allowlist = new Allowlist();
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var row in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), select: ["Value", "Type"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            allowlist.Add(row.GetString("Value") ?? "", row.GetString("Type"));
        }

        _cache[partition] = (allowlist, now);
        return allowlist;
    }

    /// <summary>
    /// Makes the stored allowlist of <paramref name="tenant"/>'s <paramref name="sendingDomain"/> equal to <paramref name="allowlist"/>:
    /// adds what is new, deletes what Mailgun dropped; the tenant's other domains keep theirs.
    /// </summary>
    public async Task<(int Added, int Removed)> SyncAsync(string tenant, string sendingDomain, Allowlist allowlist, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(allowlist);
        string partition = DndKeys.TenantKey(tenant);
        string prefix = DndKeys.Encode(sendingDomain.Trim().ToLowerInvariant()) + "|";
        var wanted = allowlist.Addresses.Select(a => (Row: prefix + "a:" + DndKeys.Encode(a), Value: a, Type: "address"))
            .Concat(allowlist.Domains.Select(d => (Row: prefix + "d:" + DndKeys.Encode(d), Value: d, Type: "domain")))
            .ToDictionary(e => e.Row, StringComparer.Ordinal);
        var stored = new HashSet<string>(StringComparer.Ordinal);
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        // The domain's rows: RowKeys from "{prefix}" up to (not including) the prefix with its '|' raised to '}'.
        string end = prefix[..^1] + "}";
        await foreach (var row in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {prefix} and RowKey lt {end}"), select: ["RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            stored.Add(row.RowKey);
        }

        var actions = wanted.Values.Where(e => !stored.Contains(e.Row))
            .Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(partition, e.Row) { ["Value"] = e.Value, ["Type"] = e.Type }))
            .Concat(stored.Where(r => !wanted.ContainsKey(r)).Select(r => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partition, r))))
            .ToList();
        // One partition: entity-group transactions of at most 100 actions each.
        foreach (var batch in actions.Chunk(100))
        {
            await _table.SubmitTransactionAsync(batch, cancellationToken).ConfigureAwait(false);
        }

        _cache.TryRemove(partition, out _);
        int added = actions.Count(a => a.ActionType == TableTransactionActionType.UpsertReplace);
        return (added, actions.Count - added);
    }
}
