using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using MailgunFunctions.Storage;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Ingestion;

/// <summary>
/// The <c>mailgun-events</c> queue seen from both ends: the webhook sends envelopes, the queue function opens
/// them. Events bigger than a queue message can hold go through a claim check in blob storage.
/// </summary>
public sealed class EventQueue
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

    public async Task SendAsync(EventEnvelope envelope, CancellationToken cancellationToken)
    {
        string text = EnvelopeCodec.Serialize(envelope);
        if (Encoding.UTF8.GetByteCount(text) > MaxInlineEnvelopeBytes && envelope.EventData is not null)
        {
            // Named by the body hash, so a retried delivery overwrites the same blob instead of adding one.
            string blobName = $"{envelope.ReceivedAt:yyyy/MM/dd}/{envelope.BodySha256}.json";
            string payload = envelope.EventData.ToString(Formatting.None);
            await _created.RunAsync(
                ct => _payloads.GetBlobClient(blobName).UploadAsync(BinaryData.FromString(payload), overwrite: true, ct),
                cancellationToken).ConfigureAwait(false);
            var reference = new EventEnvelope
            {
                ReceivedAt = envelope.ReceivedAt,
                Token = envelope.Token,
                SigningKeyId = envelope.SigningKeyId,
                BodySha256 = envelope.BodySha256,
                EventType = envelope.EventType,
                EventId = envelope.EventId,
                PayloadBlob = blobName,
            };
            text = EnvelopeCodec.Serialize(reference);
        }

        await _created.RunAsync(ct => _queue.SendMessageAsync(text, ct), cancellationToken).ConfigureAwait(false);
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
