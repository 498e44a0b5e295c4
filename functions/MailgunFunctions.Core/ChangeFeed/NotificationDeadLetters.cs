using System.Globalization;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;

namespace MailgunFunctions.ChangeFeed;

/// <summary>A notification that could not be delivered for <see cref="NotificationOptions.RetryFor"/>.</summary>
public sealed record DeadLetter(string Id, string Tenant, DndNotice Notice, int Attempts, DateTimeOffset FirstAttemptAt, DateTimeOffset ParkedAt, string LastError);

/// <summary>
/// <c>DndNotificationDeadLetters</c>: PartitionKey = tenant, RowKey = inverted time parked + notice id (newest first). A
/// dead letter keeps the whole notice until it is replayed (<c>mailgun-ops notifications replay</c>), which puts it back on
/// the retry queue with a fresh day of retries and then deletes the row (a stop in between leaves the row: replaying
/// twice sends the notice twice, which receivers drop by version).
/// </summary>
public sealed class NotificationDeadLetters
{
    private readonly TableClient _table;
    private readonly CreateOnce _created;
    private readonly NotificationRetryQueue _retries;
    private readonly TimeProvider _time;

    public NotificationDeadLetters(HomeStorage clients, NotificationRetryQueue retries, TimeProvider time)
    {
        _table = clients.Tables.GetTableClient(StorageNames.NotificationDeadLettersTable);
        _created = new CreateOnce(ct => _table.CreateIfNotExistsAsync(ct));
        _retries = retries;
        _time = time;
    }

    public Task ParkAsync(NotificationAttempt attempt, string lastError, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        var now = _time.GetUtcNow();
        var notice = attempt.Notice;
        string row = (DateTimeOffset.MaxValue.UtcTicks - now.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "_" + notice.Id;
        var entity = new TableEntity(DndKeys.TenantKey(notice.Tenant), row)
        {
            ["NoticeId"] = notice.Id,
            ["AddressHash"] = notice.AddressHash,
            ["Version"] = notice.Version,
            ["Notice"] = notice.ToJson(),
            ["Attempts"] = attempt.Attempt,
            ["FirstAttemptAt"] = attempt.FirstAttemptAt,
            ["ParkedAt"] = now,
            ["LastError"] = lastError.Length > 1024 ? lastError[..1024] : lastError,
        };
        // Upsert: a redelivered queue message parks the same row again instead of failing.
        return _created.RunAsync(ct => _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct), cancellationToken);
    }

    /// <summary>The tenant's dead letters, newest first (one partition query).</summary>
    public async IAsyncEnumerable<DeadLetter> ListAsync(string tenant, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        string partition = DndKeys.TenantKey(tenant);
        await foreach (var e in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return Of(e);
        }
    }

    /// <summary>Puts the tenant's dead letters (all, or the one with <paramref name="id"/>: the row id or the notice id) back on the retry queue. Returns those replayed.</summary>
    public async Task<IReadOnlyList<DeadLetter>> ReplayAsync(string tenant, string? id, CancellationToken cancellationToken)
    {
        var replayed = new List<DeadLetter>();
        var now = _time.GetUtcNow();
        await foreach (var letter in ListAsync(tenant, cancellationToken).ConfigureAwait(false))
        {
            if (id is not null && letter.Id != id && letter.Notice.Id != id)
            {
                continue;
            }

            await _retries.ScheduleAsync(new NotificationAttempt { Attempt = 0, FirstAttemptAt = now, DueAt = now, LastError = letter.LastError, Notice = letter.Notice }, cancellationToken).ConfigureAwait(false);
            await _table.DeleteEntityAsync(DndKeys.TenantKey(tenant), letter.Id, ETag.All, cancellationToken).ConfigureAwait(false);
            replayed.Add(letter);
        }

        return replayed;
    }

    /// <summary>An erasure: the dead letters of the address go (each names it).</summary>
    public async Task<int> DeleteAddressAsync(string tenant, string addressHash, CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        string partition = DndKeys.TenantKey(tenant);
        int n = 0;
        await foreach (var e in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition} and AddressHash eq {addressHash}"), select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            await _table.DeleteEntityAsync(e.PartitionKey, e.RowKey, ETag.All, cancellationToken).ConfigureAwait(false);
            n++;
        }

        return n;
    }

    private static DeadLetter Of(TableEntity e)
    {
        var notice = DndNotice.FromJson(e.GetString("Notice") ?? "{}");
        return new DeadLetter(e.RowKey, notice.Tenant, notice, e.GetInt32("Attempts") ?? 0,
            e.GetDateTimeOffset("FirstAttemptAt")?.ToUniversalTime() ?? default, e.GetDateTimeOffset("ParkedAt")?.ToUniversalTime() ?? default, e.GetString("LastError") ?? "");
    }
}
