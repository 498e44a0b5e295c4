using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Ingestion;

/// <summary>
/// What the events webhook puts on the <c>mailgun-events</c> queue: the verified <c>event-data</c> and how it
/// was received. When the event is too big for a queue message, <see cref="EventData"/> is null and
/// <see cref="PayloadBlob"/> names the blob holding it (claim check).
/// </summary>
public sealed class EventEnvelope
{
    public const int CurrentVersion = 1;

    [JsonProperty("v")]
    public int Version { get; set; } = CurrentVersion;

    [JsonProperty("receivedAt")]
    public DateTimeOffset ReceivedAt { get; set; }

    /// <summary>Mailgun's signature token: with the body hash, the identity of one webhook delivery.</summary>
    [JsonProperty("token")]
    public string Token { get; set; } = "";

    /// <summary>Id of the signing key that verified the delivery (never the key).</summary>
    [JsonProperty("signingKeyId")]
    public string SigningKeyId { get; set; } = "";

    /// <summary>Lowercase hex SHA-256 of the webhook body as received.</summary>
    [JsonProperty("bodySha256")]
    public string BodySha256 { get; set; } = "";

    [JsonProperty("eventType")]
    public string EventType { get; set; } = "";

    [JsonProperty("eventId")]
    public string EventId { get; set; } = "";

    [JsonProperty("eventData", NullValueHandling = NullValueHandling.Ignore)]
    public JObject? EventData { get; set; }

    [JsonProperty("payloadBlob", NullValueHandling = NullValueHandling.Ignore)]
    public string? PayloadBlob { get; set; }
}

/// <summary>Thrown when a queue message is not an envelope this code can read: it can never be processed, so it goes to poison at once.</summary>
public sealed class EnvelopeFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The one place that turns envelopes into queue message text and back.</summary>
public static class EnvelopeCodec
{
    private static readonly JsonSerializerSettings Settings = new()
    {
        DateParseHandling = DateParseHandling.None,
        MaxDepth = 128,
        MissingMemberHandling = MissingMemberHandling.Ignore,
    };

    public static string Serialize(EventEnvelope envelope) => JsonConvert.SerializeObject(envelope, Formatting.None, Settings);

    public static EventEnvelope Deserialize(string text)
    {
        EventEnvelope? envelope;
        try
        {
            envelope = JsonConvert.DeserializeObject<EventEnvelope>(text, Settings);
        }
        catch (JsonException ex)
        {
            throw new EnvelopeFormatException($"not an event envelope: {ex.Message}", ex);
        }

        if (envelope is null)
        {
            throw new EnvelopeFormatException("not an event envelope: empty message");
        }

        if (envelope.Version != EventEnvelope.CurrentVersion)
        {
            throw new EnvelopeFormatException($"unknown envelope version {envelope.Version}");
        }

        if (envelope.EventData is null && string.IsNullOrEmpty(envelope.PayloadBlob))
        {
            throw new EnvelopeFormatException("envelope has neither eventData nor payloadBlob");
        }

        return envelope;
    }
}
