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
public sealed partial class MailgunApiClient
{
    /// <summary>The event id of the log line each retry writes (method, path, answer, attempt, wait): the CLI shows these lines on stderr.</summary>
    public const int RetryLogEventId = 6003;

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
