using System.Net;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.MailgunApi;

/// <summary>Setting an account up: a domain's webhooks and DNS records, the account's routes and webhook signing key.</summary>
public sealed partial class MailgunApiClient
{
    /// <summary>
    /// The webhooks of a domain: Mailgun's subscription name (<c>permanent_fail</c>, <c>delivered</c>...) to its URLs.
    /// <c>GET /v3/domains/{domain}/webhooks</c> answers <c>{"webhooks": {"name": {"urls": [...]}}}</c>.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> GetWebhooksAsync(MailgunDomain domain, CancellationToken cancellationToken = default)
    {
        var target = Resolve(domain);
        var json = await GetJsonAsync(new Uri(target.BaseUrl, $"v3/domains/{target.Name}/webhooks"), target, cancellationToken).ConfigureAwait(false);
        var result = new SortedDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (json["webhooks"] is JObject hooks)
        {
            foreach (var (name, value) in hooks)
            {
                // Older answers carry a single "url" instead of the "urls" array.
                var urls = value?["urls"] is JArray array ? array.Select(u => (string?)u).OfType<string>().ToArray()
                    : value?["url"] is JValue single && (string?)single is { } one ? [one]
                    : [];
                result[name] = urls;
            }
        }

        return result;
    }

    /// <summary>Creates (<c>POST</c>) or replaces (<c>PUT</c>) the URLs (at most 3, Mailgun's limit) of one webhook subscription of a domain.</summary>
    public async Task SetWebhookAsync(MailgunDomain domain, string webhook, IReadOnlyList<string> urls, bool exists, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(urls);
        ArgumentOutOfRangeException.ThrowIfZero(urls.Count);
        var target = Resolve(domain);
        var form = urls.Select(u => new KeyValuePair<string, string>("url", u)).ToList();
        Uri endpoint;
        if (exists)
        {
            endpoint = new Uri(target.BaseUrl, $"v3/domains/{target.Name}/webhooks/{Uri.EscapeDataString(webhook)}");
        }
        else
        {
            endpoint = new Uri(target.BaseUrl, $"v3/domains/{target.Name}/webhooks");
            form.Insert(0, new("id", webhook));
        }

        using var response = await SendAsync(exists ? HttpMethod.Put : HttpMethod.Post, endpoint, target, allowNotFound: false, cancellationToken, new FormUrlEncodedContent(form)).ConfigureAwait(false);
    }

    /// <summary>
    /// Every route of the account in the domain's region (routes are per account and region, not per domain),
    /// paged by <c>skip</c>/<c>limit</c> until a short page.
    /// </summary>
    public async Task<IReadOnlyList<MailgunRoute>> ListRoutesAsync(MailgunAccount account, CancellationToken cancellationToken = default)
    {
        const int limit = 100;
        var target = Resolve(account);
        var routes = new List<MailgunRoute>();
        for (int skip = 0; ; skip += limit)
        {
            var json = await GetJsonAsync(new Uri(target.BaseUrl, $"v3/routes?limit={limit}&skip={skip}"), target, cancellationToken).ConfigureAwait(false);
            var items = json["items"] as JArray ?? [];
            routes.AddRange(items.OfType<JObject>().Select(MailgunRoute.FromJson));
            if (items.Count < limit)
            {
                return routes;
            }
        }
    }

