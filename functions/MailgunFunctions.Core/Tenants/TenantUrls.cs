namespace MailgunFunctions.Tenants;

/// <summary>
/// The URLs Mailgun posts a tenant's events and replies to: <c>{app}/api/mailgun/{tenant}/events</c> and
/// <c>{app}/api/mailgun/{tenant}/inbound</c> (the routes of EventsWebhook and InboundWebhook under the host's default
/// <c>api</c> prefix). Mailgun cannot send headers, so the function key travels as <c>?code=</c>: show these URLs only
/// through <see cref="UrlMask"/>.
/// </summary>
public static class TenantUrls
{
    /// <summary>
    /// The app's base URL (<c>https://app.azurewebsites.net</c>, optionally with a path in front of <c>/api</c>), or
    /// null with the reason in <paramref name="problem"/>. A query is refused: the function key would be stored with it.
    /// </summary>
    public static Uri? ParseAppUrl(string? text, out string? problem)
    {
        problem = null;
        if (!Uri.TryCreate(text?.Trim(), UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            problem = $"the app URL must be an absolute http(s) URL like https://app.azurewebsites.net (got '{UrlMask.Mask(text)}')";
            return null;
        }

        if (url.Query.Length > 0 || url.Fragment.Length > 0 || url.UserInfo.Length > 0)
        {
            problem = "the app URL must not carry a query, fragment or user name: the function key is given separately (--function-key-file), never stored";
            return null;
        }

        string path = url.AbsolutePath.TrimEnd('/');
        if (path.EndsWith("/api", StringComparison.OrdinalIgnoreCase))
        {
            // "https://app.azurewebsites.net/api" names the same app: the /api prefix is added below.
            path = path[..^4];
        }

        return new Uri(url.GetLeftPart(UriPartial.Authority) + path + "/");
    }

    /// <summary>The tenant's events webhook URL, without the function key.</summary>
    public static Uri Events(Uri app, string tenant) => Endpoint(app, tenant, "events");

    /// <summary>The tenant's inbound (reply route) URL, without the function key.</summary>
    public static Uri Inbound(Uri app, string tenant) => Endpoint(app, tenant, "inbound");

    /// <summary><paramref name="url"/> with the function key as <c>?code=</c> (Mailgun cannot send headers); unchanged without a key.</summary>
    public static Uri WithFunctionKey(Uri url, string? functionKey)
    {
        ArgumentNullException.ThrowIfNull(url);
        return functionKey is { Length: > 0 } key ? new Uri(url.GetLeftPart(UriPartial.Path) + "?code=" + Uri.EscapeDataString(key.Trim())) : url;
    }

    private static Uri Endpoint(Uri app, string tenant, string name)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!TenantId.IsValid(tenant))
        {
            throw new ArgumentException(TenantId.Problem(tenant), nameof(tenant));
        }

        string root = app.GetLeftPart(UriPartial.Path).TrimEnd('/');
        return new Uri($"{root}/api/mailgun/{tenant}/{name}");
    }
}
