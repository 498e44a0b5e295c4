using System.Security.Cryptography;
using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using MailgunFunctions.Storage;
using Newtonsoft.Json;

namespace MailgunFunctions.Queueing;

/// <summary>
/// Puts a message that can never be processed on <c>mailgun-events-poison</c> at once, with the reason, instead
/// of letting the host retry it maxDequeueCount times and move it there without one. The poison message is a
/// JSON object: <c>reason</c>, <c>detail</c>, <c>poisonedAt</c>, <c>dequeueCount</c> and the original text in
/// <c>message</c> (or, when that would not fit a queue message, in the blob named by <c>messageBlob</c>).
/// Base64 like every message the host reads, so tools that read the host's own poison messages read these too.
/// </summary>
public sealed class EventPoisonQueue
{
    /// <summary>A queue message holds 64 KiB; base64 leaves 48 KiB; the JSON escaping of the original takes a share.</summary>
    public const int MaxInlineBytes = 40 * 1024;

    private readonly QueueClient _queue;
    private readonly BlobContainerClient _payloads;
    private readonly CreateOnce _created;

    public EventPoisonQueue(StorageClients clients)
    {
        _queue = clients.Queues.GetQueueClient(StorageNames.EventsPoisonQueue);
        _payloads = clients.Blobs.GetBlobContainerClient(StorageNames.EventPayloadsContainer);
        _created = new CreateOnce(async ct =>
        {
            await _queue.CreateIfNotExistsAsync(cancellationToken: ct).ConfigureAwait(false);
            await _payloads.CreateIfNotExistsAsync(cancellationToken: ct).ConfigureAwait(false);
        });
    }

    public async Task SendAsync(string originalText, string reason, string detail, long dequeueCount, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var record = new PoisonRecord { Reason = reason, Detail = detail, PoisonedAt = now, DequeueCount = dequeueCount, Message = originalText };
        string text = JsonConvert.SerializeObject(record, Formatting.None);
        if (Encoding.UTF8.GetByteCount(text) > MaxInlineBytes)
        {
            string blobName = $"poison/{now:yyyy/MM/dd}/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(originalText)))}.txt";
            await _payloads.GetBlobClient(blobName).UploadAsync(BinaryData.FromString(originalText), overwrite: true, cancellationToken).ConfigureAwait(false);
            record.Message = null;
            record.MessageBlob = blobName;
            text = JsonConvert.SerializeObject(record, Formatting.None);
        }

        await _queue.SendMessageAsync(text, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The detail of a poison message and its log event, bounded: parser messages can quote a whole hostile input.</summary>
public static class PoisonDetail
{
    public const int MaxLength = 1000;

    public static string Cut(string detail) => detail.Length <= MaxLength ? detail : detail[..MaxLength] + "…";
}

/// <summary>The body of a poison message sent by <see cref="EventPoisonQueue"/>.</summary>
public sealed class PoisonRecord
{
    /// <summary>Machine-readable reason: envelope_invalid, event_invalid, recipient_missing, tenant_unknown.</summary>
    [JsonProperty("reason")]
    public string Reason { get; set; } = "";

    [JsonProperty("detail")]
    public string Detail { get; set; } = "";

    [JsonProperty("poisonedAt")]
    public DateTimeOffset PoisonedAt { get; set; }

    [JsonProperty("dequeueCount")]
    public long DequeueCount { get; set; }

    /// <summary>The original message text as the queue trigger received it.</summary>
    [JsonProperty("message", NullValueHandling = NullValueHandling.Ignore)]
    public string? Message { get; set; }

    /// <summary>Blob in <c>mailgun-event-payloads</c> holding the original when it was too big to inline.</summary>
    [JsonProperty("messageBlob", NullValueHandling = NullValueHandling.Ignore)]
    public string? MessageBlob { get; set; }
}
