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
/// Table <c>SentMessages</c>: PartitionKey = tenant, RowKey = encoded message id + "|" + encoded recipient. A batch send
/// gives all its recipients one message id, so the recipient is part of the key: each copy is its own row, and a reply or a
/// bounce report is tied to the copy sent to the address it concerns (one point read). Writes are merges keyed by
/// message and recipient, so redelivered and reordered events change nothing.
/// Rows written before the recipient joined the key (RowKey = encoded message id alone, one per message, holding the
/// recipient of the last event written) are still read: a lookup that misses the new key reads the old one and accepts it
/// only for the recipient it names. They are no longer written; GDPR erasure finds both by their Recipient column.
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

    /// <summary>
    /// Whether an event is worth recording: one per sent message (accepted, then delivered) is enough. A Message-Id longer than
    /// a mail header line may be (998 characters, RFC 5322) belongs to no message a reply could answer.
    /// </summary>
    public static bool Records(MailgunEvent e) => e.MessageId is { Length: > 0 and <= 998 } && e.EventType is "accepted" or "delivered";

    /// <summary>The RowKey of one recipient's copy of a message. '|' is percent-encoded inside both parts, so it only separates.</summary>
    public static string RowKey(string messageId, string recipient) => MessagePrefix(messageId) + DndKeys.AddressKey(recipient);

    /// <summary>Every copy of a message has a RowKey starting with this.</summary>
    private static string MessagePrefix(string messageId) => LegacyRowKey(messageId) + "|";

    /// <summary>The RowKey of the layout before recipients were part of the key.</summary>
    private static string LegacyRowKey(string messageId) => DndKeys.Encode(messageId.Trim().Trim('<', '>'));

    public Task RecordAsync(string tenant, string recipient, MailgunEvent e, string? contactId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        var entity = new TableEntity(DndKeys.TenantKey(tenant), RowKey(e.MessageId!, recipient))
        {
            ["MessageId"] = e.MessageId,
            ["Recipient"] = DndKeys.NormalizeAddress(recipient),
            ["SentAt"] = e.Timestamp,
        };
        if (contactId is not null)
        {
            entity["ContactId"] = contactId;
        }

        return _created.RunAsync(ct => _table.UpsertEntityAsync(entity, TableUpdateMode.Merge, ct), cancellationToken);
    }

    public async Task<OutboundMessage?> FindAsync(string tenant, string messageId, string recipient, CancellationToken cancellationToken)
    {
        string partition = DndKeys.TenantKey(tenant);
        string address = DndKeys.NormalizeAddress(recipient);
        var found = await ReadAsync(partition, RowKey(messageId, address), messageId, cancellationToken).ConfigureAwait(false);
        if (found is null && await ReadAsync(partition, LegacyRowKey(messageId), messageId, cancellationToken).ConfigureAwait(false) is { } legacy
            && string.Equals(DndKeys.NormalizeAddress(legacy.Recipient), address, StringComparison.Ordinal))
        {
            found = legacy;
        }

        return found;
    }

    public async Task<IReadOnlyList<OutboundMessage>> FindRecipientsAsync(string tenant, string messageId, int max, CancellationToken cancellationToken)
    {
        string partition = DndKeys.TenantKey(tenant);
        string prefix = MessagePrefix(messageId);
        // RowKeys of one message lie between "<id>|" and "<id>}" ('}' follows '|').
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {prefix} and RowKey lt {prefix[..^1] + "}"}");
        var found = new List<OutboundMessage>();
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, maxPerPage: max, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            found.Add(From(entity, messageId));
            if (found.Count >= max)
            {
                return found;
            }
        }

        if (await ReadAsync(partition, LegacyRowKey(messageId), messageId, cancellationToken).ConfigureAwait(false) is { } legacy
            && !found.Any(f => f.Recipient == DndKeys.NormalizeAddress(legacy.Recipient)))
        {
            found.Add(legacy);
        }

        return found;
    }

    private async Task<OutboundMessage?> ReadAsync(string partition, string row, string messageId, CancellationToken cancellationToken)
    {
        var found = await _created.RunAsync(ct => _table.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        return found.HasValue && found.Value is { } e ? From(e, messageId) : null;
    }

    private static OutboundMessage From(TableEntity e, string messageId) =>
        new(e.GetString("MessageId") ?? messageId, e.GetString("ContactId"), DndKeys.NormalizeAddress(e.GetString("Recipient") ?? ""),
            e.GetDateTimeOffset("SentAt") ?? DateTimeOffset.MinValue);
}
