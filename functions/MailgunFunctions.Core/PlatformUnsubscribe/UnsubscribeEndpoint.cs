using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MailgunFunctions.PlatformUnsubscribe;

/// <summary>
/// What the unsubscribe functions answer, without the Functions host: GET shows a page and never changes anything
/// (link scanners only GET), in the browser's language with the tenant's brand; POST with RFC 8058's <c>List-Unsubscribe=One-Click</c> (mailbox providers) or the page's
/// button unsubscribes; POST .../undo resubscribes. Bad tokens get a friendly page, storage failures a 503 page.
/// </summary>
public sealed partial class UnsubscribeEndpoint(UnsubscribeTokenCodec codec, PlatformUnsubscribeService home, TenantShards shards, ILogger<UnsubscribeEndpoint> logger)
{
    /// <summary>The service of the shard holding the link's tenant (which the link names, or a legacy link's domain points to).</summary>
    /// A change (<paramref name="change"/>) for a tenant being moved between shards is refused (the 503 page): it would be lost at the switch.
    private async Task<PlatformUnsubscribeService> ServiceForAsync(UnsubscribeRequest request, CancellationToken cancellationToken, bool change = false)
    {
        if (shards.Count == 1)
        {
            return home;
        }

        string? tenant = await home.TenantOfAsync(request, cancellationToken).ConfigureAwait(false);
        var services = change ? await shards.ForTenantChangeAsync(tenant, cancellationToken).ConfigureAwait(false)
            : await shards.ForTenantAsync(tenant, cancellationToken).ConfigureAwait(false);
        return services.GetRequiredService<PlatformUnsubscribeService>();
    }

    /// <summary>The one-click body is 26 bytes and the page's form a few more: anything larger is not ours.</summary>
    public const int MaxFormBytes = 4096;

    /// <summary>
    /// The page for a GET: the question, or (reopened after unsubscribing) that it is done, with the undo. Reads only;
    /// <paramref name="acceptLanguage"/> picks the language.
    /// </summary>
    public async Task<HtmlPage> ShowAsync(string? token, string linkPath, string? acceptLanguage, CancellationToken cancellationToken)
    {
        var texts = UnsubscribeTexts.For(acceptLanguage);
        if (Read(token, texts, out var request) is { } invalid)
        {
            return invalid;
        }

        try
        {
            var service = await ServiceForAsync(request!, cancellationToken).ConfigureAwait(false);
            var brand = await service.BrandAsync(request!, cancellationToken).ConfigureAwait(false);
            return await service.IsUnsubscribedAsync(request!, cancellationToken).ConfigureAwait(false)
                ? UnsubscribePages.AlreadyUnsubscribed(texts, request!, brand, linkPath)
                : UnsubscribePages.Confirm(texts, request!, brand, linkPath);
        }
        catch (Exception ex) when (StorageFailure.Is(ex, cancellationToken) || ex is ShardNotConfiguredException or TenantMovingException)
        {
            StorageFailed(logger, ex);
            return UnsubscribePages.Unavailable(texts);
        }
    }

    /// <summary>Returns the page to show, or for a one-click POST a plain 200 (<see cref="HtmlPage.Html"/> empty).</summary>
    public async Task<HtmlPage> PostAsync(string? token, string? formBody, string linkPath, string? acceptLanguage, CancellationToken cancellationToken)
    {
        var texts = UnsubscribeTexts.For(acceptLanguage);
        if (Read(token, texts, out var request) is { } invalid)
        {
            return invalid;
        }

        var form = QueryHelpers.ParseQuery(formBody ?? "");
        bool oneClick = form.TryGetValue("List-Unsubscribe", out var value) && value.ToString() == "One-Click";
        bool button = form.TryGetValue("action", out var action) && action.ToString() == "unsubscribe";
        if (!oneClick && !button)
        {
            return UnsubscribePages.BadRequest(texts);
        }

        try
        {
            // The brand is read before the change, so a registry that cannot be read answers 503 with nothing changed.
            var service = await ServiceForAsync(request!, cancellationToken, change: true).ConfigureAwait(false);
            var brand = oneClick ? null : await service.BrandAsync(request!, cancellationToken).ConfigureAwait(false);
            var outcome = await service.UnsubscribeAsync(request!, token!, cancellationToken).ConfigureAwait(false);
            Unsubscribed(logger, request!.Tenant, oneClick ? "one-click" : "page", outcome);
            return oneClick ? new HtmlPage(200, "") : UnsubscribePages.Done(texts, request, brand!, linkPath);
        }
        catch (Exception ex) when (StorageFailure.Is(ex, cancellationToken) || ex is ShardNotConfiguredException or TenantMovingException)
        {
            StorageFailed(logger, ex);
            return UnsubscribePages.Unavailable(texts);
        }
    }

    public async Task<HtmlPage> UndoAsync(string? token, string linkPath, string? acceptLanguage, CancellationToken cancellationToken)
    {
        var texts = UnsubscribeTexts.For(acceptLanguage);
        if (Read(token, texts, out var request) is { } invalid)
        {
            return invalid;
        }

        try
        {
            var service = await ServiceForAsync(request!, cancellationToken, change: true).ConfigureAwait(false);
            var brand = await service.BrandAsync(request!, cancellationToken).ConfigureAwait(false);
            var outcome = await service.UndoAsync(request!, token!, cancellationToken).ConfigureAwait(false);
            Resubscribe(logger, request!.Tenant, outcome);
            return outcome == LinkOutcome.StillBlocked ? UnsubscribePages.StillBlocked(texts, request, brand) : UnsubscribePages.Resubscribed(texts, request, brand, linkPath);
        }
        catch (Exception ex) when (StorageFailure.Is(ex, cancellationToken) || ex is ShardNotConfiguredException or TenantMovingException)
        {
            StorageFailed(logger, ex);
            return UnsubscribePages.Unavailable(texts);
        }
    }

    private HtmlPage? Read(string? token, UnsubscribeTexts texts, out UnsubscribeRequest? request)
    {
        var problem = codec.TryRead(token, out request);
        if (problem == TokenProblem.None)
        {
            return null;
        }

        BadToken(logger, problem);
        return problem == TokenProblem.UnknownKey ? UnsubscribePages.Expired(texts) : UnsubscribePages.Invalid(texts);
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
