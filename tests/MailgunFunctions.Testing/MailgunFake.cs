using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Testing;

/// <summary>
/// A real HTTP server (Kestrel on 127.0.0.1, a free port) that answers like Mailgun's REST API for the domains
/// it hosts: suppression lists paged with absolute <c>paging.next</c> URLs (<c>?page=next&amp;address=pivot</c>) and an
/// empty page past the end, the Events API with opaque next URLs, DELETE of one address, HTTP Basic auth
/// (<c>api</c> + key, 401 otherwise, also for domains it does not host, as Mailgun answers a domain of the other
/// region), and injected faults (429 with a retry hint, 5xx) after a given number of pages.
/// </summary>
public sealed partial class MailgunFake : IAsyncDisposable
{
    private LoopbackServer _server = null!;
    private readonly string _expectedAuthorization;
    private readonly ConcurrentDictionary<(string Domain, string List), FakeList> _lists = new();
    private readonly ConcurrentDictionary<string, List<JObject>> _events = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<(string Domain, string List), int> _pagesServed = new();
    private readonly ConcurrentQueue<FakeRequest> _requests = new();
    private readonly List<Fault> _faults = [];
    private readonly Lock _gate = new();

    private MailgunFake(string apiKey)
    {
        _expectedAuthorization = Authorization(apiKey);
        _defaultAccount = new FakeAccount(apiKey, "key-default-" + Guid.NewGuid().ToString("N"));
        _accountsByAuthorization[_expectedAuthorization] = _defaultAccount;
    }

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Every request answered, in order.</summary>
    public IReadOnlyList<FakeRequest> Requests => _requests.ToArray();

    /// <summary>Page <c>n</c> (1-based, per list) hands back its own URL as <c>next</c>, a loop a client must not follow.</summary>
    public int? RepeatNextFromPage { get; set; }

    /// <summary><c>paging.next</c> points to this origin instead of the fake's own.</summary>
    public string? ForeignNextOrigin { get; set; }

    public static async Task<MailgunFake> StartAsync(string apiKey)
    {
        var fake = new MailgunFake(apiKey);
        fake._server = await LoopbackServer.StartAsync(fake.HandleAsync);
        fake.BaseUrl = fake._server.BaseUrl;
        return fake;
    }

    /// <summary>Hosts <paramref name="items"/> as the list (sorted by address like Mailgun's pages; the allowlist by "value").</summary>
    public void SetList(string domain, string list, IEnumerable<JObject> items)
    {
        string key = list == "whitelists" ? "value" : "address";
        var sorted = items.OrderBy(i => (string?)i[key], StringComparer.Ordinal).ToList();
        _lists[(domain.ToLowerInvariant(), list)] = new FakeList(key, sorted, 0, null);
    }

    /// <summary>Hosts a generated list of <paramref name="count"/> items without holding them: <paramref name="item"/>(i) must sort by address as i does.</summary>
    public void SetGeneratedList(string domain, string list, int count, Func<int, JObject> item) =>
        _lists[(domain.ToLowerInvariant(), list)] = new FakeList("address", null, count, item);

    public void SetEvents(string domain, IEnumerable<JObject> events) => _events[domain] = events.ToList();

    /// <summary>After <paramref name="afterPages"/> pages of the list were served, answer the next <paramref name="times"/> requests of it with <paramref name="status"/>.</summary>
    public void Fail(string domain, string list, int afterPages, HttpStatusCode status, int times = 1, string? retryAfter = null, string? retrySecondsInBody = null)
    {
        lock (_gate)
        {
            _faults.Add(new Fault(domain.ToLowerInvariant(), list, afterPages, status, times, retryAfter, retrySecondsInBody));
        }
    }

    public void ClearFaults()
    {
        lock (_gate)
        {
            _faults.Clear();
        }
    }

    /// <summary>Forgets lists, events, faults and the request log.</summary>
    public void Reset()
    {
        _lists.Clear();
        _events.Clear();
        _pagesServed.Clear();
        _requests.Clear();
        ClearFaults();
        RepeatNextFromPage = null;
        ForeignNextOrigin = null;
        ResetSetup();
        ResetAccounts();
        ResetValidation();
        ResetMessages();
    }

