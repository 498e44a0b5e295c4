using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Data.Tables;

namespace MailgunFunctions.Dnd;

/// <summary>
/// Which tenants have ever had an address erased (<see cref="MailgunFunctions.Erasure.DndErasure"/>), so that a never-seen address of a tenant
/// without erasures costs no read of an erasure row. A tenant's first erasure writes a marker row
/// (<c>DndErasures</c>, RowKey <see cref="MarkerRow"/>) and only then, after <see cref="EraseWait"/>, deletes the plain
/// row; readers trust a cached "no marker" for less than <see cref="CacheLifetime"/>, counted from the start of the
/// marker read to the end of the plain-row read that missed. So a reader that misses a row deleted by an erasure read
/// the marker after it was written (the delete came at least <see cref="EraseWait"/> after the marker, and the reader's
/// two reads are less than <see cref="CacheLifetime"/> apart), and it falls back to the erasure row. The argument
/// needs elapsed real time on both sides, never a wall clock, which is why this uses <see cref="Stopwatch"/> and
/// <see cref="Task.Delay(TimeSpan, CancellationToken)"/> and not the injected <see cref="TimeProvider"/> (a test clock
/// would make a cached answer live forever). A marker is never removed: a tenant with erasures pays the fallback read
/// for each never-seen address.
/// </summary>
internal sealed class ErasureMarks
{
    /// <summary>The marker's RowKey; sorts after the erasure records (inverted times are digits).</summary>
    public const string MarkerRow = "~tenant-has-erasures";

    /// <summary>Short: each processor re-reads a tenant's marker at most this often; an erasure waits a little longer.</summary>
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(5);

    /// <summary>Insert-first decides only on an answer younger than this, so the insert normally returns while it still proves.</summary>
    public static readonly TimeSpan DecideWithin = CacheLifetime - TimeSpan.FromSeconds(2);

    /// <summary>Longer than <see cref="CacheLifetime"/> by a margin for the rate of two machines' clocks and for scheduling.</summary>
    public static readonly TimeSpan EraseWait = CacheLifetime + TimeSpan.FromSeconds(1);

    // Bounded: a platform with more active tenants than this re-reads markers more often, never trusts a stale one.
    private const int MaxTenants = 10_000;

    private readonly TableClient _erasures;
    private readonly ConcurrentDictionary<string, (bool Marked, long ReadStartedAt)> _known = new(StringComparer.Ordinal);

    public ErasureMarks(TableClient erasures) => _erasures = erasures;

    /// <summary>
    /// Whether an address of the tenant with no plain row may have an erasure row. Call it only after the plain-row read
    /// has returned: the cache age is measured up to now.
    /// </summary>
    public async ValueTask<bool> MayHaveErasuresAsync(string tenantKey, CancellationToken cancellationToken)
    {
        if (_known.TryGetValue(tenantKey, out var known) && (known.Marked || Stopwatch.GetElapsedTime(known.ReadStartedAt) < CacheLifetime))
        {
            return known.Marked;
        }

        return (await ReadAsync(tenantKey, cancellationToken).ConfigureAwait(false)).Marked;
    }

    /// <summary>
    /// For writing a never-seen address's row without reading first: the start time of a "no marker" read young enough to
    /// decide on (re-read when older than <see cref="DecideWithin"/>), or null for a marked tenant. After the insert,
    /// <see cref="StillProves"/> says whether that answer still covers it.
    /// </summary>
    public async ValueTask<long?> UnmarkedSinceAsync(string tenantKey, CancellationToken cancellationToken)
    {
        if (!_known.TryGetValue(tenantKey, out var known) || (!known.Marked && Stopwatch.GetElapsedTime(known.ReadStartedAt) >= DecideWithin))
        {
            known = await ReadAsync(tenantKey, cancellationToken).ConfigureAwait(false);
        }

        return known.Marked ? null : known.ReadStartedAt;
    }

    /// <summary>Whether a "no marker" answer whose read started at <paramref name="readStartedAt"/> covers a write that has just returned.</summary>
    public static bool StillProves(long readStartedAt) => Stopwatch.GetElapsedTime(readStartedAt) < CacheLifetime;

    private async Task<(bool Marked, long ReadStartedAt)> ReadAsync(string tenantKey, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        var marker = await _erasures.GetEntityIfExistsAsync<TableEntity>(tenantKey, MarkerRow, ["PartitionKey"], cancellationToken).ConfigureAwait(false);
        if (_known.Count >= MaxTenants)
        {
            _known.Clear();
        }

        var known = (marker.HasValue, started);
        _known[tenantKey] = known;
        return known;
    }

    /// <summary>Marks the tenant; the caller then waits <see cref="EraseWait"/> before deleting any plain row.</summary>
    public static Task MarkAsync(TableClient erasures, string tenantKey, DateTimeOffset now, CancellationToken cancellationToken) =>
        erasures.UpsertEntityAsync(new TableEntity(tenantKey, MarkerRow) { ["MarkedAt"] = now }, TableUpdateMode.Replace, cancellationToken);
}
