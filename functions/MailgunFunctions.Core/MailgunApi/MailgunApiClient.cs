using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Polly.Timeout;

namespace MailgunFunctions.MailgunApi;

/// <summary>
/// Mailgun's REST API for any account: every call names its <see cref="MailgunDomain"/> or <see cref="MailgunAccount"/>
/// (region and API key: each tenant has its own), and is asked in that region. A typed <see cref="HttpClient"/> whose
/// handler retries 429, 5xx and network errors (see <see cref="MailgunApiRegistration"/>); errors retrying cannot fix
/// become <see cref="MailgunApiException"/> saying what to change.
/// </summary>
public sealed class MailgunApiClient
{
    /// <summary>The event id of the log line each retry writes (method, path, answer, attempt, wait): the CLI shows these lines on stderr.</summary>
    public const int RetryLogEventId = 6003;

    /// <summary>The Events API filter used by default: the events that change a contact's DND state.</summary>
    public const string DefaultEventFilter = "failed OR complained OR unsubscribed";

    private const int ErrorExcerptChars = 300;
    private readonly HttpClient _http;
    private readonly MailgunApiOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<MailgunApiClient> _logger;

    public MailgunApiClient(HttpClient http, IOptions<MailgunApiOptions> options, TimeProvider time, ILogger<MailgunApiClient> logger)
    {
        _http = http;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Every record of one suppression list, page by page (<c>limit</c> = <see cref="MailgunApiOptions.SuppressionPageSize"/>),
    /// holding one page at a time. Follows <c>paging.next</c> exactly as given and stops on an empty page or a
    /// <c>next</c> already read.
    /// </summary>
    public async IAsyncEnumerable<SuppressionRecord> StreamSuppressionsAsync(MailgunDomain domain, SuppressionList list, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var page in StreamSuppressionPagesAsync(domain, list, null, cancellationToken).ConfigureAwait(false))
        {
            foreach (var record in page.Records)
            {
                yield return record;
            }
        }
    }

    /// <summary>
    /// The pages of one suppression list, from the first or from <paramref name="resumeFrom"/> (a <see cref="SuppressionPage.Next"/>
    /// kept by an earlier run), so a long export can checkpoint between pages and continue later.
    /// </summary>
    public async IAsyncEnumerable<SuppressionPage> StreamSuppressionPagesAsync(MailgunDomain domain, SuppressionList list, Uri? resumeFrom, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var target = Resolve(domain);
        var first = resumeFrom is null
            ? new Uri(target.BaseUrl, $"v3/{target.Name}/{list.PathSegment()}?limit={_options.SuppressionPageSize}")
            : NextPage(resumeFrom.AbsoluteUri, target)!;
        await foreach (var (items, next) in StreamPagesAsync(target, list.PathSegment(), first, cancellationToken).ConfigureAwait(false))
        {
            yield return new SuppressionPage(items.Select(i => SuppressionRecord.FromJson(list, i)).ToList(), next);
        }
    }

    /// <summary>
    /// Events of one domain from <paramref name="begin"/> on, oldest first, as Mailgun's raw <c>event-data</c> objects
    /// (parse them with the event parser). Mailgun keeps events 3 to 30 days depending on the plan.
    /// </summary>
    public async IAsyncEnumerable<JObject> StreamEventsAsync(MailgunDomain domain, DateTimeOffset begin, string eventFilter = DefaultEventFilter, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var target = Resolve(domain);
        string query = $"begin={begin.ToUnixTimeSeconds()}&ascending=yes&limit={_options.EventPageSize}&event={Uri.EscapeDataString(eventFilter)}";
        var first = new Uri(target.BaseUrl, $"v3/{target.Name}/events?{query}");
        await foreach (var (items, _) in StreamPagesAsync(target, "events", first, cancellationToken).ConfigureAwait(false))
        {
            foreach (var item in items)
            {
                yield return item;
            }
        }
    }

