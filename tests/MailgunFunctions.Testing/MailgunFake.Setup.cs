using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Http;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Testing;

/// <summary>
/// The account set-up endpoints: webhooks of a domain (<c>GET/POST /v3/domains/{d}/webhooks</c>, <c>PUT .../{name}</c>),
/// routes (<c>GET/POST /v3/routes</c>, <c>PUT /v3/routes/{id}</c>, paged by skip/limit) and a domain's DNS records
/// (<c>GET /v4/domains/{d}</c>, with <c>domain.state</c>; <c>PUT /v4/domains/{d}/verify</c>) and its tracking settings
/// (<c>GET /v3/domains/{d}/tracking</c>). Same Basic auth as the rest of the fake.
/// </summary>
public sealed partial class MailgunFake
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, string[]>> _webhooks = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, JObject> _domains = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, JObject> _tracking = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, string> _stateAfterVerify = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The answer of <c>GET /v3/domains/{domain}/tracking</c>; a domain without one answers every tracking off (what
    /// Mailgun has for a new domain's unsubscribe link).
    /// </summary>
    public void SetTracking(string domain, bool unsubscribe, bool click = true, bool open = true) => _tracking[domain] = new JObject
    {
        ["tracking"] = new JObject
        {
            ["unsubscribe"] = new JObject { ["active"] = unsubscribe, ["html_footer"] = "<p><a href=\"%unsubscribe_url%\">unsubscribe</a></p>", ["text_footer"] = "unsubscribe: %unsubscribe_url%" },
            ["click"] = new JObject { ["active"] = click },
            ["open"] = new JObject { ["active"] = open },
        },
    };

    /// <summary><c>PUT /v4/domains/{domain}/verify</c> moves the domain to <paramref name="state"/> (as if Mailgun found the records then); without it the state stays.</summary>
    public void SetStateAfterVerify(string domain, string state) => _stateAfterVerify[domain] = state;

    /// <summary>Hosts a domain for the set-up endpoints, with its webhooks (name to URLs).</summary>
    public void SetWebhooks(string domain, IDictionary<string, string[]> webhooks) =>
        _webhooks[domain] = new ConcurrentDictionary<string, string[]>(webhooks, StringComparer.Ordinal);

    public IReadOnlyDictionary<string, string[]> Webhooks(string domain) =>
        _webhooks.TryGetValue(domain, out var hooks) ? new Dictionary<string, string[]>(hooks) : new Dictionary<string, string[]>();

    /// <summary>The answer of <c>GET /v4/domains/{domain}</c> (sending_dns_records, receiving_dns_records).</summary>
    public void SetDomain(string domain, JObject answer) => _domains[domain] = answer;

    /// <summary>Adds a route to the default account.</summary>
    public void AddRoute(JObject route)
    {
        ArgumentNullException.ThrowIfNull(route);
        lock (_gate)
        {
            route["id"] ??= "route" + (++_defaultAccount.RouteIds);
            _defaultAccount.Routes.Add(route);
        }
    }

    /// <summary>The routes of the default account.</summary>
    public IReadOnlyList<JObject> Routes() => RoutesOf(_defaultAccount);

    private void ResetSetup()
    {
        _webhooks.Clear();
        _domains.Clear();
        _tracking.Clear();
        _stateAfterVerify.Clear();
    }

    /// <summary>Null when the request is not for a set-up endpoint.</summary>
    private async Task<int?> AnswerSetupAsync(HttpContext context, string[] s)
    {
        bool webhooks = s.Length >= 4 && s[0] == "v3" && s[1] == "domains" && s[3] == "webhooks";
        bool routes = s.Length >= 2 && s[0] == "v3" && s[1] == "routes";
        bool domain = s.Length == 3 && s[0] == "v4" && s[1] == "domains";
        bool verify = s.Length == 4 && s[0] == "v4" && s[1] == "domains" && s[3] == "verify";
        bool tracking = s.Length == 4 && s[0] == "v3" && s[1] == "domains" && s[3] == "tracking";
        if (!webhooks && !routes && !domain && !verify && !tracking)
        {
            return null;
        }

        string? name = webhooks || domain || verify || tracking ? s[2] : null;
        bool known = name is null || _webhooks.ContainsKey(name) || _domains.ContainsKey(name);
        var account = AccountOf(context);
        if (account is null || !known || (name is not null && !MayUse(context, name)))
        {
            Log(context, 401);
            context.Response.StatusCode = 401;
            await context.Response.WriteAsync("Forbidden");
            return 401;
        }

        if (InjectedFault(name ?? "account", webhooks ? "webhooks" : routes ? "routes" : tracking ? "tracking" : "domain") is { } fault)
        {
            return await WriteAsync(context, fault.Status, new JObject { ["message"] = "Internal error" });
        }

        if (tracking)
        {
            return await WriteAsync(context, HttpStatusCode.OK, _tracking.TryGetValue(name!, out var set) ? set
                : new JObject { ["tracking"] = new JObject { ["unsubscribe"] = new JObject { ["active"] = false }, ["click"] = new JObject { ["active"] = false }, ["open"] = new JObject { ["active"] = false } } });
        }

        if (verify)
        {
            if (!HttpMethods.IsPut(context.Request.Method) || !_domains.TryGetValue(name!, out var verified))
            {
                return await WriteAsync(context, HttpStatusCode.NotFound, new JObject { ["message"] = "Domain not found" });
            }

            if (_stateAfterVerify.TryGetValue(name!, out var state))
            {
                verified["domain"] ??= new JObject { ["name"] = name };
                verified["domain"]!["state"] = state;
            }

            var answer = (JObject)verified.DeepClone();
            answer["message"] = "Domain DNS records have been updated";
            return await WriteAsync(context, HttpStatusCode.OK, answer);
        }

        if (domain)
        {
            return await WriteAsync(context, _domains.TryGetValue(name!, out var answer) ? HttpStatusCode.OK : HttpStatusCode.NotFound,
                answer ?? new JObject { ["message"] = "Domain not found" });
        }

        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync() : null;
        if (webhooks)
        {
            var hooks = _webhooks.GetOrAdd(name!, _ => new ConcurrentDictionary<string, string[]>(StringComparer.Ordinal));
            if (HttpMethods.IsGet(context.Request.Method) && s.Length == 4)
            {
                var body = new JObject();
                foreach (var (hook, urls) in hooks)
                {
                    body[hook] = new JObject { ["urls"] = new JArray(urls) };
                }

                return await WriteAsync(context, HttpStatusCode.OK, new JObject { ["webhooks"] = body });
            }

            // Mailgun refuses a URL it cannot use and names it in its answer; a host under ".invalid" (RFC 2606) stands for one here.
            if (form?["url"].FirstOrDefault(u => u is not null && new Uri(u).Host.EndsWith(".invalid", StringComparison.OrdinalIgnoreCase)) is { } refused)
            {
                return await WriteAsync(context, HttpStatusCode.BadRequest, new JObject { ["message"] = $"url {refused} is not reachable" });
            }

            if (HttpMethods.IsPost(context.Request.Method) && s.Length == 4 && form is not null)
            {
                string id = form["id"].ToString();
                if (hooks.ContainsKey(id))
                {
                    return await WriteAsync(context, HttpStatusCode.BadRequest, new JObject { ["message"] = "Webhook already exists" });
                }

                hooks[id] = form["url"].ToArray()!;
                return await WriteAsync(context, HttpStatusCode.OK, new JObject { ["message"] = "Webhook has been created" });
            }

            if (HttpMethods.IsPut(context.Request.Method) && s.Length == 5 && form is not null)
            {
                if (!hooks.ContainsKey(s[4]))
                {
                    return await WriteAsync(context, HttpStatusCode.NotFound, new JObject { ["message"] = "Webhook not found" });
                }

                hooks[s[4]] = form["url"].ToArray()!;
                return await WriteAsync(context, HttpStatusCode.OK, new JObject { ["message"] = "Webhook has been updated" });
            }

            if (HttpMethods.IsDelete(context.Request.Method) && s.Length == 5)
            {
                return hooks.TryRemove(s[4], out _)
                    ? await WriteAsync(context, HttpStatusCode.OK, new JObject { ["message"] = "Webhook has been deleted" })
                    : await WriteAsync(context, HttpStatusCode.NotFound, new JObject { ["message"] = "Webhook not found" });
            }

            return await WriteAsync(context, HttpStatusCode.MethodNotAllowed, new JObject { ["message"] = "Method not allowed" });
        }

        if (HttpMethods.IsGet(context.Request.Method) && s.Length == 2)
        {
            int skip = int.TryParse(context.Request.Query["skip"], out int k) ? k : 0;
            int limit = int.TryParse(context.Request.Query["limit"], out int l) ? l : 100;
            var all = RoutesOf(account);
            return await WriteAsync(context, HttpStatusCode.OK, new JObject { ["total_count"] = all.Count, ["items"] = new JArray(all.Skip(skip).Take(limit)) });
        }

        if ((HttpMethods.IsPost(context.Request.Method) && s.Length == 2) || (HttpMethods.IsPut(context.Request.Method) && s.Length == 3))
        {
            var route = new JObject
            {
                ["priority"] = int.Parse(form!["priority"].ToString(), System.Globalization.CultureInfo.InvariantCulture),
                ["description"] = form["description"].ToString(),
                ["expression"] = form["expression"].ToString(),
                ["actions"] = new JArray(form["action"].ToArray().OfType<string>().ToArray<object>()),
            };
            bool found = true;
            lock (_gate)
            {
                if (s.Length == 3)
                {
                    int index = account.Routes.FindIndex(r => (string?)r["id"] == s[2]);
                    found = index >= 0;
                    if (found)
                    {
                        route["id"] = s[2];
                        account.Routes[index] = route;
                    }
                }
                else
                {
                    route["id"] = "route" + (++account.RouteIds);
                    account.Routes.Add(route);
                }
            }

            if (!found)
            {
                return await WriteAsync(context, HttpStatusCode.NotFound, new JObject { ["message"] = "Route not found" });
            }

            return await WriteAsync(context, HttpStatusCode.OK, new JObject { ["message"] = "Route has been created", ["route"] = route });
        }

        if (HttpMethods.IsDelete(context.Request.Method) && s.Length == 3)
        {
            int removed;
            lock (_gate)
            {
                removed = account.Routes.RemoveAll(r => (string?)r["id"] == s[2]);
            }

            return removed > 0
                ? await WriteAsync(context, HttpStatusCode.OK, new JObject { ["message"] = "Route has been deleted", ["id"] = s[2] })
                : await WriteAsync(context, HttpStatusCode.NotFound, new JObject { ["message"] = "Route not found" });
        }

        return await WriteAsync(context, HttpStatusCode.MethodNotAllowed, new JObject { ["message"] = "Method not allowed" });
    }
}
