using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
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
    private readonly TableClient _replayed;
    private readonly CreateOnce _created;
    private readonly CreateOnce _replayedCreated;

    public EventPoisonQueue(StorageClients clients)
    {
        _queue = clients.Queues.GetQueueClient(StorageNames.EventsPoisonQueue);
        _payloads = clients.Blobs.GetBlobContainerClient(StorageNames.EventPayloadsContainer);
        _replayed = clients.Tables.GetTableClient(StorageNames.ReplayPoisonTable);
        _created = new CreateOnce(async ct =>
        {
            await _queue.CreateIfNotExistsAsync(cancellationToken: ct).ConfigureAwait(false);
            await _payloads.CreateIfNotExistsAsync(cancellationToken: ct).ConfigureAwait(false);
        });
        _replayedCreated = new CreateOnce(ct => _replayed.CreateIfNotExistsAsync(ct));
    }

    public Task SendAsync(string originalText, string reason, string detail, long dequeueCount, DateTimeOffset now, CancellationToken cancellationToken) =>
        SendCoreAsync(originalText, reason, detail, dequeueCount, now, null, cancellationToken);

    /// <summary>
    /// The poison message of a replayed event, sent once per event however often the file is replayed: the queue cannot say
    /// whether it already holds a message (a message being looked at is invisible, an operator may have requeued or
    /// discarded it, and a peek sees 32 at most), so a row keyed by <see cref="ReplaySource.Key"/> in
    /// <c>ReplayPoison</c> records it. The row is written after the send: a crash in between sends the message again on
    /// the next replay (a duplicate), never loses it. Returns false when an earlier replay had already sent it, with
    /// where that replay read it (Earlier).
    /// </summary>
    public async Task<(bool Sent, string? Earlier)> SendOnceAsync(string originalText, string reason, string detail, DateTimeOffset now, ReplaySource source,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        await _replayedCreated.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var known = await _replayed.GetEntityIfExistsAsync<TableEntity>(source.Key, "", cancellationToken: cancellationToken).ConfigureAwait(false);
        if (known.HasValue)
        {
            return (false, known.Value!.GetString("Source"));
        }

        await SendCoreAsync(originalText, reason, detail, 1, now, source, cancellationToken).ConfigureAwait(false);
        try
        {
            await _replayed.AddEntityAsync(new TableEntity(source.Key, "") { ["Source"] = source.Describe(), ["Reason"] = reason, ["PoisonedAt"] = now }, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // Another replay of the same event at the same moment recorded it first: both sent one (at least once, never none).
        }

        return (true, null);
    }

    private async Task SendCoreAsync(string originalText, string reason, string detail, long dequeueCount, DateTimeOffset now, ReplaySource? source, CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var record = new PoisonRecord
        {
            Reason = reason, Detail = detail, PoisonedAt = now, DequeueCount = dequeueCount, Message = originalText, ReplayFile = source?.File, ReplayLine = source?.Line,
        };
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

/// <summary>
/// Where a replayed event came from (the CLI's <c>replay</c> file and line, or <c>backfill</c>'s Mailgun domain with no line),
/// and the key that makes its poison message unique: the SHA-256 of the tenant and the event's JSON, so the same bad
/// event is poisoned once whatever its line (a reordered or edited file) and however often it is replayed.
/// </summary>
public sealed record ReplaySource(string File, int? Line, string Key)
{
    public static ReplaySource For(string file, int? line, string? tenant, string eventJson) =>
        new(file, line, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes((tenant ?? "") + "\n" + eventJson))));

    public string Describe() => Line is { } n ? $"{File} line {n}" : File;
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

    /// <summary>The file a CLI replay read the event from (or, for a backfill, the Mailgun domain); absent for the queue's messages.</summary>
    [JsonProperty("replayFile", NullValueHandling = NullValueHandling.Ignore)]
    public string? ReplayFile { get; set; }

    /// <summary>The line of <see cref="ReplayFile"/> (1-based).</summary>
    [JsonProperty("replayLine", NullValueHandling = NullValueHandling.Ignore)]
    public int? ReplayLine { get; set; }

    /// <summary>Blob in <c>mailgun-event-payloads</c> holding the original when it was too big to inline.</summary>
    [JsonProperty("messageBlob", NullValueHandling = NullValueHandling.Ignore)]
    public string? MessageBlob { get; set; }
}