    /// <summary>
    /// Removes one address from a list. Idempotent: an address that is not (or no longer) on the list is a success.
    /// Returns true when Mailgun removed it, false when it was already gone.
    /// </summary>
    public async Task<bool> DeleteSuppressionAsync(MailgunDomain domain, SuppressionList list, string address, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        var target = Resolve(domain);
        // Addresses may hold '+', '/', '#', '?' and '%': each must reach Mailgun as one escaped path segment.
        var url = new Uri(target.BaseUrl, $"v3/{target.Name}/{list.PathSegment()}/{Uri.EscapeDataString(address)}");
        using var response = await SendAsync(HttpMethod.Delete, url, target, allowNotFound: true, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            string body = await ExcerptAsync(response, cancellationToken).ConfigureAwait(false);
            // "Address not found in bounces table" means already gone; "Domain not found" means a wrong setting.
            if (body.Contains("domain", StringComparison.OrdinalIgnoreCase) && !body.Contains("address", StringComparison.OrdinalIgnoreCase))
            {
                throw new MailgunApiException(
                    $"Mailgun does not know domain '{target.Name}' in the {target.Region} region ({UrlMask.Mask(target.BaseUrl)}): check {target.RegionHint}. Mailgun said: {body}",
                    response.StatusCode, target.Name);
            }

            MailgunApiLog.Deleted(_logger, target.Name, list.PathSegment(), "already gone");
            return false;
        }

        MailgunApiLog.Deleted(_logger, target.Name, list.PathSegment(), "removed");
        return true;
    }

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
    public async Task<IReadOnlyList<MailgunDnsRecord>> GetDomainDnsRecordsAsync(MailgunDomain domain, CancellationToken cancellationToken = default)
    {
        var target = Resolve(domain);
        var json = await GetJsonAsync(new Uri(target.BaseUrl, $"v4/domains/{target.Name}"), target, cancellationToken).ConfigureAwait(false);
        var records = new List<MailgunDnsRecord>();
        foreach (var (field, purpose) in new[] { ("sending_dns_records", "sending"), ("receiving_dns_records", "receiving") })
        {
            foreach (var r in (json[field] as JArray ?? []).OfType<JObject>())
            {
                records.Add(new MailgunDnsRecord(purpose, (string?)r["record_type"] ?? "", (string?)r["name"] ?? target.Name, (string?)r["value"] ?? "",
                    (string?)r["priority"], (string?)r["valid"]));
            }
        }

        return records;
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

    private async Task<JObject> GetJsonAsync(Uri url, Target target, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, url, target, allowNotFound: false, cancellationToken).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return JObject.Parse(text);
        }
        catch (JsonReaderException)
        {
            throw new MailgunApiException($"Mailgun answered {PathForLogs(url)} with something that is not a JSON object.", response.StatusCode, target.Name);
        }
    }

    /// <summary>The non-empty pages from <paramref name="first"/> on, each with the URL of the page after it (null at the end).</summary>
    private async IAsyncEnumerable<(List<JObject> Items, Uri? Next)> StreamPagesAsync(Target target, string resource, Uri first, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var read = new HashSet<string>(StringComparer.Ordinal) { first.AbsoluteUri };
        Uri? url = first;
        int page = 0;
        long total = 0;
        while (url is not null)
        {
            page++;
            var (items, next) = await ReadPageAsync(url, target, cancellationToken).ConfigureAwait(false);
            total += items.Count;
            MailgunApiLog.PageRead(_logger, target.Name, resource, page, items.Count, total);
            // A page past the end is empty (Mailgun keeps handing out a "next"): that is the only reliable end.
            if (items.Count == 0)
            {
                yield break;
            }

            // Mailgun has been seen to hand back a page already read as "next": following it would never end.
            if (next is not null && !read.Add(next.AbsoluteUri))
            {
                MailgunApiLog.RepeatedPage(_logger, target.Name, resource, PathForLogs(next));
                next = null;
            }

            yield return (items, next);
            url = next;
        }
    }

    /// <summary>
    /// Reads one page token by token from the response stream (never as one string; dates stay Mailgun's text).
    /// One page (at most 1,000 small items) is held as objects so a caller can checkpoint between pages.
    /// </summary>
    private async Task<(List<JObject> Items, Uri? Next)> ReadPageAsync(Uri url, Target target, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, url, target, allowNotFound: false, cancellationToken).ConfigureAwait(false);
        using var readTimeout = new CancellationTokenSource(_options.PageReadTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, readTimeout.Token);
        var token = linked.Token;
        await using var stream = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
        using var text = new StreamReader(stream, Encoding.UTF8);
        using var reader = new JsonTextReader(text) { DateParseHandling = DateParseHandling.None, CloseInput = true };
        if (!await reader.ReadAsync(token).ConfigureAwait(false) || reader.TokenType != JsonToken.StartObject)
        {
            throw new MailgunApiException($"Mailgun answered {PathForLogs(url)} with something that is not a JSON object.", response.StatusCode, target.Name);
        }

        var items = new List<JObject>();
        Uri? next = null;
        while (await reader.ReadAsync(token).ConfigureAwait(false) && reader.TokenType == JsonToken.PropertyName)
        {
            string name = (string)reader.Value!;
            await reader.ReadAsync(token).ConfigureAwait(false);
            if (name == "items" && reader.TokenType == JsonToken.StartArray)
            {
                while (await reader.ReadAsync(token).ConfigureAwait(false) && reader.TokenType != JsonToken.EndArray)
                {
                    if (reader.TokenType == JsonToken.StartObject)
                    {
                        items.Add(await JObject.LoadAsync(reader, token).ConfigureAwait(false));
                    }
                    else
                    {
                        await reader.SkipAsync(token).ConfigureAwait(false);
                    }
                }
            }
            else if (name == "paging" && reader.TokenType == JsonToken.StartObject)
            {
                var paging = await JObject.LoadAsync(reader, token).ConfigureAwait(false);
                next = NextPage(paging.Value<string>("next"), target);
            }
            else
            {
                await reader.SkipAsync(token).ConfigureAwait(false);
            }
        }

        return (items, next);
    }

    private static Uri? NextPage(string? next, Target target)
    {
        if (string.IsNullOrWhiteSpace(next))
        {
            return null;
        }

        if (!Uri.TryCreate(next, UriKind.Absolute, out var url))
        {
            throw new MailgunApiException($"Mailgun's paging.next is not an absolute URL: '{next}'.", domain: target.Name);
        }

        // The next request carries the API key: never send it to a host other than the region's.
        if (Uri.Compare(url, target.BaseUrl, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) != 0)
        {
            throw new MailgunApiException($"Mailgun's paging.next points to {url.GetLeftPart(UriPartial.Authority)}, not {target.BaseUrl.GetLeftPart(UriPartial.Authority)}: refusing to send the API key there.", domain: target.Name);
        }

        return url;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, Target target, bool allowNotFound, CancellationToken cancellationToken, HttpContent? content = null)
    {
        if (string.IsNullOrWhiteSpace(target.ApiKey))
        {
            throw new MailgunApiException($"No Mailgun API key: set {target.KeyHint}.", domain: target.Name) { IsMissingApiKey = true };
        }

        using var request = new HttpRequestMessage(method, url) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("api:" + target.ApiKey.Trim())));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new MailgunApiException($"Mailgun's {target.Region} API ({UrlMask.Mask(target.BaseUrl)}) could not be reached for {target.Subject} after retries: {UrlMask.InText(ex.Message)}", ex.StatusCode, target.Name, ex);
        }
        catch (TimeoutRejectedException ex)
        {
            throw new MailgunApiException($"Mailgun's {target.Region} API ({UrlMask.Mask(target.BaseUrl)}) did not answer {method} {PathForLogs(url)} in time after retries (MailgunApi__AttemptTimeout).", null, target.Name, ex);
        }

        if (response.IsSuccessStatusCode || (allowNotFound && response.StatusCode == HttpStatusCode.NotFound))
        {
            return response;
        }

        using (response)
        {
            string excerpt = await ExcerptAsync(response, cancellationToken).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            string message = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                ? $"Mailgun refused the API key ({status}) for {target.Subject} in the {target.Region} region ({UrlMask.Mask(target.BaseUrl)}). " +
                  $"Check {target.KeyHint} and {target.RegionHint} (a domain asked in the wrong region is refused too)."
                : $"Mailgun answered {status} to {method} {PathForLogs(url)} for {target.Subject}" +
                  (status is 429 or >= 500 ? " after retries" : "") + $": {excerpt}";
            throw new MailgunApiException(message, response.StatusCode, target.Name);
        }
    }

    private static async Task<string> ExcerptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            char[] buffer = new char[ErrorExcerptChars];
            int read = await reader.ReadBlockAsync(buffer, cancellationToken).ConfigureAwait(false);
            // Mailgun may name a URL it refused (a webhook's, with its function key): the excerpt goes into errors and logs.
            return UrlMask.InText(new string(buffer, 0, read).ReplaceLineEndings(" "));
        }
        catch (HttpRequestException)
        {
            return "(no readable body)";
        }
    }

    /// <summary>
    /// The request path without anything that names a person: the address of a single-address call becomes
    /// <c>{address}</c>, and the query (which holds the paging pivot, an address) is dropped. Used in logs and errors.
    /// </summary>
    internal static string PathForLogs(Uri? url)
    {
        if (url is null)
        {
            return "?";
        }

        string[] segments = url.AbsolutePath.Trim('/').Split('/');
        return segments.Length >= 4 && segments[0] == "v3" && segments[2] != "events"
            ? $"/{segments[0]}/{segments[1]}/{segments[2]}/{{address}}"
            : url.AbsolutePath;
    }

    private Target Resolve(MailgunDomain domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        return new Target(domain.Name.Trim(), domain.Region, BaseUrl(domain.Region), domain.Account.ApiKey, domain.Account.KeyHint, $"domain '{domain.Name.Trim()}'", domain.RegionHint);
    }

    private Target Resolve(MailgunAccount account)
    {
        ArgumentNullException.ThrowIfNull(account);
        return new Target("", account.Region, BaseUrl(account.Region), account.ApiKey, account.KeyHint, "the account", "the account's region");
    }

    private Uri BaseUrl(MailgunRegion region)
    {
        var baseUrl = _options.BaseUrlOf(region);
        // A trailing slash makes relative paths append to a base URL that has a path of its own (a test fake's).
        return baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
    }

    /// <param name="Name">The domain, or empty for account-level calls.</param>
    /// <param name="Subject">What the call is about, for messages ("domain 'mg.example.com'", "the account").</param>
    private sealed record Target(string Name, MailgunRegion Region, Uri BaseUrl, string? ApiKey, string KeyHint, string Subject, string RegionHint);
}
