using System.Globalization;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Events;

/// <summary>Thrown when an <c>event-data</c> object lacks what every Mailgun event has; such input can never be processed.</summary>
public sealed class EventFormatException(string reason) : Exception(reason)
{
    /// <summary>Short machine-readable reason, e.g. "event_missing".</summary>
    public string Reason { get; } = reason;
}

/// <summary>
/// Reads <c>event-data</c> leniently: unknown fields are ignored, optional ones may be missing or of an
/// unexpected JSON type (numbers as strings and the reverse), and only <c>event</c>, <c>timestamp</c>
/// and <c>id</c> are required.
/// </summary>
public static class MailgunEventParser
{
    public static MailgunEvent Parse(JObject data)
    {
        ArgumentNullException.ThrowIfNull(data);
        string? eventType = IdentityText(data["event"]);
        string? id = IdentityText(data["id"]);
        double? timestamp = Number(data["timestamp"]);
        if (RequiredFieldsProblem(eventType, id, timestamp) is { } problem)
        {
            throw new EventFormatException(problem);
        }

        if (string.IsNullOrEmpty(id))
        {
            // Mailgun documents an id on every event, yet trimmed and older producers omit it: derive a stable one from the
            // event itself, so a redelivery of the same event is still the same change and nothing is lost for want of it.
            id = "sha256-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes(data.ToString(Newtonsoft.Json.Formatting.None))))[..22];
        }

        double seconds = timestamp!.Value;

        var headers = Child(Child(data, "message"), "headers");
        var status = data["delivery-status"] as JObject;
        var flags = data["flags"] as JObject;
        string? recipient = Text(data["recipient"]);
        if (string.IsNullOrWhiteSpace(recipient))
        {
            // Rejected events may carry no recipient: fall back to the To header.
            recipient = Text(headers?["to"]);
        }

        return new MailgunEvent
        {
            EventType = eventType!.ToLowerInvariant(),
            Id = id!,
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000d)),
            Recipient = recipient,
            RecipientDomain = Text(data["recipient-domain"]),
            Severity = Text(data["severity"])?.ToLowerInvariant(),
            Reason = Text(data["reason"])?.ToLowerInvariant(),
            LogLevel = Text(data["log-level"]),
            DeliveryStatus = status is null ? null : ParseStatus(status),
            RejectReason = Text(Child(data, "reject")?["reason"]),
            RejectDescription = Text(Child(data, "reject")?["description"]),
            MessageId = TrimAngles(Text(headers?["message-id"])),
            Subject = Text(headers?["subject"]),
            From = Text(headers?["from"]),
            SendingDomain = SendingDomainOf(data),
            AccountId = Text(Child(data, "account")?["id"]),
            IsDelayedBounce = Bool(flags?["is-delayed-bounce"]),
            IsTestMode = Bool(flags?["is-test-mode"]),
            Tags = data["tags"] is JArray tags ? tags.Select(Text).OfType<string>().ToArray() : [],
            UserVariables = UserVariablesOf(data["user-variables"]),
        };
    }

    /// <summary>Mailgun's event names have at most 20 characters; anything longer is no event type.</summary>
    public const int MaxEventTypeLength = 64;

    /// <summary>Mailgun's event ids have 22 characters; an id is stored with every change, so a longer one is refused, not cut.</summary>
    public const int MaxIdLength = 256;

    /// <summary>
    /// The one rule for what an event needs to be processed: a non-empty <c>event</c> and a <c>timestamp</c> in seconds
    /// between 1970 and 9999 (it orders the event against others). Returns the machine-readable problem, or null. Used by
    /// this parser and by the webhook's single-pass reader, so both reject exactly the same events. A missing <c>id</c>
    /// is derived (see <see cref="Parse"/>); an event type or id longer than any of Mailgun's is refused, not cut.
    /// </summary>
    public static string? RequiredFieldsProblem(string? eventType, string? id, double? timestamp) =>
        string.IsNullOrEmpty(eventType) ? "event_missing"
        : eventType.Length > MaxEventTypeLength ? "event_too_long"
        : id?.Length > MaxIdLength ? "id_too_long"
        : timestamp is not { } t ? "timestamp_missing"
        : double.IsNaN(t) || t < 0 || t > 253402300799d ? "timestamp_out_of_range"
        : null;

    private static DeliveryStatus ParseStatus(JObject s) => new()
    {
        Code = Integer(s["code"]),
        Message = Text(s["message"]),
        Description = Text(s["description"]),
        EnhancedCode = Text(s["enhanced-code"]),
        BounceCode = Text(s["bounce-code"]),
        BounceType = Text(s["bounce-type"])?.ToLowerInvariant(),
        LastCode = Integer(s["last-code"]),
        LastMessage = Text(s["last-message"]),
        AttemptNo = Integer(s["attempt-no"]),
        MxHost = Text(s["mx-host"]),
    };

    /// <summary>
    /// <c>user-variables</c> as Mailgun sends it: usually an object, but real payloads also carry <c>[]</c> (none), or the
    /// object as a JSON string. Only scalar values are kept (as text).
    /// </summary>
    internal static Dictionary<string, string> UserVariablesOf(JToken? token)
    {
        if (token is { Type: JTokenType.String } && ((string?)token)?.TrimStart() is { Length: > 0 } text && text[0] == '{')
        {
            try
            {
                token = JToken.Parse(text, new JsonLoadSettings { DuplicatePropertyNameHandling = DuplicatePropertyNameHandling.Replace });
            }
            catch (Newtonsoft.Json.JsonException)
            {
                return new Dictionary<string, string>();
            }
        }

        return token is JObject vars
            ? vars.Properties().Where(p => Text(p.Value) is not null).ToDictionary(p => p.Name, p => Text(p.Value)!, StringComparer.Ordinal)
            : new Dictionary<string, string>();
    }

    /// <summary>
    /// The sending domain from, in order, <c>domain.name</c> (current payloads), the envelope sender, the envelope
    /// mail-from, the storage URL (<c>.../domains/{domain}/messages/...</c>): no single one of them is always present.
    /// </summary>
    internal static string? SendingDomainOf(JObject data)
    {
        if (Text(Child(data, "domain")?["name"]) is { } named && named.Trim().Length > 0)
        {
            return named.Trim().ToLowerInvariant();
        }

        var envelope = data["envelope"] as JObject;
        foreach (var candidate in new[] { Text(envelope?["sender"]), Text(envelope?["mail-from"]) })
        {
            if (DomainOfAddress(candidate) is { } domain)
            {
                return domain;
            }
        }

        if (Text(Child(data, "storage")?["url"]) is { } url)
        {
            const string marker = "/domains/";
            int at = url.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
            if (at >= 0)
            {
                int start = at + marker.Length;
                int end = url.IndexOf('/', start);
                string domain = end < 0 ? url[start..] : url[start..end];
                if (domain.Length > 0)
                {
                    return domain.ToLowerInvariant();
                }
            }
        }

        return null;
    }

    internal static string? DomainOfAddress(string? address)
    {
        if (string.IsNullOrWhiteSpace(address))
        {
            return null;
        }

        string a = address.Trim().Trim('<', '>');
        int at = a.LastIndexOf('@');
        return at >= 0 && at < a.Length - 1 ? a[(at + 1)..].ToLowerInvariant() : null;
    }

    /// <summary>A nested object, or null when the field is missing or of another JSON type (never an exception).</summary>
    internal static JObject? Child(JObject? parent, string name) => parent?[name] as JObject;

    private static string? TrimAngles(string? s) => s?.Trim().Trim('<', '>');

    /// <summary>
    /// <c>event</c> and <c>id</c>: a string, or an integer (as its digits); anything else counts as missing. Mailgun sends
    /// strings; integers are kept for lenient producers. Floats are not: "1e400" would be its text in one reader and
    /// "Infinity" in another, and the webhook's single pass must read exactly what this parser reads.
    /// </summary>
    internal static string? IdentityText(JToken? t) => t?.Type switch
    {
        JTokenType.String => (string?)t,
        JTokenType.Integer => Convert.ToString(((JValue)t).Value, CultureInfo.InvariantCulture),
        _ => null,
    };

    internal static string? Text(JToken? t) => t?.Type switch
    {
        JTokenType.String => (string?)t,
        JTokenType.Integer or JTokenType.Float or JTokenType.Boolean => Convert.ToString(((JValue)t).Value, CultureInfo.InvariantCulture),
        _ => null,
    };

    internal static double? Number(JToken? t) => t?.Type switch
    {
        // Integers too large for a long arrive as BigInteger, which Convert.ToDouble does not take.
        JTokenType.Integer when ((JValue)t).Value is System.Numerics.BigInteger big => (double)big,
        JTokenType.Integer or JTokenType.Float => Convert.ToDouble(((JValue)t).Value, CultureInfo.InvariantCulture),
        JTokenType.String when double.TryParse((string?)t, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
        _ => null,
    };

    internal static int? Integer(JToken? t) => Number(t) is double d && d >= int.MinValue && d <= int.MaxValue && d == Math.Floor(d) ? (int)d : null;

    private static bool Bool(JToken? t) => t?.Type switch
    {
        JTokenType.Boolean => (bool)t,
        JTokenType.String => string.Equals((string?)t, "true", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };
}
