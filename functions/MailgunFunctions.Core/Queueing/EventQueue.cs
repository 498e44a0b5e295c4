using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using MailgunFunctions.Storage;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Queueing;

/// <summary>
/// The <c>mailgun-events</c> queue seen from both ends: the webhook sends envelopes, the queue function opens
/// them. Events bigger than a queue message can hold go through a claim check in blob storage.
/// </summary>
public sealed partial class EventQueue
{
    /// <summary>
    /// A queue message holds 64 KiB; base64 leaves 48 KiB of payload. Envelopes above this many UTF-8 bytes
    /// put their event-data in a blob. Kept below 48 KiB for the envelope's own fields.
    /// </summary>
    public const int MaxInlineEnvelopeBytes = 45 * 1024;

    private readonly QueueClient _queue;
    private readonly BlobContainerClient _payloads;
    private readonly CreateOnce _created;

    public EventQueue(StorageClients clients)
    {
        _queue = clients.Queues.GetQueueClient(StorageNames.EventsQueue);
        _payloads = clients.Blobs.GetBlobContainerClient(StorageNames.EventPayloadsContainer);
        _created = new CreateOnce(async ct =>
        {
            await _queue.CreateIfNotExistsAsync(cancellationToken: ct).ConfigureAwait(false);
            await _payloads.CreateIfNotExistsAsync(cancellationToken: ct).ConfigureAwait(false);
        });
    }

    /// <summary>Sends an envelope prepared by the webhook, through a claim check when it is too big for a message.</summary>
    public async Task SendAsync(PreparedEvent prepared, CancellationToken cancellationToken)
    {
        var header = prepared.Header ?? throw new ArgumentException("a rejected event cannot be queued", nameof(prepared));
        if (prepared.EnvelopeJson.Length <= MaxInlineEnvelopeBytes)
        {
            await SendTextAsync(new BinaryData(prepared.EnvelopeJson), cancellationToken).ConfigureAwait(false);
            return;
        }

        string blobName = await StorePayloadAsync(header, new BinaryData(prepared.EventDataJson), cancellationToken).ConfigureAwait(false);
        var output = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var writer = new System.Text.Json.Utf8JsonWriter(output))
        {
            EnvelopeCodec.Write(writer, header, default, blobName);
        }

        await SendTextAsync(new BinaryData(output.WrittenMemory), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends an envelope built in code (replays, backfills, tests), through a claim check when needed.</summary>
    public async Task SendAsync(EventEnvelope envelope, CancellationToken cancellationToken)
    {
        string text = EnvelopeCodec.Serialize(envelope);
        if (Encoding.UTF8.GetByteCount(text) > MaxInlineEnvelopeBytes && envelope.EventData is not null)
        {
            var header = new EnvelopeHeader(envelope.ReceivedAt, envelope.Token, envelope.SigningKeyId, envelope.BodySha256, envelope.EventType, envelope.EventId) { Tenant = envelope.Tenant };
            string blobName = await StorePayloadAsync(header, BinaryData.FromString(envelope.EventData.ToString(Formatting.None)), cancellationToken).ConfigureAwait(false);
            text = EnvelopeCodec.Serialize(new EventEnvelope
            {
                ReceivedAt = envelope.ReceivedAt,
                Token = envelope.Token,
                SigningKeyId = envelope.SigningKeyId,
                BodySha256 = envelope.BodySha256,
                EventType = envelope.EventType,
                EventId = envelope.EventId,
                Tenant = envelope.Tenant,
                PayloadBlob = blobName,
            });
        }

        await SendTextAsync(BinaryData.FromString(text), cancellationToken).ConfigureAwait(false);
    }

    private Task SendTextAsync(BinaryData message, CancellationToken cancellationToken) =>
        _created.RunAsync(ct => _queue.SendMessageAsync(message, cancellationToken: ct), cancellationToken);

    /// <summary>The names <see cref="StorePayloadAsync"/> gives: the UTC date, then the body's SHA-256 in lowercase hex.</summary>
    internal static bool IsPayloadBlobName(string name) => PayloadBlobName().IsMatch(name);

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{4}/\d{2}/\d{2}/[0-9a-f]{64}\.json\z", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex PayloadBlobName();

    private async Task<string> StorePayloadAsync(EnvelopeHeader header, BinaryData payload, CancellationToken cancellationToken)
    {
        // Named by the body hash, so a retried delivery overwrites the same blob instead of adding one.
        string blobName = $"{header.ReceivedAt:yyyy/MM/dd}/{header.BodySha256}.json";
        await _created.RunAsync(ct => _payloads.GetBlobClient(blobName).UploadAsync(payload, overwrite: true, ct), cancellationToken).ConfigureAwait(false);
        return blobName;
    }

    /// <summary>
    /// Opens a message as the queue trigger hands it over (already base64-decoded by the host), fetching a
    /// claim-checked payload. Throws <see cref="EnvelopeFormatException"/> for a message that can never be read.
    /// </summary>
    public async Task<EventEnvelope> OpenAsync(string messageText, CancellationToken cancellationToken)
    {
        var envelope = EnvelopeCodec.Deserialize(messageText);
        if (envelope.EventData is null && envelope.PayloadBlob is { } blobName)
        {
            // A queue message is input too: its blob name must be one this queue writes, never a path of its own choosing.
            if (!IsPayloadBlobName(blobName))
            {
                throw new EnvelopeFormatException($"'{PoisonDetail.Cut(blobName)}' is not a claim-check blob name (yyyy/MM/dd/<sha256>.json)");
            }

            BinaryData content;
            try
            {
                content = (await _payloads.GetBlobClient(blobName).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                throw new EnvelopeFormatException($"claim-checked payload '{blobName}' does not exist", ex);
            }

            try
            {
                envelope.EventData = JObject.Parse(content.ToString());
            }
            catch (JsonException ex)
            {
                throw new EnvelopeFormatException($"claim-checked payload '{blobName}' is not JSON", ex);
            }
        }

        return envelope;
    }
}
