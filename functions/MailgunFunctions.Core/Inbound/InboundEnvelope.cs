using Newtonsoft.Json;

namespace MailgunFunctions.Inbound;

/// <summary>
/// What the inbound webhook puts on the <c>mailgun-inbound</c> queue: a pointer to the raw payload in blob
/// storage (mails are up to 25 MB; a queue message holds 64 KiB) and how the post was received.
/// </summary>
public sealed class InboundEnvelope
{
    public const int CurrentVersion = 1;

    [JsonProperty("v")]
    public int Version { get; set; } = CurrentVersion;

    [JsonProperty("receivedAt")]
    public DateTimeOffset ReceivedAt { get; set; }

    /// <summary>Mailgun's signature timestamp: the same on every retry of one post, so it orders replies deterministically.</summary>
    [JsonProperty("signedAt")]
    public DateTimeOffset SignedAt { get; set; }

    [JsonProperty("token")]
    public string Token { get; set; } = "";

    [JsonProperty("signingKeyId")]
    public string SigningKeyId { get; set; } = "";

    /// <summary>Lowercase hex SHA-256 of the request body: the identity of the reply (idempotency key).</summary>
    [JsonProperty("bodySha256")]
    public string BodySha256 { get; set; } = "";

    /// <summary>The request's Content-Type, boundary included: needed to parse the payload again.</summary>
    [JsonProperty("contentType")]
    public string ContentType { get; set; } = "";

    [JsonProperty("payloadBlob")]
    public string PayloadBlob { get; set; } = "";

    [JsonProperty("recipient")]
    public string Recipient { get; set; } = "";

    /// <summary>The tenant whose URL and key received the reply; absent in envelopes queued before tenants existed (the recipient's domain then names it).</summary>
    [JsonProperty("tenant", NullValueHandling = NullValueHandling.Ignore)]
    public string? Tenant { get; set; }

    public static string Serialize(InboundEnvelope envelope) => JsonConvert.SerializeObject(envelope, Formatting.None, Settings);

    /// <summary>Throws <see cref="InboundFormatException"/> for text that is not an envelope this code can read.</summary>
    public static InboundEnvelope Deserialize(string text)
    {
        InboundEnvelope? envelope;
        try
        {
            envelope = JsonConvert.DeserializeObject<InboundEnvelope>(text, Settings);
        }
        catch (JsonException ex)
        {
            throw new InboundFormatException("envelope_unreadable", $"not an inbound envelope: {ex.Message}", ex);
        }

        if (envelope is null)
        {
            throw new InboundFormatException("envelope_unreadable", "not an inbound envelope: empty message");
        }

        if (envelope.Version != CurrentVersion)
        {
            throw new InboundFormatException("envelope_version", $"unknown envelope version {envelope.Version}");
        }

        if (string.IsNullOrEmpty(envelope.PayloadBlob) || envelope.BodySha256.Length != 64 || string.IsNullOrEmpty(envelope.Recipient))
        {
            throw new InboundFormatException("envelope_incomplete", "the envelope lacks payloadBlob, bodySha256 or recipient");
        }

        // A queue message is input too: the payload must be one the webhook stores, never a blob path of its own choosing.
        if (envelope.PayloadBlob != InboundQueue.PayloadBlobName(envelope.SignedAt, envelope.BodySha256) || !envelope.BodySha256.All(char.IsAsciiHexDigitLower))
        {
            throw new InboundFormatException("envelope_incomplete", "payloadBlob is not the name the webhook gives (yyyy/MM/dd/<bodySha256> of the signature time)");
        }

        return envelope;
    }

    private static readonly JsonSerializerSettings Settings = new()
    {
        DateParseHandling = DateParseHandling.None,
        MaxDepth = 16,
        MissingMemberHandling = MissingMemberHandling.Ignore,
    };
}

/// <summary>An inbound message that can never be processed: it goes to <c>mailgun-inbound-poison</c> at once with <see cref="Reason"/>.</summary>
public sealed class InboundFormatException(string reason, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>Short machine-readable reason, e.g. "payload_missing".</summary>
    public string Reason { get; } = reason;
}
