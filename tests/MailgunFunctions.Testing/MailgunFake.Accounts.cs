using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Testing;

/// <summary>
/// Several Mailgun accounts behind one fake, as a multi-tenant platform sees Mailgun: each account has its own API key,
/// its own webhook signing key (<c>GET/POST /v5/accounts/http_signing_key</c>), its own routes, and owns its domains. A
/// domain owned by one account is refused (401) with any other key. The key given to <see cref="StartAsync"/> is the
/// "default" account: it may use every domain no other account owns (what single-account tests rely on).
/// </summary>
public sealed partial class MailgunFake
{
    private readonly ConcurrentDictionary<string, FakeAccount> _accountsByAuthorization = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FakeAccount> _domainOwners = new(StringComparer.OrdinalIgnoreCase);
    private readonly FakeAccount _defaultAccount = null!;

    /// <summary>One Mailgun account of the fake.</summary>
    public sealed class FakeAccount(string apiKey, string signingKey)
    {
        public string ApiKey { get; } = apiKey;

        /// <summary>The account's HTTP webhook signing key; <c>POST /v5/accounts/http_signing_key</c> replaces it.</summary>
        public string SigningKey { get; internal set; } = signingKey;

        public ConcurrentDictionary<string, bool> Domains { get; } = new(StringComparer.OrdinalIgnoreCase);

        internal List<JObject> Routes { get; } = [];

        internal int RouteIds;
    }

    /// <summary>The account of <see cref="StartAsync"/>'s key.</summary>
    public FakeAccount DefaultAccount => _defaultAccount;

    /// <summary>Adds an account that owns <paramref name="domains"/> (hosted for the set-up endpoints too).</summary>
    public FakeAccount AddAccount(string apiKey, string signingKey, params string[] domains)
    {
        var account = new FakeAccount(apiKey, signingKey);
        _accountsByAuthorization[Authorization(apiKey)] = account;
        foreach (string domain in domains)
        {
            AddDomain(account, domain);
        }

        return account;
    }

    /// <summary>Gives <paramref name="domain"/> to <paramref name="account"/>: it answers <c>GET /v4/domains/{domain}</c> and has (no) webhooks.</summary>
    public void AddDomain(FakeAccount account, string domain)
    {
        ArgumentNullException.ThrowIfNull(account);
        account.Domains[domain] = true;
        _domainOwners[domain] = account;
        _webhooks.GetOrAdd(domain, _ => new ConcurrentDictionary<string, string[]>(StringComparer.Ordinal));
        _domains.TryAdd(domain, new JObject { ["domain"] = new JObject { ["name"] = domain }, ["sending_dns_records"] = new JArray(), ["receiving_dns_records"] = new JArray() });
    }

    /// <summary>The routes of one account.</summary>
    public IReadOnlyList<JObject> RoutesOf(FakeAccount account)
    {
        ArgumentNullException.ThrowIfNull(account);
        lock (_gate)
        {
            return account.Routes.Select(r => (JObject)r.DeepClone()).ToList();
        }
    }

    private static string Authorization(string apiKey) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("api:" + apiKey));

    private void ResetAccounts()
    {
        _accountsByAuthorization.Clear();
        _domainOwners.Clear();
        _defaultAccount.Domains.Clear();
        lock (_gate)
        {
            _defaultAccount.Routes.Clear();
        }

        _accountsByAuthorization[_expectedAuthorization] = _defaultAccount;
    }

    /// <summary>The account of the request's key, or null when no account has that key.</summary>
    private FakeAccount? AccountOf(HttpContext context) =>
        _accountsByAuthorization.GetValueOrDefault(context.Request.Headers.Authorization.ToString());

    /// <summary>Whether the request's key may use <paramref name="domain"/>: its own domains, and, for the default account, any domain no other account owns.</summary>
    private bool MayUse(HttpContext context, string domain) =>
        AccountOf(context) is { } account
        && (_domainOwners.TryGetValue(domain, out var owner) ? ReferenceEquals(owner, account) : ReferenceEquals(account, _defaultAccount));

    /// <summary><c>/v5/accounts/http_signing_key</c>: null when the request is for another endpoint.</summary>
    private async Task<int?> AnswerAccountAsync(HttpContext context, string[] s)
    {
        if (!(s.Length == 3 && s[0] == "v5" && s[1] == "accounts" && s[2] == "http_signing_key"))
        {
            return null;
        }

        if (AccountOf(context) is not { } account)
        {
            Log(context, 401);
            context.Response.StatusCode = 401;
            await context.Response.WriteAsync("Forbidden");
            return 401;
        }

        if (InjectedFault("account", "http_signing_key") is { } fault)
        {
            return await WriteAsync(context, fault.Status, new JObject { ["message"] = "Internal error" });
        }

        if (HttpMethods.IsPost(context.Request.Method))
        {
            account.SigningKey = "key-" + Guid.NewGuid().ToString("N");
            return await WriteAsync(context, HttpStatusCode.OK, new JObject { ["message"] = "HTTP signing key regenerated", ["http_signing_key"] = account.SigningKey });
        }

        return await WriteAsync(context, HttpStatusCode.OK, new JObject { ["http_signing_key"] = account.SigningKey });
    }
}
