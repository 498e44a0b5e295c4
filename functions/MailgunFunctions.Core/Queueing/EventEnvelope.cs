using System.Text.Json;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Queueing;

/// <summary>
/// What the events webhook puts on the <c>mailgun-events</c> queue: the verified <c>event-data</c> and how it
/// was received. When the event is too big for a queue message, <see cref="EventData"/> is null and
/// <see cref="PayloadBlob"/> names the blob holding it (claim check).
/// </summary>
public sealed class EventEnvelope
{
    public const int CurrentVersion = 1;

    [JsonProperty(EnvelopeCodec.VersionField)]
    public int Version { get; set; } = CurrentVersion;

    [JsonProperty(EnvelopeCodec.ReceivedAtField)]
    public DateTimeOffset ReceivedAt { get; set; }

    /// <summary>Mailgun's signature token: with the body hash, the identity of one webhook delivery.</summary>
    [JsonProperty(EnvelopeCodec.TokenField)]
    public string Token { get; set; } = "";

    /// <summary>Id of the signing key that verified the delivery (never the key).</summary>
    [JsonProperty(EnvelopeCodec.SigningKeyIdField)]
    public string SigningKeyId { get; set; } = "";

    /// <summary>Lowercase hex SHA-256 of the webhook body as received.</summary>
    [JsonProperty(EnvelopeCodec.BodySha256Field)]
    public string BodySha256 { get; set; } = "";

    [JsonProperty(EnvelopeCodec.EventTypeField)]
    public string EventType { get; set; } = "";

    [JsonProperty(EnvelopeCodec.EventIdField)]
    public string EventId { get; set; } = "";

    /// <summary>The tenant whose URL and key received the event; absent in envelopes queued before tenants existed.</summary>
    [JsonProperty(EnvelopeCodec.TenantField, NullValueHandling = NullValueHandling.Ignore)]
    public string? Tenant { get; set; }

    [JsonProperty(EnvelopeCodec.EventDataField, NullValueHandling = NullValueHandling.Ignore)]
    public JObject? EventData { get; set; }

    [JsonProperty(EnvelopeCodec.PayloadBlobField, NullValueHandling = NullValueHandling.Ignore)]
    public string? PayloadBlob { get; set; }
}

/// <summary>Thrown when a queue message is not an envelope this code can read: it can never be processed, so it goes to poison at once.</summary>
public sealed class EnvelopeFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The one place that knows the envelope's wire format: written by the webhook's hot path with
/// <see cref="Utf8JsonWriter"/> (the event-data copied through as the bytes Mailgun sent), written by replays
/// from an <see cref="EventEnvelope"/>, and read back by the queue function.
/// </summary>
public static class EnvelopeCodec
{
    public const string VersionField = "v";
    public const string ReceivedAtField = "receivedAt";
    public const string TokenField = "token";
    public const string SigningKeyIdField = "signingKeyId";
    public const string BodySha256Field = "bodySha256";
    public const string EventTypeField = "eventType";
    public const string EventIdField = "eventId";
    public const string TenantField = "tenant";
    public const string EventDataField = "eventData";
    public const string PayloadBlobField = "payloadBlob";

    private static readonly JsonSerializerSettings Settings = new()
    {
        DateParseHandling = DateParseHandling.None,
        MaxDepth = 128,
        MissingMemberHandling = MissingMemberHandling.Ignore,
    };

    public static string Serialize(EventEnvelope envelope) => JsonConvert.SerializeObject(envelope, Formatting.None, Settings);

    /// <summary>
    /// Writes an envelope with <paramref name="eventDataJson"/> (already validated JSON) copied through unchanged,
    /// or, when it is empty, a reference to <paramref name="payloadBlob"/>.
    /// </summary>
    public static void Write(Utf8JsonWriter writer, EnvelopeHeader header, ReadOnlySpan<byte> eventDataJson, string? payloadBlob)
    {
        writer.WriteStartObject();
        writer.WriteNumber(VersionField, EventEnvelope.CurrentVersion);
        writer.WriteString(ReceivedAtField, header.ReceivedAt);
        writer.WriteString(TokenField, header.Token);
        writer.WriteString(SigningKeyIdField, header.SigningKeyId);
        writer.WriteString(BodySha256Field, header.BodySha256);
        writer.WriteString(EventTypeField, header.EventType);
        writer.WriteString(EventIdField, header.EventId);
        if (header.Tenant is { } tenant)
        {
            writer.WriteString(TenantField, tenant);
        }

        if (payloadBlob is null)
        {
            writer.WritePropertyName(EventDataField);
            writer.WriteRawValue(eventDataJson, skipInputValidation: true);
        }
        else
        {
            writer.WriteString(PayloadBlobField, payloadBlob);
        }

        writer.WriteEndObject();
        writer.Flush();
    }

    public static EventEnvelope Deserialize(string text)
    {
        EventEnvelope? envelope;
        try
        {
            envelope = JsonConvert.DeserializeObject<EventEnvelope>(text, Settings);
        }
        catch (Newtonsoft.Json.JsonException ex)
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

        if (envelope.Tenant is not null && !Tenants.TenantId.IsValid(envelope.Tenant))
        {
            throw new EnvelopeFormatException($"envelope names an invalid tenant: {Tenants.TenantId.Problem(envelope.Tenant)}");
        }

        if (envelope.EventData is null && string.IsNullOrEmpty(envelope.PayloadBlob))
        {
            throw new EnvelopeFormatException("envelope has neither eventData nor payloadBlob");
        }

        return envelope;
    }
}

/// <summary>The envelope's fields other than the event itself.</summary>
public sealed record EnvelopeHeader(DateTimeOffset ReceivedAt, string Token, string SigningKeyId, string BodySha256, string EventType, string EventId)
{
    /// <summary>The signature's timestamp, which picks the token store's table (not written to the envelope).</summary>
    public DateTimeOffset SignedAt { get; init; }

    /// <summary>The tenant whose URL received the event.</summary>
    public string? Tenant { get; init; }
}
