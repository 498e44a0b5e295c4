using MailgunFunctions.Ingestion;
using MailgunFunctions.Webhooks;
using Microsoft.AspNetCore.Mvc;
using Newtonsoft.Json;

namespace MailgunFunctions.App;

/// <summary>Maps an intake outcome to the HTTP answer: the status Mailgun acts on and a small JSON body for people.</summary>
public static class WebhookResponse
{
    public static IActionResult From(IntakeResult result) => new ContentResult
    {
        StatusCode = result.StatusCode,
        ContentType = "application/json; charset=utf-8",
        Content = JsonConvert.SerializeObject(new { outcome = result.Reason, detail = result.Detail }),
    };
}
