using System.Text;
using MailgunFunctions.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Benchmarks;

/// <summary>A realistic ~2 KB signed `failed` webhook, as Mailgun sends it for a hard bounce.</summary>
public static class WebhookSamples
{
    public static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    public static byte[] FailedWebhook(string recipient = "joan.doe+news@example.com", DateTimeOffset? at = null, string? signingKey = null, string? domain = null)
    {
        DateTimeOffset time = at ?? Now;
        var data = SignedWebhook.Failed(recipient, time, 550,
            "5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to https://support.google.com/mail/?p=NoSuchUser");
        data["campaigns"] = new JArray();
        data["recipient-provider"] = "Gmail";
        data["storage"] = new JObject { ["url"] = "https://storage-us-east4.api.mailgun.net/v3/domains/mg.example.com/messages/AgEFvXf8q2hSampleKeyValue==", ["key"] = "AgEFvXf8q2hSampleKeyValue==", ["region"] = "us-east4" };
        data["envelope"]!["sending-ip"] = "198.51.100.24";
        data["envelope"]!["mail-from"] = "bounce+1a2b3c.joan.doe=example.com@mg.example.com";
        data["delivery-status"]!["enhanced-code"] = "5.1.1";
        data["delivery-status"]!["tls"] = true;
        data["delivery-status"]!["certificate-verified"] = true;
        data["delivery-status"]!["utf8"] = true;
        data["user-variables"] = new JObject { ["contactId"] = "c-7d1f0e2a-5b11-4a6e-9c1e-0a8a6f1b2c3d", ["tenantId"] = "t-42", ["campaignId"] = "spring-sale-2026", ["locale"] = "en-GB" };
        data["tags"] = new JArray("newsletter", "spring-sale", "segment-a");
        data["message"]!["size"] = 48213;
        data["message"]!["attachments"] = new JArray();
        if (domain is not null)
        {
            data["domain"] = new JObject { ["name"] = domain };
        }

        string body = signingKey is null ? SignedWebhook.Body(data, time) : SignedWebhook.Body(data, time, key: signingKey);
        return Encoding.UTF8.GetBytes(body);
    }
}
