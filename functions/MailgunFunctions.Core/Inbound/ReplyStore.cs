using System.Globalization;
using System.Text;
using Azure;
using Azure.Data.Tables;
using MailgunFunctions.Storage;
using Newtonsoft.Json;

namespace MailgunFunctions.Inbound;

/// <summary>
/// Replies in Table Storage, newest first. Table <c>Replies</c>: PartitionKey = tenant, RowKey = inverted ticks
/// of Mailgun's signature time + "_" + the first 32 hex characters of the reply id. Table <c>ContactReplies</c>:
/// the same rows for threaded replies, PartitionKey = tenant + "|" + contact id. Keys are escaped
/// (<see cref="Key"/>) because Table Storage forbids <c>/ \ # ?</c> and control characters in them.
/// Writes are inserts: a second delivery of the same post gets 409, which means "already stored".
/// </summary>
public sealed class ReplyStore
{
    /// <summary>A string property holds 64 KiB (32 K UTF-16 characters); the raw payload keeps everything.</summary>
    private const int MaxTextChars = 16_000;
    private const int MaxShortChars = 2_000;
    private const int MaxAttachmentsListed = 50;
    private const int MaxStatusesListed = 20;

    private readonly TableClient _replies;
    private readonly TableClient _contactReplies;
    private readonly CreateOnce _created;

    public ReplyStore(StorageClients clients)
    {
        _replies = clients.Tables.GetTableClient(StorageNames.RepliesTable);
        _contactReplies = clients.Tables.GetTableClient(StorageNames.ContactRepliesTable);
        _created = new CreateOnce(async ct =>
        {
            await _replies.CreateIfNotExistsAsync(ct).ConfigureAwait(false);
            await _contactReplies.CreateIfNotExistsAsync(ct).ConfigureAwait(false);
        });
    }

    /// <summary>Escapes what Table keys forbid (and '%' and the '|' separator), reversibly and readably: "a/b" gives "a%2Fb".</summary>
    public static string Key(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (char c in value)
        {
            if (c is '/' or '\\' or '#' or '?' or '%' or '|' || char.IsControl(c))
            {
                builder.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    public static string TenantPartition(string tenant) => Key(tenant);

    public static string ContactPartition(string tenant, string contactId) => Key(tenant) + "|" + Key(contactId);

    /// <summary>Newest first: RowKeys sort ascending, so the time is inverted.</summary>
    public static string RowKey(ReplyRecord reply) =>
        (DateTimeOffset.MaxValue.UtcTicks - reply.ReceivedAt.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "_" + reply.ReplyId[..32];

    /// <summary>Stores the reply (and its contact row when threaded). Returns false when it was already stored.</summary>
    public async Task<bool> AddAsync(ReplyRecord reply, CancellationToken cancellationToken)
    {
        bool added = await InsertAsync(_replies, ToEntity(reply, TenantPartition(reply.Tenant)), cancellationToken).ConfigureAwait(false);
        if (reply.ContactId is { } contactId)
        {
            // Not a transaction (two tables); each insert is idempotent, so a retry after a crash here completes the pair.
            added |= await InsertAsync(_contactReplies, ToEntity(reply, ContactPartition(reply.Tenant, contactId)), cancellationToken).ConfigureAwait(false);
        }

        return added;
    }

    /// <summary>Replies of a tenant, newest first.</summary>
    public IAsyncEnumerable<TableEntity> ListAsync(string tenant, CancellationToken cancellationToken) =>
        Query(_replies, TenantPartition(tenant), cancellationToken);

    /// <summary>Replies of one contact of a tenant, newest first.</summary>
    public IAsyncEnumerable<TableEntity> ListForContactAsync(string tenant, string contactId, CancellationToken cancellationToken) =>
        Query(_contactReplies, ContactPartition(tenant, contactId), cancellationToken);

    private async IAsyncEnumerable<TableEntity> Query(TableClient table, string partition, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var pages = await _created.RunAsync(
            ct => Task.FromResult(table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), cancellationToken: ct)),
            cancellationToken).ConfigureAwait(false);
        // Whole pageable: a page may be empty and still have a continuation.
        await foreach (var entity in pages.ConfigureAwait(false))
        {
            yield return entity;
        }
    }

    private async Task<bool> InsertAsync(TableClient table, TableEntity entity, CancellationToken cancellationToken)
    {
        try
        {
            await _created.RunAsync(ct => table.AddEntityAsync(entity, ct), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    private static TableEntity ToEntity(ReplyRecord reply, string partitionKey) => new(partitionKey, RowKey(reply))
    {
        ["ReplyId"] = reply.ReplyId,
        ["Tenant"] = reply.Tenant,
        ["ReceivedAt"] = reply.ReceivedAt,
        ["Format"] = reply.Format,
        ["Kind"] = reply.Kind.ToString(),
        ["AutoReplyReason"] = reply.AutoReplyReason,
        ["From"] = Cut(reply.From, MaxShortChars),
        ["To"] = Cut(reply.To, MaxShortChars),
        ["Subject"] = Cut(reply.Subject, MaxShortChars),
        ["Date"] = reply.Date,
        ["MessageId"] = Cut(reply.MessageId, MaxShortChars),
        ["InReplyTo"] = Cut(reply.InReplyTo, MaxShortChars),
        ["References"] = Cut(string.Join(' ', reply.References), MaxTextChars),
        ["Text"] = Cut(reply.NewText, MaxTextChars),
        ["TextSource"] = reply.TextSource,
        ["AttachmentCount"] = Math.Max(reply.AttachmentCount, reply.Attachments.Count),
        ["ReadLimit"] = reply.ReadLimit,
        ["Attachments"] = JsonConvert.SerializeObject(reply.Attachments.Take(MaxAttachmentsListed).Select(a => new { name = Cut(a.Name, 255), size = a.Size })),
        ["IsSpam"] = reply.IsSpam,
        ["SpamScore"] = reply.SpamScore,
        // Bounded so the JSON stays whole and under the 32 K character limit of a string property.
        ["DeliveryStatus"] = reply.DeliveryStatus.Count == 0 ? null : JsonConvert.SerializeObject(reply.DeliveryStatus.Take(MaxStatusesListed)
            .Select(s => new { address = Cut(s.Address, 320), action = Cut(s.Action, 40), status = Cut(s.Status, 40), diagnostic = Cut(s.Diagnostic, 500) })),
        ["ReturnedMessageId"] = Cut(reply.ReturnedMessageId, MaxShortChars),
        ["Unsubscribe"] = reply.UnsubscribeLine,
        ["UnsubscribeState"] = reply.UnsubscribeState,
        ["SenderVerifiedBy"] = reply.SenderVerifiedBy,
        ["Threaded"] = reply.IsThreaded,
        ["OutboundMessageId"] = reply.OutboundMessageId,
        ["ContactId"] = reply.ContactId,
        ["RawBlob"] = reply.RawBlob,
    };

    private static string? Cut(string? value, int max) => value is null || value.Length <= max ? value : value[..max];
}
