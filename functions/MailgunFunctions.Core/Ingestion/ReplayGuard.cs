using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using MailgunFunctions.Storage;

namespace MailgunFunctions.Ingestion;

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
/// Table: <c>WebhookTokens</c>, PartitionKey = SHA-256 of the token (tokens may hold characters keys forbid), RowKey = "".
/// </summary>
public sealed class ReplayGuard
{
    private const string Queued = "queued";
    private const string Reserved = "reserved";
    private readonly TableClient _table;
    private readonly CreateOnce _created;

    public ReplayGuard(StorageClients clients)
    {
        _table = clients.Tables.GetTableClient(StorageNames.WebhookTokensTable);
        _created = new CreateOnce(ct => _table.CreateIfNotExistsAsync(ct));
    }

    public async Task<TokenClaim> ClaimAsync(string token, string bodySha256, string eventId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(KeyOf(token), "")
        {
            ["BodySha256"] = bodySha256,
            ["EventId"] = eventId,
            ["State"] = Reserved,
            ["FirstSeenAt"] = now,
        };
        try
        {
            await _created.RunAsync(ct => _table.AddEntityAsync(entity, ct), cancellationToken).ConfigureAwait(false);
            return TokenClaim.New;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            var existing = (await _table.GetEntityAsync<TableEntity>(entity.PartitionKey, "", cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            if (!string.Equals(existing.GetString("BodySha256"), bodySha256, StringComparison.Ordinal))
            {
                return TokenClaim.BodyMismatch;
            }

            return existing.GetString("State") == Queued ? TokenClaim.AlreadyQueued : TokenClaim.RetryOfUnqueued;
        }
    }

    public async Task MarkQueuedAsync(string token, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var update = new TableEntity(KeyOf(token), "") { ["State"] = Queued, ["QueuedAt"] = now };
        await _table.UpdateEntityAsync(update, ETag.All, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
    }

    internal static string KeyOf(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
