using Microsoft.Extensions.Options;

namespace MailgunFunctions.PlatformUnsubscribe;

/// <summary>An unsubscribe link and the RFC 8058 headers that go with it.</summary>
public sealed record UnsubscribeLink(Uri Url, string ListUnsubscribe, string ListUnsubscribePost);

/// <summary>
/// The call the sending side makes for every email: the platform's own unsubscribe URL for (tenant, address,
/// contact, campaign) and the <c>List-Unsubscribe</c> / <c>List-Unsubscribe-Post: List-Unsubscribe=One-Click</c>
/// headers Gmail and Yahoo require of bulk senders (RFC 8058). Mailgun's own unsubscribe link is added beside it.
/// </summary>
public sealed class UnsubscribeLinks(UnsubscribeTokenCodec codec, IOptions<UnsubscribeOptions> options, TimeProvider time)
{
    public const string OneClickBody = "List-Unsubscribe=One-Click";

    public UnsubscribeLink Create(string tenant, string address, string? contactId = null, string? campaign = null)
    {
        if (Tenants.TenantId.Parse(tenant) is not { } tenantId)
        {
            throw new ArgumentException(Tenants.TenantId.Problem(tenant), nameof(tenant));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        string baseUrl = string.IsNullOrWhiteSpace(options.Value.BaseUrl) ? throw new InvalidOperationException($"'{UnsubscribeOptions.Section}__BaseUrl' is not set: links need the public URL of the unsubscribe function.")
            : options.Value.BaseUrl.TrimEnd('/');
        string token = codec.Create(new UnsubscribeRequest(tenantId, address.Trim(), contactId, campaign, time.GetUtcNow()));
        var url = new Uri($"{baseUrl}/{token}");
        string header = options.Value.MailtoAddress is { Length: > 0 } mailto
            ? $"<{url.AbsoluteUri}>, <mailto:{mailto}?subject=unsubscribe>"
            : $"<{url.AbsoluteUri}>";
        return new UnsubscribeLink(url, header, OneClickBody);
    }
}
