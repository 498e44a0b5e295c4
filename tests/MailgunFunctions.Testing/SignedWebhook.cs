using System.Globalization;
using MailgunFunctions.Signatures;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Testing;

/// <summary>Builds Mailgun event webhook bodies signed the way Mailgun signs them.</summary>
public static class SignedWebhook
{
    /// <summary>A JSON webhook body: <paramref name="eventData"/> under "event-data", signed with <paramref name="key"/>.</summary>
    public static string Body(JObject eventData, DateTimeOffset signedAt, string? token = null, string key = TestSettings.SigningKey)
    {
        string timestamp = signedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        token ??= NewToken();
        var body = new JObject
        {
            ["signature"] = new JObject
            {
                ["timestamp"] = timestamp,
                ["token"] = token,
                ["signature"] = SignatureVerifier.Sign(key, timestamp, token),
            },
            ["event-data"] = eventData,
        };
        return body.ToString(Formatting.None);
    }

    /// <summary>50 lowercase hex characters, the shape of Mailgun's tokens.</summary>
    public static string NewToken() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..18];

    /// <summary>A permanent failure as Mailgun sends it (shape of the "Failed (Permanent)" sample).</summary>
    public static JObject Failed(string recipient, DateTimeOffset at, int code = 550, string message = "5.1.1 The email account that you tried to reach does not exist.",
        string severity = "permanent", string reason = "bounce", string? id = null, string domain = "mg.example.com") => new()
    {
        ["event"] = "failed",
        ["id"] = id ?? Guid.NewGuid().ToString("N")[..22],
        ["timestamp"] = at.ToUnixTimeMilliseconds() / 1000d,
        ["log-level"] = severity == "permanent" ? "error" : "warn",
        ["severity"] = severity,
        ["reason"] = reason,
        ["recipient"] = recipient,
        ["recipient-domain"] = recipient[(recipient.LastIndexOf('@') + 1)..],
        ["envelope"] = new JObject { ["sender"] = $"bounce@{domain}", ["transport"] = "smtp", ["targets"] = recipient },
        ["delivery-status"] = new JObject
        {
            ["attempt-no"] = 1,
            ["code"] = code,
            ["message"] = message,
            ["description"] = "",
            ["session-seconds"] = 0.5,
            ["mx-host"] = "mx.example.net",
        },
        ["message"] = new JObject
        {
            ["headers"] = new JObject
            {
                ["to"] = recipient,
                ["message-id"] = $"{Guid.NewGuid():N}@{domain}",
                ["from"] = $"news@{domain}",
                ["subject"] = "Our news",
            },
        },
        ["flags"] = new JObject { ["is-authenticated"] = true, ["is-test-mode"] = false },
        ["tags"] = new JArray("newsletter"),
        ["user-variables"] = new JObject { ["contactId"] = "c-123" },
    };

    /// <summary>A simple event of another type (delivered, opened, complained, unsubscribed...).</summary>
    public static JObject Simple(string eventType, string recipient, DateTimeOffset at, string? id = null, string domain = "mg.example.com") => new()
    {
        ["event"] = eventType,
        ["id"] = id ?? Guid.NewGuid().ToString("N")[..22],
        ["timestamp"] = at.ToUnixTimeMilliseconds() / 1000d,
        ["recipient"] = recipient,
        ["envelope"] = new JObject { ["sender"] = $"bounce@{domain}" },
        ["message"] = new JObject { ["headers"] = new JObject { ["message-id"] = $"{Guid.NewGuid():N}@{domain}" } },
        ["user-variables"] = new JObject { ["contactId"] = "c-123" },
    };
}
