using System.Text;
using MailgunFunctions.PlatformUnsubscribe;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace MailgunFunctions.App;

/// <summary>
/// The platform's own unsubscribe link. Anonymous: people and mailbox providers call it without keys; the signed
/// token in the path is the authorisation.
/// </summary>
public sealed class UnsubscribeLinkFunctions(UnsubscribeEndpoint endpoint)
{
    [Function("UnsubscribePage")]
    public async Task<IActionResult> ShowAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "unsubscribe/{token}")] HttpRequest request, string token, CancellationToken cancellationToken) =>
        Answer(request, await endpoint.ShowAsync(token, LinkPath(request), AcceptLanguage(request), cancellationToken));

    [Function("Unsubscribe")]
    public async Task<IActionResult> PostAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "unsubscribe/{token}")] HttpRequest request, string token, CancellationToken cancellationToken) =>
        Answer(request, await endpoint.PostAsync(token, await ReadSmallBodyAsync(request, cancellationToken), LinkPath(request), AcceptLanguage(request), cancellationToken));

    [Function("Resubscribe")]
    public async Task<IActionResult> UndoAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "unsubscribe/{token}/undo")] HttpRequest request, string token, CancellationToken cancellationToken) =>
        Answer(request, await endpoint.UndoAsync(token, LinkPath(request), AcceptLanguage(request), cancellationToken));

    private static string? AcceptLanguage(HttpRequest request) => request.Headers.AcceptLanguage.ToString();

    /// <summary>The link's own path (without "/undo"), for the forms on the pages to post back to.</summary>
    private static string LinkPath(HttpRequest request)
    {
        string path = request.PathBase + request.Path;
        return path.EndsWith("/undo", StringComparison.Ordinal) ? path[..^"/undo".Length] : path;
    }

    /// <summary>Reads at most <see cref="UnsubscribeEndpoint.MaxFormBytes"/>; a larger body is treated as no form at all.</summary>
    private static async Task<string?> ReadSmallBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > UnsubscribeEndpoint.MaxFormBytes)
        {
            return null;
        }

        var buffer = new byte[UnsubscribeEndpoint.MaxFormBytes + 1];
        int length = 0, read;
        while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }

        return length > UnsubscribeEndpoint.MaxFormBytes ? null : Encoding.UTF8.GetString(buffer, 0, length);
    }

    private static IActionResult Answer(HttpRequest request, HtmlPage page)
    {
        foreach (var (name, value) in HtmlPage.SecurityHeaders)
        {
            request.HttpContext.Response.Headers[name] = value;
        }

        // The page's language follows Accept-Language: caches (none may keep it anyway: no-store) must not mix them.
        request.HttpContext.Response.Headers.Vary = "Accept-Language";

        return new ContentResult
        {
            StatusCode = page.StatusCode,
            ContentType = page.Html.Length == 0 ? "text/plain; charset=utf-8" : "text/html; charset=utf-8",
            Content = page.Html,
        };
    }
}
