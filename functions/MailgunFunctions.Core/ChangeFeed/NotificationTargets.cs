using System.Net;
using MailgunFunctions.Tenants;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.ChangeFeed;

/// <summary>Where one tenant's changes are posted, and the secret that signs them.</summary>
public sealed record NotificationTarget(string Tenant, Uri Url, string? Secret);

/// <summary>
/// The platform endpoint of each tenant: the registry's <c>NotificationUrl</c> and sealed <c>NotificationSecret</c>, or, for
/// the single-account tenant, <see cref="NotificationOptions.DefaultUrl"/> and <see cref="NotificationOptions.DefaultSecret"/>.
/// Read through <see cref="TenantDirectory"/> (cached), so a changed URL or secret reaches every instance within
/// Tenants:CacheLifetime. A tenant without a URL is notified through the dnd-changes queue only.
/// </summary>
public sealed class NotificationTargets(TenantDirectory tenants, IOptions<NotificationOptions> options)
{
    private readonly NotificationOptions _options = options.Value;

    /// <summary>The tenant's endpoint, or null when it has none. Throws when the registry cannot be read (the caller retries).</summary>
    public async ValueTask<NotificationTarget?> FindAsync(string tenant, CancellationToken cancellationToken)
    {
        var resolved = await tenants.FindAsync(tenant, cancellationToken).ConfigureAwait(false);
        if (resolved is null)
        {
            return null;
        }

        if (resolved.Tenant.IsImplicit)
        {
            return string.IsNullOrWhiteSpace(_options.DefaultUrl) ? null : new NotificationTarget(resolved.Id, new Uri(_options.DefaultUrl.Trim()), _options.DefaultSecret?.Trim());
        }

        return resolved.Tenant.Notifications is { Url: { } url } notifications ? new NotificationTarget(resolved.Id, url, notifications.Secret) : null;
    }

    /// <summary>Why a URL cannot receive notifications, or null: absolute HTTPS, or HTTP to a loopback address only.</summary>
    public static string? UrlProblem(string? url)
    {
        if (!Uri.TryCreate(url?.Trim(), UriKind.Absolute, out var uri))
        {
            return $"'{url}' is not an absolute URL";
        }

        return UrlProblem(uri);
    }

    public static string? UrlProblem(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (uri.Scheme == Uri.UriSchemeHttps)
        {
            return null;
        }

        // Plain HTTP would show the signed changes (personal data) on the network: only for a receiver on this machine.
        bool loopback = uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
        return uri.Scheme == Uri.UriSchemeHttp && loopback ? null : $"'{uri.GetLeftPart(UriPartial.Path)}' must be an https:// URL (plain http only to a loopback address)";
    }
}
