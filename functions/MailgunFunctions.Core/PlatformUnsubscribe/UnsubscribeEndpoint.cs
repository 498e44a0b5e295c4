using MailgunFunctions.Storage;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace MailgunFunctions.PlatformUnsubscribe;

/// <summary>
/// What the unsubscribe functions answer, without the Functions host: GET shows a page and never changes anything
/// (link scanners only GET); POST with RFC 8058's <c>List-Unsubscribe=One-Click</c> (mailbox providers) or the page's
/// button unsubscribes; POST .../undo resubscribes. Bad tokens get a friendly page, storage failures a 503 page.
/// </summary>
public sealed partial class UnsubscribeEndpoint(UnsubscribeTokenCodec codec, PlatformUnsubscribeService service, ILogger<UnsubscribeEndpoint> logger)
{
    /// <summary>The one-click body is 26 bytes and the page's form a few more: anything larger is not ours.</summary>
    public const int MaxFormBytes = 4096;

    public HtmlPage Show(string? token, string linkPath) =>
        Read(token, out var request) ?? UnsubscribePages.Confirm(request!, linkPath);

    /// <summary>Returns the page to show, or for a one-click POST a plain 200 (<see cref="HtmlPage.Html"/> empty).</summary>
    public async Task<HtmlPage> PostAsync(string? token, string? formBody, string linkPath, CancellationToken cancellationToken)
    {
        if (Read(token, out var request) is { } invalid)
        {
            return invalid;
        }

        var form = QueryHelpers.ParseQuery(formBody ?? "");
        bool oneClick = form.TryGetValue("List-Unsubscribe", out var value) && value.ToString() == "One-Click";
        bool button = form.TryGetValue("action", out var action) && action.ToString() == "unsubscribe";
        if (!oneClick && !button)
        {
            return UnsubscribePages.BadRequest();
        }

        try
        {
            var outcome = await service.UnsubscribeAsync(request!, token!, cancellationToken).ConfigureAwait(false);
            Unsubscribed(logger, request!.Tenant, oneClick ? "one-click" : "page", outcome);
        }
        catch (Exception ex) when (StorageFailure.Is(ex, cancellationToken))
        {
            StorageFailed(logger, ex);
            return UnsubscribePages.Unavailable();
        }

        return oneClick ? new HtmlPage(200, "") : UnsubscribePages.Done(request!, linkPath);
    }

    public async Task<HtmlPage> UndoAsync(string? token, string linkPath, CancellationToken cancellationToken)
    {
        if (Read(token, out var request) is { } invalid)
        {
            return invalid;
        }

        try
        {
            var outcome = await service.UndoAsync(request!, token!, cancellationToken).ConfigureAwait(false);
            Resubscribe(logger, request!.Tenant, outcome);
            return outcome == LinkOutcome.StillBlocked ? UnsubscribePages.StillBlocked(request) : UnsubscribePages.Resubscribed(request, linkPath);
        }
        catch (Exception ex) when (StorageFailure.Is(ex, cancellationToken))
        {
            StorageFailed(logger, ex);
            return UnsubscribePages.Unavailable();
        }
    }

    private HtmlPage? Read(string? token, out UnsubscribeRequest? request)
    {
        var problem = codec.TryRead(token, out request);
        if (problem == TokenProblem.None)
        {
            return null;
        }

        BadToken(logger, problem);
        return problem == TokenProblem.UnknownKey ? UnsubscribePages.Expired() : UnsubscribePages.Invalid();
    }

    [LoggerMessage(4001, LogLevel.Information, "Platform unsubscribe for tenant {Tenant} by {Channel}: {Outcome}")]
    private static partial void Unsubscribed(ILogger logger, string tenant, string channel, LinkOutcome outcome);

    [LoggerMessage(4002, LogLevel.Information, "Platform resubscribe (undo) for tenant {Tenant}: {Outcome}")]
    private static partial void Resubscribe(ILogger logger, string tenant, LinkOutcome outcome);

    [LoggerMessage(4003, LogLevel.Warning, "Unsubscribe link refused: {Problem}")]
    private static partial void BadToken(ILogger logger, TokenProblem problem);

    [LoggerMessage(4004, LogLevel.Error, "Unsubscribe could not be stored; answered 503")]
    private static partial void StorageFailed(ILogger logger, Exception exception);
}
