using MailgunFunctions.Inbound;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace MailgunFunctions.App;

/// <summary>Replies forwarded by a Mailgun Route (<c>forward("https://…/api/mailgun/inbound?code=…")</c>).</summary>
public sealed class InboundWebhook(InboundWebhookIntake intake)
{
    /// <remarks>Function-level key in the route's URL (Mailgun cannot send headers); Mailgun's signature is the real authentication.</remarks>
    [Function("MailgunInbound")]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "mailgun/inbound")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        // Kestrel stops bodies at about 30 MB by itself; the intake enforces our own limit (Inbound__MaxRequestBytes) and answers 413.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = intake.MaxRequestBytes + 1;
        }

        var result = await intake.AcceptAsync(request.Body, request.ContentLength, request.ContentType, cancellationToken);
        return WebhookResponse.From(result);
    }
}
