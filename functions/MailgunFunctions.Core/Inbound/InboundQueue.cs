using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using MailgunFunctions.Queueing;
using MailgunFunctions.Storage;
using Microsoft.Extensions.Options;
using Newtonsoft.Json;

namespace MailgunFunctions.Inbound;

/// <summary>
/// The raw payload container and the <c>mailgun-inbound</c> queue seen from both ends: the webhook stores the
/// payload and sends the envelope; the processor fetches the payload, or sends a hopeless message to poison.
/// </summary>
public sealed class InboundQueue
{
    private readonly QueueClient _queue;
    private readonly QueueClient _poison;
    private readonly BlobContainerClient _raw;
    private readonly CreateOnce _created;
    private readonly CreateOnce _poisonCreated;
    private readonly InboundOptions _options;

    public InboundQueue(StorageClients clients, IOptions<InboundOptions> options)
    {
        _options = options.Value;
        _queue = clients.Queues.GetQueueClient(StorageNames.InboundQueue);
        _poison = clients.Queues.GetQueueClient(StorageNames.InboundPoisonQueue);
        _raw = clients.Blobs.GetBlobContainerClient(StorageNames.InboundRawContainer);
        _created = new CreateOnce(async ct =>
        {
            await _queue.CreateIfNotExistsAsync(cancellationToken: ct).ConfigureAwait(false);
            await _raw.CreateIfNotExistsAsync(cancellationToken: ct).ConfigureAwait(false);
        });
        _poisonCreated = new CreateOnce(ct => _poison.CreateIfNotExistsAsync(cancellationToken: ct));
    }

    /// <summary>
    /// Blob name of a payload: the signature date and the body hash, both the same on every retry of one post,
    /// so a retry overwrites its own blob instead of adding one.
    /// </summary>
    public static string PayloadBlobName(DateTimeOffset signedAt, string bodySha256) =>
        $"{signedAt.UtcDateTime:yyyy/MM/dd}/{bodySha256}";

    /// <summary>Stores <paramref name="payload"/> (seekable, from its start) and then sends the envelope: both durable when this returns.</summary>
    public async Task StoreAndSendAsync(InboundEnvelope envelope, Stream payload, CancellationToken cancellationToken)
    {
        var upload = new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = envelope.ContentType },
            Metadata = new Dictionary<string, string>
            {
                ["retainuntil"] = envelope.ReceivedAt.AddDays(_options.RawRetentionDays).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            },
        };
        await _created.RunAsync(
            async ct =>
            {
                payload.Seek(0, SeekOrigin.Begin);
                await _raw.GetBlobClient(envelope.PayloadBlob).UploadAsync(payload, upload, ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        await _created.RunAsync(ct => _queue.SendMessageAsync(InboundEnvelope.Serialize(envelope), ct), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Downloads a payload into a self-deleting temporary file; a missing blob can never be processed.</summary>
    public async Task<Stream> DownloadAsync(InboundEnvelope envelope, CancellationToken cancellationToken)
    {
        var file = TemporaryFile.Create();
        try
        {
            await _raw.GetBlobClient(envelope.PayloadBlob).DownloadToAsync(file, cancellationToken).ConfigureAwait(false);
            file.Seek(0, SeekOrigin.Begin);
            return file;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            await file.DisposeAsync().ConfigureAwait(false);
            throw new InboundFormatException("payload_missing", $"raw payload '{envelope.PayloadBlob}' does not exist", ex);
        }
        catch
        {
            await file.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Parks a message that can never be processed, with the reason, so an operator can see why.</summary>
    public async Task SendToPoisonAsync(string messageId, string messageText, string reason, string detail, DateTimeOffset at, CancellationToken cancellationToken)
    {
        string text = JsonConvert.SerializeObject(new
        {
            reason,
            detail = PoisonDetail.Cut(detail),
            queueMessageId = messageId,
            poisonedAt = at,
            // The original envelope is small (a pointer), but a foreign message could be anything: keep it bounded.
            message = messageText.Length > 16 * 1024 ? messageText[..(16 * 1024)] : messageText,
        });
        await _poisonCreated.RunAsync(ct => _poison.SendMessageAsync(text, ct), cancellationToken).ConfigureAwait(false);
    }
}