    /// <summary>Creates a route (<c>POST /v3/routes</c>) or, with <paramref name="existingId"/>, replaces one (<c>PUT /v3/routes/{id}</c>).</summary>
    public async Task SetRouteAsync(MailgunAccount account, MailgunRoute route, string? existingId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(route);
        var target = Resolve(account);
        var form = new List<KeyValuePair<string, string>>
        {
            new("priority", route.Priority.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("description", route.Description),
            new("expression", route.Expression),
        };
        form.AddRange(route.Actions.Select(a => new KeyValuePair<string, string>("action", a)));
        var endpoint = existingId is null ? new Uri(target.BaseUrl, "v3/routes") : new Uri(target.BaseUrl, $"v3/routes/{Uri.EscapeDataString(existingId)}");
        using var response = await SendAsync(existingId is null ? HttpMethod.Post : HttpMethod.Put, endpoint, target, allowNotFound: false, cancellationToken, new FormUrlEncodedContent(form)).ConfigureAwait(false);
    }

    /// <summary>The DNS records Mailgun expects for a domain (<c>GET /v4/domains/{domain}</c>: sending and receiving records).</summary>
    public async Task<IReadOnlyList<MailgunDnsRecord>> GetDomainDnsRecordsAsync(MailgunDomain domain, CancellationToken cancellationToken = default) =>
        (await GetDomainAsync(domain, cancellationToken).ConfigureAwait(false)).Records;

    /// <summary>Mailgun's view of a domain (<c>GET /v4/domains/{domain}</c>): its verification state and the DNS records it expects.</summary>
    public async Task<MailgunDomainStatus> GetDomainAsync(MailgunDomain domain, CancellationToken cancellationToken = default)
    {
        var target = Resolve(domain);
        return DomainStatus(await GetJsonAsync(new Uri(target.BaseUrl, $"v4/domains/{target.Name}"), target, cancellationToken).ConfigureAwait(false), target);
    }

    /// <summary>
    /// Asks Mailgun to check the domain's DNS records again (<c>PUT /v4/domains/{domain}/verify</c>) and returns what it
    /// found: the same shape as <see cref="GetDomainAsync"/>.
    /// </summary>
    public async Task<MailgunDomainStatus> VerifyDomainAsync(MailgunDomain domain, CancellationToken cancellationToken = default)
    {
        var target = Resolve(domain);
        using var response = await SendAsync(HttpMethod.Put, new Uri(target.BaseUrl, $"v4/domains/{target.Name}/verify"), target, allowNotFound: false, cancellationToken).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return DomainStatus(JObject.Parse(text), target);
        }
        catch (JsonReaderException)
        {
            // Some answers carry only a message: read the domain back.
            return await GetDomainAsync(domain, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Which tracking a domain has on (<c>GET /v3/domains/{domain}/tracking</c>, answer
    /// <c>{"tracking":{"unsubscribe":{"active":true,...},"click":{...},"open":{...}}}</c>); a part not in the answer is off.
    /// </summary>
    public async Task<MailgunTracking> GetTrackingAsync(MailgunDomain domain, CancellationToken cancellationToken = default)
    {
        var target = Resolve(domain);
        var json = await GetJsonAsync(new Uri(target.BaseUrl, $"v3/domains/{target.Name}/tracking"), target, cancellationToken).ConfigureAwait(false);
        // "active" is a boolean in current answers, "yes"/"no" or "true"/"false" text in older ones.
        bool Active(string part) => json["tracking"]?[part]?["active"] is JValue value
            && (value.Type == JTokenType.Boolean ? (bool)value! : (string?)value is "true" or "yes" or "htmlonly");
        return new MailgunTracking(Active("unsubscribe"), Active("click"), Active("open"));
    }

    private static MailgunDomainStatus DomainStatus(JObject json, Target target)
    {
        var records = new List<MailgunDnsRecord>();
        foreach (var (field, purpose) in new[] { ("sending_dns_records", "sending"), ("receiving_dns_records", "receiving") })
        {
            foreach (var r in (json[field] as JArray ?? []).OfType<JObject>())
            {
                records.Add(new MailgunDnsRecord(purpose, (string?)r["record_type"] ?? "", (string?)r["name"] ?? target.Name, (string?)r["value"] ?? "",
                    (string?)r["priority"], (string?)r["valid"]));
            }
        }

        return new MailgunDomainStatus((string?)json["domain"]?["state"] ?? "unknown", records);
    }

    /// <summary>
    /// The account's HTTP webhook signing key (<c>GET /v5/accounts/http_signing_key</c>). Also the cheapest proof that
    /// an API key is the account's private key: Mailgun refuses sending keys here.
    /// </summary>
    public async Task<string> GetSigningKeyAsync(MailgunAccount account, CancellationToken cancellationToken = default)
    {
        var target = Resolve(account);
        var json = await GetJsonAsync(new Uri(target.BaseUrl, "v5/accounts/http_signing_key"), target, cancellationToken).ConfigureAwait(false);
        return (string?)json["http_signing_key"] is { Length: > 0 } key ? key
            : throw new MailgunApiException("Mailgun's answer to GET /v5/accounts/http_signing_key has no 'http_signing_key'.", domain: target.Name);
    }

    /// <summary>
    /// Regenerates the account's signing key (<c>POST /v5/accounts/http_signing_key</c>); the old key stops working at
    /// once at Mailgun, so the caller must already accept both. Returns the new key.
    /// </summary>
    public async Task<string> RegenerateSigningKeyAsync(MailgunAccount account, CancellationToken cancellationToken = default)
    {
        var target = Resolve(account);
        using (var response = await SendAsync(HttpMethod.Post, new Uri(target.BaseUrl, "v5/accounts/http_signing_key"), target, allowNotFound: false, cancellationToken).ConfigureAwait(false))
        {
            string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if ((string?)JObject.Parse(text)["http_signing_key"] is { Length: > 0 } key)
                {
                    return key;
                }
            }
            catch (JsonReaderException)
            {
                // Some answers carry only a message: read the new key back.
            }
        }

        return await GetSigningKeyAsync(account, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether the account's key can read the domain (<c>GET /v4/domains/{domain}</c>): false when Mailgun does not know it in that region.</summary>
    public async Task<bool> DomainExistsAsync(MailgunDomain domain, CancellationToken cancellationToken = default)
    {
        var target = Resolve(domain);
        using var response = await SendAsync(HttpMethod.Get, new Uri(target.BaseUrl, $"v4/domains/{target.Name}"), target, allowNotFound: true, cancellationToken).ConfigureAwait(false);
        return response.StatusCode != HttpStatusCode.NotFound;
    }

    /// <summary>Deletes one webhook subscription of a domain (<c>DELETE /v3/domains/{domain}/webhooks/{name}</c>); a missing one is a success.</summary>
    public async Task DeleteWebhookAsync(MailgunDomain domain, string webhook, CancellationToken cancellationToken = default)
    {
        var target = Resolve(domain);
        using var response = await SendAsync(HttpMethod.Delete, new Uri(target.BaseUrl, $"v3/domains/{target.Name}/webhooks/{Uri.EscapeDataString(webhook)}"), target,
            allowNotFound: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes a route (<c>DELETE /v3/routes/{id}</c>); a missing one is a success.</summary>
    public async Task DeleteRouteAsync(MailgunAccount account, string routeId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(routeId);
        var target = Resolve(account);
        using var response = await SendAsync(HttpMethod.Delete, new Uri(target.BaseUrl, $"v3/routes/{Uri.EscapeDataString(routeId)}"), target, allowNotFound: true, cancellationToken).ConfigureAwait(false);
    }
}
