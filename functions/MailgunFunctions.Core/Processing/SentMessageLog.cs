using Azure;
using Azure.Data.Tables;
using MailgunFunctions.Dnd;
using MailgunFunctions.Events;
using MailgunFunctions.Inbound;
using MailgunFunctions.Storage;

namespace MailgunFunctions.Processing;

/// <summary>
/// The messages we sent, as Mailgun's accepted and delivered events report them, so a reply can be tied to the
/// message it answers (In-Reply-To / References carry Mailgun's message id) and to the contact it was sent to.
/// Table <c>SentMessages</c>: PartitionKey = tenant, RowKey = encoded message id: a reply's lookup is one point read.
/// Writes are merges keyed by the message id, so redelivered and reordered events change nothing.
/// </summary>
public sealed class SentMessageLog : IOutboundMessageLookup
{
    private readonly TableClient _table;
    private readonly CreateOnce _created;

    public SentMessageLog(StorageClients clients)
    {
        _table = clients.Tables.GetTableClient(StorageNames.SentMessagesTable);
        _created = new CreateOnce(ct => _table.CreateIfNotExistsAsync(ct));
    }

    /// <summary>Whether an event is worth recording: one per sent message (accepted, then delivered) is enough.</summary>
    public static bool Records(MailgunEvent e) => e.MessageId is { Length: > 0 } && e.EventType is "accepted" or "delivered";

    public Task RecordAsync(string tenant, string recipient, MailgunEvent e, string? contactId, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(DndKeys.TenantKey(tenant), DndKeys.Encode(e.MessageId!))
        {
            ["MessageId"] = e.MessageId,
            ["Recipient"] = recipient,
            ["SentAt"] = e.Timestamp,
        };
        if (contactId is not null)
        {
            entity["ContactId"] = contactId;
        }

        return _created.RunAsync(ct => _table.UpsertEntityAsync(entity, TableUpdateMode.Merge, ct), cancellationToken);
    }

    public async Task<OutboundMessage?> FindAsync(string tenant, string messageId, CancellationToken cancellationToken)
    {
        var found = await _created.RunAsync(
            ct => _table.GetEntityIfExistsAsync<TableEntity>(DndKeys.TenantKey(tenant), DndKeys.Encode(messageId.Trim().Trim('<', '>')), cancellationToken: ct),
            cancellationToken).ConfigureAwait(false);
        if (!found.HasValue || found.Value is not { } e)
        {
            return null;
        }

        return new OutboundMessage(e.GetString("MessageId") ?? messageId, e.GetString("ContactId"), e.GetString("Recipient") ?? "",
            e.GetDateTimeOffset("SentAt") ?? DateTimeOffset.MinValue);
    }
}