    public bool ListContains(string domain, string list, string address) =>
        _lists.TryGetValue((domain.ToLowerInvariant(), list), out var l) && l.Items is { } items && items.Any(i => (string?)i[l.KeyField] == address);

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        // The raw target shows exactly how the client escaped the path (Request.Path is already decoded).
        string rawTarget = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        await AnswerAsync(context, rawTarget);
    }

    // Logged before the answer is written: once the client has read an answer, its request is in the log.
    private void Log(HttpContext context, int status) => _requests.Enqueue(new FakeRequest(
        context.Request.Method, context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget, status, context.Request.Headers.Authorization.ToString()));

    private async Task<int> AnswerAsync(HttpContext context, string rawTarget)
    {
        string path = rawTarget.Split('?')[0];
        string[] segments = path.Trim('/').Split('/');
        if (await AnswerAccountAsync(context, segments) is { } accountStatus)
        {
            return accountStatus;
        }

        if (await AnswerValidationAsync(context, segments) is { } validationStatus)
        {
            return validationStatus;
        }

        if (await AnswerSetupAsync(context, segments) is { } setupStatus)
        {
            return setupStatus;
        }

        if (segments.Length < 3 || segments[0] != "v3")
        {
            return await WriteAsync(context, HttpStatusCode.NotFound, new JObject { ["message"] = "Not found" });
        }

        string domain = segments[1].ToLowerInvariant();
        string resource = segments[2];
        if (!MayUse(context, domain)
            || (!_lists.Keys.Any(k => k.Domain == domain) && !_events.ContainsKey(domain) && !_domainOwners.ContainsKey(domain)))
        {
            Log(context, 401);
            context.Response.StatusCode = 401;
            await context.Response.WriteAsync("Forbidden");
            return 401;
        }

        if (InjectedFault(domain, resource) is { } fault)
        {
            if (fault.RetryAfter is not null)
            {
                context.Response.Headers.RetryAfter = fault.RetryAfter;
            }

            var body = new JObject { ["message"] = fault.Status == HttpStatusCode.TooManyRequests ? "Too many requests" : "Internal error" };
            if (fault.RetrySecondsInBody is not null)
            {
                body["retry-seconds"] = fault.RetrySecondsInBody;
            }

            return await WriteAsync(context, fault.Status, body);
        }

        if (resource == "messages" && HttpMethods.IsPost(context.Request.Method) && segments.Length == 3)
        {
            return await SendMessageAsync(context, domain);
        }

        if (resource == "events")
        {
            return await EventsPageAsync(context, domain, segments.Length > 3 ? segments[3] : null);
        }

        if (HttpMethods.IsGet(context.Request.Method) && segments.Length == 4)
        {
            // One address of a list: the record, or Mailgun's 404 naming the table.
            string address = Uri.UnescapeDataString(segments[3]);
            var item = _lists.TryGetValue((domain, resource), out var held) && held.Items is { } all ? all.FirstOrDefault(i => (string?)i[held.KeyField] == address) : null;
            return item is not null
                ? await WriteAsync(context, HttpStatusCode.OK, (JObject)item.DeepClone())
                : await WriteAsync(context, HttpStatusCode.NotFound, new JObject { ["message"] = $"Address not found in {resource} table" });
        }

        if (resource == "unsubscribes" && HttpMethods.IsPost(context.Request.Method) && segments.Length == 3)
        {
            // Adds (or keeps) one address on the list for all mail, as Mailgun's POST does.
            var form = await context.Request.ReadFormAsync();
            string added = form["address"].ToString();
            var held = _lists.GetOrAdd((domain, resource), _ => new FakeList("address", [], 0, null));
            lock (_gate)
            {
                if (!held.Items!.Any(i => (string?)i["address"] == added))
                {
                    held.Items!.Add(new JObject { ["address"] = added, ["tags"] = new JArray(form["tag"].ToString()), ["created_at"] = DateTimeOffset.UtcNow.ToString("R", System.Globalization.CultureInfo.InvariantCulture) });
                    held.Items.Sort((a, b) => string.CompareOrdinal((string?)a["address"], (string?)b["address"]));
                }
            }

            return await WriteAsync(context, HttpStatusCode.OK, new JObject { ["message"] = "Address has been added to the unsubscribes table", ["address"] = added });
        }

        if (!_lists.TryGetValue((domain, resource), out var list))
        {
            return await WriteAsync(context, HttpStatusCode.OK, Page([], null, null));
        }

        if (context.Request.Method == HttpMethods.Delete && segments.Length == 4)
        {
            string address = Uri.UnescapeDataString(segments[3]);
            bool removed = list.Items is { } items && items.RemoveAll(i => (string?)i[list.KeyField] == address) > 0;
            return removed
                ? await WriteAsync(context, HttpStatusCode.OK, new JObject { ["message"] = "Bounced address has been removed", ["address"] = address })
                : await WriteAsync(context, HttpStatusCode.NotFound, new JObject { ["message"] = $"Address not found in {resource} table" });
        }

        return await ListPageAsync(context, domain, resource, list, rawTarget);
    }

    private async Task<int> ListPageAsync(HttpContext context, string domain, string resource, FakeList list, string rawTarget)
    {
        int limit = int.TryParse(context.Request.Query["limit"], out int l) ? Math.Clamp(l, 1, 1000) : 100;
        int start = 0;
        if (context.Request.Query["page"] == "next" && context.Request.Query["address"].ToString() is { } pivot)
        {
            start = list.IndexAfter(pivot);
        }

        var items = new JArray();
        for (int i = start; i < Math.Min(list.Count, start + limit); i++)
        {
            items.Add(list.At(i));
        }

        int served = _pagesServed.AddOrUpdate((domain, resource), 1, (_, n) => n + 1);
        string origin = ForeignNextOrigin ?? BaseUrl.GetLeftPart(UriPartial.Authority);
        string self = origin + rawTarget;
        string lastAddress = items.Count > 0 ? (string)items[^1]![list.KeyField]! : context.Request.Query["address"].ToString();
        string next = RepeatNextFromPage == served
            ? self
            : $"{origin}/v3/{domain}/{resource}?page=next&address={Uri.EscapeDataString(lastAddress)}&limit={limit}";
        return await WriteAsync(context, HttpStatusCode.OK, Page(items, next, $"{origin}/v3/{domain}/{resource}?page=first&limit={limit}"));
    }

    private async Task<int> EventsPageAsync(HttpContext context, string domain, string? pageToken)
    {
        var all = _events.GetValueOrDefault(domain) ?? [];
        int offset = 0, limit = 300;
        string filter = "";
        double begin = 0;
        if (pageToken is null)
        {
            limit = int.TryParse(context.Request.Query["limit"], out int l) ? l : 100;
            filter = context.Request.Query["event"].ToString();
            begin = double.TryParse(context.Request.Query["begin"], System.Globalization.CultureInfo.InvariantCulture, out double b) ? b : 0;
        }
        else
        {
            // Opaque to the client, like Mailgun's: offset|limit|filter|begin.
            string[] parts = Encoding.UTF8.GetString(Convert.FromBase64String(Uri.UnescapeDataString(pageToken))).Split('|');
            offset = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            limit = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            filter = parts[2];
            begin = double.Parse(parts[3], System.Globalization.CultureInfo.InvariantCulture);
        }

        var types = filter.Split(" OR ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var matching = all.Where(e => (types.Length == 0 || types.Contains((string?)e["event"])) && (double)e["timestamp"]! >= begin).ToList();
        var items = new JArray(matching.Skip(offset).Take(limit));
        string token = Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Join('|', offset + items.Count, limit, filter, begin.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        string next = $"{BaseUrl.GetLeftPart(UriPartial.Authority)}/v3/{domain}/events/{Uri.EscapeDataString(token)}";
        return await WriteAsync(context, HttpStatusCode.OK, Page(items, next, null));
    }

    private Fault? InjectedFault(string domain, string resource)
    {
        lock (_gate)
        {
            int served = _pagesServed.GetValueOrDefault((domain, resource));
            var fault = _faults.FirstOrDefault(f => f.Domain == domain && f.List == resource && served >= f.AfterPages && f.Remaining > 0);
            if (fault is not null)
            {
                fault.Remaining--;
            }

            return fault;
        }
    }

    // Mailgun puts "items" before "paging"; the client must not depend on it, but this is what it sees.
    private static JObject Page(JArray items, string? next, string? first) => new()
    {
        ["items"] = items,
        ["paging"] = new JObject { ["first"] = first, ["next"] = next, ["previous"] = first, ["last"] = first },
    };

    private async Task<int> WriteAsync(HttpContext context, HttpStatusCode status, JObject body)
    {
        Log(context, (int)status);
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToString(Formatting.None));
        return (int)status;
    }

    private sealed record FakeList(string KeyField, List<JObject>? Items, int GeneratedCount, Func<int, JObject>? Generator)
    {
        public int Count => Items?.Count ?? GeneratedCount;

        public JObject At(int index) => Items is { } items ? items[index] : Generator!(index);

        private string KeyAt(int index) => (string)At(index)[KeyField]!;

        public int IndexAfter(string pivot)
        {
            int low = 0, high = Count;
            while (low < high)
            {
                int mid = (low + high) / 2;
                if (string.CompareOrdinal(KeyAt(mid), pivot) <= 0)
                {
                    low = mid + 1;
                }
                else
                {
                    high = mid;
                }
            }

            return low;
        }
    }

    private sealed class Fault(string domain, string list, int afterPages, HttpStatusCode status, int times, string? retryAfter, string? retrySecondsInBody)
    {
        public string Domain { get; } = domain;
        public string List { get; } = list;
        public int AfterPages { get; } = afterPages;
        public HttpStatusCode Status { get; } = status;
        public int Remaining { get; set; } = times;
        public string? RetryAfter { get; } = retryAfter;
        public string? RetrySecondsInBody { get; } = retrySecondsInBody;
    }
}

public sealed record FakeRequest(string Method, string RawTarget, int Status, string Authorization);
