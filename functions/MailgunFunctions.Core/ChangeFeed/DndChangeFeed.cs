using System.Globalization;
using System.Text;
using Azure.Data.Tables;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.ChangeFeed;

/// <summary>One page of a tenant's changes.</summary>
/// <param name="Notices">In the order they were recorded.</param>
/// <param name="Next">The cursor to ask for the page after this one (also when this one was empty).</param>
/// <param name="CaughtUp">Whether every change up to the horizon was returned (false: ask again with Next at once).</param>
/// <param name="Horizon">Changes recorded after this time are not returned yet (ChangeFeed:SafetyMargin before now).</param>
public sealed record ChangePage(IReadOnlyList<DndNotice> Notices, string Next, bool CaughtUp, DateTimeOffset Horizon);

/// <summary>
/// Reads a tenant's change log (<see cref="DndChangeLog"/>) a page at a time for <c>changedSince</c>. A cursor is the
/// key of the last row returned, with the tenant it belongs to (<c>v1.</c> + base64url of <c>tenant key|row key</c>); the
/// next page is a range query strictly after it, up to the horizon (now − <see cref="ChangeFeedOptions.SafetyMargin"/>).
/// Rows are keyed by commit time, and a row can only appear with a time later than the horizon of any page read before
/// it was written (the margin covers clock skew and the longest write), so consecutive pages miss nothing.
/// </summary>
public sealed class DndChangeFeed
{
    private const string CursorVersion = "v1.";

    private readonly TableClient _entries;
    private readonly CreateOnce _created;
    private readonly ChangeFeedOptions _options;
    private readonly TimeProvider _time;

    public DndChangeFeed(StorageClients clients, IOptions<ChangeFeedOptions> options, TimeProvider time)
    {
        _entries = clients.Tables.GetTableClient(StorageNames.DndEntriesTable);
        _created = new CreateOnce(ct => _entries.CreateIfNotExistsAsync(ct));
        _options = options.Value;
        _time = time;
    }

    /// <summary>
    /// Where a page starts (exclusive): the beginning of the log for no <paramref name="changedSince"/>, the log at a time
    /// for an ISO 8601 time, or after the row of a cursor of <paramref name="tenant"/>. False for anything else, including
    /// another tenant's cursor.
    /// </summary>
    public static bool TryStart(string tenant, string? changedSince, out string startAfter)
    {
        startAfter = DndChangeLog.ChangePrefix;
        if (string.IsNullOrWhiteSpace(changedSince))
        {
            return true;
        }

        if (changedSince.StartsWith(CursorVersion, StringComparison.Ordinal))
        {
            string? decoded = Decode(changedSince[CursorVersion.Length..]);
            string prefix = DndKeys.TenantKey(tenant) + "|";
            if (decoded is null || !decoded.StartsWith(prefix, StringComparison.Ordinal) || DndChangeLog.TimeOf(decoded[prefix.Length..]) is null)
            {
                return false;
            }

            startAfter = decoded[prefix.Length..];
            return true;
        }

        if (DateTimeOffset.TryParse(changedSince, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            && changedSince.Contains('T', StringComparison.Ordinal))
        {
            startAfter = DndChangeLog.ChangeRowKeyAt(at);
            return true;
        }

        return false;
    }

    public static string CursorOf(string tenant, string rowKey) =>
        CursorVersion + Convert.ToBase64String(Encoding.UTF8.GetBytes(DndKeys.TenantKey(tenant) + "|" + rowKey)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async Task<ChangePage> ReadAsync(string tenant, string startAfter, int limit, CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var horizon = _time.GetUtcNow() - _options.SafetyMargin;
        string end = DndChangeLog.ChangeRowKeyAt(horizon);
        var notices = new List<DndNotice>(Math.Min(limit, 1000));
        string last = startAfter;
        bool full = false;
        if (string.CompareOrdinal(startAfter, end) < 0)
        {
            string filter = DndChangeLog.ChangesFilter(DndKeys.TenantKey(tenant), startAfter, end);
            await foreach (var row in _entries.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(limit, 1000), select: ["RowKey", "Notice"], cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (row.GetString("Notice") is { Length: > 0 } json)
                {
                    notices.Add(DndNotice.FromJson(json));
                }

                last = row.RowKey;
                if (notices.Count >= limit)
                {
                    full = true;
                    break;
                }
            }
        }

        // Caught up: nothing can appear below the horizon any more, so the next page may start there.
        string next = full ? last : string.CompareOrdinal(last, end) > 0 ? last : end;
        return new ChangePage(notices, CursorOf(tenant, next), !full, horizon);
    }

    private static string? Decode(string base64Url)
    {
        string s = base64Url.Replace('-', '+').Replace('_', '/');
        s = s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=');
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(s));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
