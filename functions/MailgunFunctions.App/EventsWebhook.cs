using MailgunFunctions.Ingestion;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace MailgunFunctions.App;

/// <summary>Mailgun's event webhooks (delivered, failed, complained, unsubscribed, opened, clicked...).</summary>
public sealed class EventsWebhook(EventWebhookIntake intake)
{
    /// <remarks>
    /// Function-level key (<c>?code=</c> in the URL registered with Mailgun, which cannot send headers);
    /// Mailgun's signature is the real authentication.
    /// </remarks>
    [Function("MailgunEvents")]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "mailgun/events")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var result = await intake.AcceptAsync(request.Body, request.ContentLength, request.ContentType, cancellationToken);
        return WebhookResponse.From(result);
    }
}
