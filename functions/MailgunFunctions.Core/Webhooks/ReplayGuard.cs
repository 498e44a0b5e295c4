using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using MailgunFunctions.Settings;
using MailgunFunctions.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Webhooks;

/// <summary>What the token store says about a delivery.</summary>
public enum TokenClaim
{
    /// <summary>First time this token is seen: queue the event.</summary>
    New,
    /// <summary>Seen with the same body, not marked queued (an earlier attempt failed, or the caller never marks): queue it again.</summary>
    RetryOfUnqueued,
    /// <summary>Seen with the same body and marked queued (<see cref="ReplayGuard.MarkQueuedAsync"/>): a retry, answer 200 without queueing.</summary>
    AlreadyQueued,
    /// <summary>Seen with a different body: the signature block was replayed onto another body.</summary>
    BodyMismatch,
}

/// <summary>
/// Remembers every accepted webhook token with a hash of its body. Mailgun's signature covers only timestamp
/// and token, so a captured signature block could be replayed with any body: each token is accepted for one
/// body only. The insert is atomic (Table Storage answers 409 to a second insert of the same key).
/// The events webhook only claims (a re-queued event is cheap and processing is idempotent); the inbound webhook also
/// marks each claim queued after the send, because queueing a reply twice stores and parses the raw mail twice.
/// Tables: one per UTC day of the <b>signed</b> timestamp, <c>WebhookTokens{yyyyMMdd}</c>: a replay carries the timestamp
/// it was signed with, so it always meets the table of its first delivery, whenever it arrives. A token can only be
/// accepted inside the freshness window, so a day's table is useless once that window has passed it, and it is dropped
/// whole (one request, instead of deleting rows one by one) when a later day's table is first used.
/// PartitionKey = SHA-256 of the token (tokens may hold characters keys forbid), RowKey = "".
/// </summary>
public sealed class ReplayGuard
{
    private const string Queued = "queued";
    private const string Reserved = "reserved";
    private readonly TableServiceClient _tables;
    private readonly WebhookOptions _options;
    private readonly ILogger<ReplayGuard> _logger;
    // One client and one create-once per day, so a claim costs no table name formatting and no new client.
    private readonly ConcurrentDictionary<DateOnly, DayTable> _days = new();

    public ReplayGuard(StorageClients clients, IOptions<WebhookOptions> options, ILogger<ReplayGuard> logger)
    {
        _tables = clients.Tables;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>The table of the tokens signed on the UTC day of <paramref name="signedAt"/>.</summary>
    public static string TableFor(DateTimeOffset signedAt) =>
        StorageNames.WebhookTokensTable + signedAt.UtcDateTime.ToString(DayFormat, CultureInfo.InvariantCulture);

    private const string DayFormat = "yyyyMMdd";

    public async Task<TokenClaim> ClaimAsync(string token, string bodySha256, string eventId, DateTimeOffset signedAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (table, created) = DayOf(signedAt, now);
        var entity = ClaimRow(token, bodySha256, eventId, now);
        try
        {
            await created.RunAsync(ct => table.AddEntityAsync(entity, ct), cancellationToken).ConfigureAwait(false);
            return TokenClaim.New;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            var existing = (await table.GetEntityAsync<TableEntity>(entity.PartitionKey, "", cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            if (!string.Equals(existing.GetString("BodySha256"), bodySha256, StringComparison.Ordinal))
            {
                return TokenClaim.BodyMismatch;
            }

            return existing.GetString("State") == Queued ? TokenClaim.AlreadyQueued : TokenClaim.RetryOfUnqueued;
        }
    }

    public async Task MarkQueuedAsync(string token, DateTimeOffset signedAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var update = new TableEntity(KeyOf(token), "") { ["State"] = Queued, ["QueuedAt"] = now };
        await DayOf(signedAt, now).Table.UpdateEntityAsync(update, ETag.All, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The PartitionKey of a token: lowercase hex SHA-256 of its UTF-8 text (docs/storage.md, "was this delivery received?").</summary>
    public static string KeyOf(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>The row a claim inserts (public so the benchmark's floor inserts exactly this).</summary>
    public static TableEntity ClaimRow(string token, string bodySha256, string eventId, DateTimeOffset now) => new(KeyOf(token), "")
    {
        ["BodySha256"] = bodySha256,
        ["EventId"] = eventId,
        ["State"] = Reserved,
        ["FirstSeenAt"] = now,
    };

    private sealed record DayTable(TableClient Table, CreateOnce Created);

    /// <summary>
    /// The day's table, created on its first use in this process; that first use also drops the days no token can be
    /// accepted for any more (older than the freshness window, with a day to spare).
    /// </summary>
    private DayTable DayOf(DateTimeOffset signedAt, DateTimeOffset now) =>
        _days.GetOrAdd(DateOnly.FromDateTime(signedAt.UtcDateTime), static (_, state) =>
        {
            var table = state.Guard._tables.GetTableClient(TableFor(state.SignedAt));
            return new DayTable(table, new CreateOnce(async ct =>
            {
                await table.CreateIfNotExistsAsync(ct).ConfigureAwait(false);
                await state.Guard.DropExpiredAsync(state.Now, ct).ConfigureAwait(false);
            }));
        }, (Guard: this, SignedAt: signedAt, Now: now));

    private async Task DropExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Tokens signed before this day are refused as stale before they reach a claim.
        var oldestKept = now - _options.MaxSignatureAge - TimeSpan.FromDays(1);
        string keepFrom = TableFor(oldestKept);
        string first = StorageNames.WebhookTokensTable + "0", last = StorageNames.WebhookTokensTable + ":";
        foreach (var day in _days.Keys.Where(d => d < DateOnly.FromDateTime(oldestKept.UtcDateTime)))
        {
            _days.TryRemove(day, out _);
        }

        try
        {
            await foreach (var item in _tables.QueryAsync(TableClient.CreateQueryFilter($"TableName ge {first} and TableName lt {last}"), cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                // Same length and format, so ordinal order is date order; anything else is not ours to drop.
                if (item.Name.Length == keepFrom.Length && string.CompareOrdinal(item.Name, keepFrom) < 0)
                {
                    await _tables.DeleteTableAsync(item.Name, cancellationToken).ConfigureAwait(false);
                    WebhookLog.TokenTableDropped(_logger, item.Name);
                }
            }
        }
        catch (RequestFailedException ex)
        {
            // Housekeeping only: the claim goes on, and the next day's first claim tries again.
            WebhookLog.TokenTableDropFailed(_logger, ex);
        }
    }
}
