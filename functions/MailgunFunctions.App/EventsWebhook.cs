using MailgunFunctions.Ingestion;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace MailgunFunctions.App;

/// <summary>Mailgun's event webhooks (delivered, failed, complained, unsubscribed, opened, clicked...).</summary>
public sealed class EventsWebhook(EventWebhookIntake intake)
{
    /// <remarks>
    /// One tenant's URL (<c>POST /api/mailgun/{tenant}/events</c>): only that tenant's signing keys verify it. Function-level
    /// key (<c>?code=</c> in the URL registered with Mailgun, which cannot send headers); Mailgun's signature is the real
    /// authentication.
    /// </remarks>
    [Function("MailgunTenantEvents")]
    public async Task<IActionResult> RunForTenantAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "mailgun/{tenant}/events")] HttpRequest request, string tenant,
        CancellationToken cancellationToken) =>
        WebhookResponse.From(await intake.AcceptAsync(tenant, request.Body, request.ContentLength, request.ContentType, cancellationToken));

    /// <remarks>The single-account URL (<c>POST /api/mailgun/events</c>): the tenant made from the settings.</remarks>
    [Function("MailgunEvents")]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "mailgun/events")] HttpRequest request,
        CancellationToken cancellationToken) =>
        WebhookResponse.From(await intake.AcceptAsync(null, request.Body, request.ContentLength, request.ContentType, cancellationToken));
}
