using MailgunFunctions.Inbound;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace MailgunFunctions.App;

/// <summary>Replies forwarded by a Mailgun Route (<c>forward("https://…/api/mailgun/inbound?code=…")</c>).</summary>
public sealed class InboundWebhook(InboundWebhookIntake intake)
{
    /// <remarks>
    /// One tenant's reply route (<c>POST /api/mailgun/{tenant}/inbound</c>): only that tenant's signing keys verify it.
    /// Function-level key in the route's URL (Mailgun cannot send headers); Mailgun's signature is the real authentication.
    /// </remarks>
    [Function("MailgunTenantInbound")]
    public Task<IActionResult> RunForTenantAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "mailgun/{tenant}/inbound")] HttpRequest request, string tenant,
        CancellationToken cancellationToken) =>
        AcceptAsync(tenant, request, cancellationToken);

    /// <remarks>The single-account route URL (<c>POST /api/mailgun/inbound</c>): the tenant made from the settings.</remarks>
    [Function("MailgunInbound")]
    public Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "mailgun/inbound")] HttpRequest request,
        CancellationToken cancellationToken) =>
        AcceptAsync(null, request, cancellationToken);

    private async Task<IActionResult> AcceptAsync(string? tenant, HttpRequest request, CancellationToken cancellationToken)
    {
        // Kestrel stops bodies at about 30 MB by itself; the intake enforces our own limit (Inbound__MaxRequestBytes) and answers 413.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = intake.MaxRequestBytes + 1;
        }

        var result = await intake.AcceptAsync(tenant, request.Body, request.ContentLength, request.ContentType, cancellationToken);
        return WebhookResponse.From(result);
    }
}
