using System.Net;
using Azure.Data.Tables;
using MailgunFunctions;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunOps.Tests;

/// <summary>
/// <c>mailgun-ops tenant …</c> against the Mailgun fake, as an operator (or the platform's settings page) connects a
/// location: each test has its own Mailgun account in the fake (its own API key, signing key, domains and routes) and a
/// tenant id no other test uses. Every run's output is checked for the secrets involved (API key, signing keys, function
/// key): none may appear.
/// </summary>
[NonParallelizable]
public sealed class TenantCommandTests : OpsHarness
{
    private const string AppUrl = "https://app.example.net";
    private const string OtherIntegration = "https://analytics.example.net/hook?token=other-integrations-token";

    private string _id = "";
    private string _apiKey = "";
    private string _signingKey = "";
    private string _functionKey = "";
    private string _functionKeyFile = "";
    private string _a = "";
    private string _b = "";
    private MailgunFake.FakeAccount _account = null!;
    private readonly List<string> _secrets = [];

    [SetUp]
    public void NewAccount()
    {
        _id = TestTenants.NewId("loc");
        _apiKey = "acct-api-key-" + Guid.NewGuid().ToString("N");
        _signingKey = TestTenants.NewSigningKey();
        _functionKey = "fn-key-" + Guid.NewGuid().ToString("N");
        _a = _id + "-a.example.com";
        _b = _id + "-b.example.com";
        _account = Mailgun.AddAccount(_apiKey, _signingKey, _a, _b);
        _functionKeyFile = Path.Combine(Work, "function.key");
        File.WriteAllText(_functionKeyFile, _functionKey + "\n");
        _secrets.Clear();
        _secrets.AddRange([_apiKey, _signingKey, _functionKey, TestSettings.ApiKey]);
    }

    private string EventsUrl => $"{AppUrl}/api/mailgun/{_id}/events?code={_functionKey}";

    private string InboundUrl => $"{AppUrl}/api/mailgun/{_id}/inbound?code={_functionKey}";

    private string RouteDescription => $"mailgun-functions replies for tenant {_id}";

    /// <summary>Runs a tenant command without <c>--api-key</c> on its command line; the output must hold no secret.</summary>
    private async Task<OpsRun> TenantAsync(string? stdin, params string[] args)
    {
        var run = await RunAsync(["tenant", .. args], apiKey: "", stdin: stdin);
        AssertNoSecret(run);
        return run;
    }

    private Task<OpsRun> ConnectAsync(string? apiKey = null, params string[] extra) =>
        TenantAsync(apiKey ?? _apiKey, ["connect", "--tenant", _id, "--domain", _a, "--domain", _b, "--app-url", AppUrl, "--function-key-file", _functionKeyFile, "--json", .. extra]);

    private void AssertNoSecret(OpsRun run)
    {
        // The account's current signing key too (a rotation makes a new one); each plain, URL-encoded, base64 and as a Basic value.
        Assert.That(SecretForms.FoundIn(run.Stdout + run.Stderr, _secrets.Append(_account.SigningKey)), Is.Empty, $"a secret was printed:\n{run}");
    }

    private async Task<Tenant?> StoredAsync()
    {
        await using var services = TestSettings.Services(TestSettings.Configuration(Storage), (s, c) => s.AddMailgunCore(c), TimeProvider.System);
        return await services.GetRequiredService<TenantRegistry>().GetAsync(_id, CancellationToken.None);
    }

    private async Task<List<TenantAuditRecord>> AuditAsync()
    {
        await using var services = TestSettings.Services(TestSettings.Configuration(Storage), (s, c) => s.AddMailgunCore(c), TimeProvider.System);
        var records = new List<TenantAuditRecord>();
        await foreach (var record in services.GetRequiredService<TenantRegistry>().AuditTrailAsync(_id, CancellationToken.None))
        {
            records.Add(record);
        }

        return records;
    }

    private int Writes() => Mailgun.Requests.Count(r => r.Method is "POST" or "PUT" or "DELETE");

    private JObject? OurRoute() => Mailgun.RoutesOf(_account).SingleOrDefault(r => (string?)r["description"] == RouteDescription);

    [Test]
    public async Task ConnectChecksTheKeyStoresItSealedSetsUpMailgunAndARerunChangesNothing()
    {
        Mailgun.SetWebhooks(_a, new Dictionary<string, string[]> { ["clicked"] = [OtherIntegration] });

        var first = await ConnectAsync();
        int writesAfterFirst = Writes();
        var second = await ConnectAsync();

        Assert.That(first.ExitCode, Is.EqualTo(0), first.ToString());
        var stored = await StoredAsync();
        var route = OurRoute();
        Assert.Multiple(() =>
        {
            Assert.That((string?)first.Json["state"], Is.EqualTo("connected"));
            Assert.That((bool?)first.Json["registryChanged"], Is.True);
            Assert.That((string?)first.Json["eventsUrl"], Is.EqualTo($"{AppUrl}/api/mailgun/{_id}/events?code=***"), "the tenant's URL, its function key masked");
            Assert.That((string?)first.Json["inboundUrl"], Is.EqualTo($"{AppUrl}/api/mailgun/{_id}/inbound?code=***"));
            foreach (string domain in new[] { _a, _b })
            {
                var hooks = Mailgun.Webhooks(domain);
                foreach (string hook in MailgunSetup.Subscribed(engagementEvents: false))
                {
                    Assert.That(hooks[hook], Does.Contain(EventsUrl), $"{domain} {hook}");
                }

                Assert.That(hooks.GetValueOrDefault("opened") ?? [], Does.Not.Contain(EventsUrl), $"{domain}: engagement events are off by default");
            }

            Assert.That(Mailgun.Webhooks(_a)["clicked"], Is.EqualTo(new[] { OtherIntegration }), "another integration's URL is kept, ours not added");
            Assert.That(route, Is.Not.Null, "one reply route for the tenant");
            Assert.That((string?)route!["expression"], Does.Contain(_a.Replace(".", "\\.", StringComparison.Ordinal)).And.Contain(_b.Replace(".", "\\.", StringComparison.Ordinal)));
            Assert.That(route["actions"]!.Select(a => (string?)a), Is.EqualTo(new[] { $"forward(\"{InboundUrl}\")", "stop()" }));
            Assert.That(stored, Is.Not.Null);
            Assert.That(stored!.State, Is.EqualTo(TenantState.Connected));
            Assert.That(stored.ApiKey, Is.EqualTo(_apiKey));
            Assert.That(stored.CurrentSigningKey?.Secret, Is.EqualTo(_signingKey), "the account's signing key, read through Mailgun's API");
            Assert.That(stored.Domains.Select(d => d.Name), Is.EquivalentTo(new[] { _a, _b }));
            Assert.That(stored.AppUrl?.AbsoluteUri, Is.EqualTo(AppUrl + "/"), "the app URL, never the function key");

            Assert.That(second.ExitCode, Is.EqualTo(0), second.ToString());
            Assert.That((bool?)second.Json["registryChanged"], Is.False);
            Assert.That((bool?)second.Json["mailgunChanged"], Is.False);
            Assert.That(Writes(), Is.EqualTo(writesAfterFirst), "a second run writes nothing at Mailgun");
        });

        // At rest the secrets are sealed: the raw row holds neither key, nor does any audit record.
        var row = (await new TableClient(Storage, StorageNames.TenantsTable).GetEntityAsync<TableEntity>(_id, "")).Value;
        string raw = string.Join("\n", row.Select(p => $"{p.Key}={p.Value}"));
        string audit = string.Join("\n", (await AuditAsync()).Select(r => $"{r.Actor} {r.Action} {r.Detail}"));
        Assert.Multiple(() =>
        {
            Assert.That(raw, Does.Not.Contain(_apiKey).And.Not.Contain(_signingKey).And.Not.Contain(_functionKey));
            Assert.That(audit, Does.Contain("connect").And.Contain("mailgun-setup"));
            Assert.That(audit, Does.Not.Contain(_apiKey).And.Not.Contain(_signingKey).And.Not.Contain(_functionKey));
        });
    }

    [Test]
    public async Task AWrongKeyOrAnUnknownDomainStoresNothingAndChangesNothingAtMailgun()
    {
        var wrongKey = await ConnectAsync(apiKey: "not-the-accounts-key-" + Guid.NewGuid().ToString("N"));
        var otherAccountsDomain = await TenantAsync(_apiKey, "connect", "--tenant", _id, "--domain", Domain, "--app-url", AppUrl, "--function-key-file", _functionKeyFile);
        var onTheCommandLine = await RunAsync(["tenant", "connect", "--tenant", _id, "--domain", _a, "--app-url", AppUrl, "--function-key-file", _functionKeyFile], apiKey: _apiKey);
        var empty = await TenantAsync("\n\n", "connect", "--tenant", _id, "--domain", _a, "--app-url", AppUrl, "--function-key-file", _functionKeyFile);
        var stored = await StoredAsync();

        Assert.Multiple(() =>
        {
            Assert.That(wrongKey.ExitCode, Is.EqualTo(ExitCodes.Remote), wrongKey.ToString());
            Assert.That(wrongKey.Stderr, Does.Contain("refused the API key").And.Contain("nothing was stored"));
            Assert.That(otherAccountsDomain.ExitCode, Is.EqualTo(ExitCodes.NotFound), otherAccountsDomain.ToString());
            Assert.That(otherAccountsDomain.Stderr, Does.Contain($"no domain '{Domain}'").And.Contain("Nothing was stored"));
            Assert.That(onTheCommandLine.ExitCode, Is.EqualTo(ExitCodes.Usage), onTheCommandLine.ToString());
            Assert.That(onTheCommandLine.Stderr, Does.Contain("never takes the API key on the command line"));
            Assert.That(empty.ExitCode, Is.EqualTo(ExitCodes.Usage), empty.ToString());
            Assert.That(stored, Is.Null, "nothing stored");
            Assert.That(Writes(), Is.Zero, "nothing written at Mailgun");
            Assert.That(Mailgun.RoutesOf(_account), Is.Empty);
        });
    }

    [Test]
    public async Task AnOutageMidWayLeavesTheTenantConnectingAndARerunCompletesIt()
    {
        // Domain a's webhooks are set, then Mailgun fails on domain b's: the route was not reached.
        Mailgun.Fail(_b, "webhooks", afterPages: 0, HttpStatusCode.InternalServerError, times: 1);
        var failed = await ConnectAsync();
        var afterFailure = await StoredAsync();
        var hooksOfA = Mailgun.Webhooks(_a);
        bool routeAfterFailure = OurRoute() is not null;

        var rerun = await ConnectAsync();
        var completed = await StoredAsync();

        Assert.Multiple(() =>
        {
            Assert.That(failed.ExitCode, Is.EqualTo(ExitCodes.Remote), failed.ToString());
            Assert.That(failed.Stderr, Does.Contain($"webhooks of {_b}").And.Contain("running the same command again"));
            Assert.That(afterFailure?.State, Is.EqualTo(TenantState.Connecting), "stored, but not yet connected");
            Assert.That(afterFailure?.CurrentSigningKey?.Secret, Is.EqualTo(_signingKey), "its events already verify");
            Assert.That(hooksOfA["complained"], Is.EqualTo(new[] { EventsUrl }));
            Assert.That(routeAfterFailure, Is.False);

            Assert.That(rerun.ExitCode, Is.EqualTo(0), rerun.ToString());
            Assert.That(completed?.State, Is.EqualTo(TenantState.Connected));
            Assert.That(Mailgun.Webhooks(_b)["complained"], Is.EqualTo(new[] { EventsUrl }));
            Assert.That(OurRoute(), Is.Not.Null);
            Assert.That(Mailgun.Webhooks(_a)["complained"], Is.EqualTo(new[] { EventsUrl }), "not doubled by the rerun");
        });
    }

    [Test]
    public async Task MailgunFailingAtTheKeyStoresNothingAndAtTheRouteARerunCompletes()
    {
        Mailgun.Fail("account", "http_signing_key", afterPages: 0, HttpStatusCode.ServiceUnavailable, times: 1);
        var failed = await ConnectAsync();
        var afterKeyFailure = await StoredAsync();
        int writesAfterKeyFailure = Writes();
        Mailgun.Fail("account", "routes", afterPages: 0, HttpStatusCode.InternalServerError, times: 1);
        var routeFailed = await ConnectAsync();
        var rerun = await ConnectAsync();
        var stored = await StoredAsync();

        Assert.Multiple(() =>
        {
            Assert.That(failed.ExitCode, Is.EqualTo(ExitCodes.Remote), failed.ToString());
            Assert.That(failed.Stderr, Does.Contain("Nothing was stored"));
            Assert.That(afterKeyFailure, Is.Null);
            Assert.That(writesAfterKeyFailure, Is.Zero);
            Assert.That(routeFailed.ExitCode, Is.EqualTo(ExitCodes.Remote), routeFailed.ToString());
            Assert.That(routeFailed.Stderr, Does.Contain("reply route"));
            Assert.That(rerun.ExitCode, Is.EqualTo(0), rerun.ToString());
            Assert.That(stored?.State, Is.EqualTo(TenantState.Connected));
            Assert.That(OurRoute(), Is.Not.Null);
        });
    }

    [Test]
    public async Task RotationMakesTheNewKeyCurrentAndKeepsTheOldOneForMailgunsRetries()
    {
        Assert.That((await ConnectAsync()).ExitCode, Is.EqualTo(0));
        Mailgun.Fail("account", "http_signing_key", afterPages: 0, HttpStatusCode.InternalServerError, times: 1);
        var outage = await TenantAsync(null, "rotate-signing-key", "--tenant", _id, "--json");
        var unchanged = await StoredAsync();

        var rotated = await TenantAsync(null, "rotate-signing-key", "--tenant", _id, "--json");
        string newKey = _account.SigningKey;
        var stored = await StoredAsync();
        var show = await TenantAsync(null, "show", "--tenant", _id, "--json");
        var again = await TenantAsync(null, "rotate-signing-key", "--tenant", _id, "--fetch", "--json");

        string oldId = unchanged!.CurrentSigningKey!.Id;
        Assert.Multiple(() =>
        {
            Assert.That(outage.ExitCode, Is.EqualTo(ExitCodes.Remote), outage.ToString());
            Assert.That(outage.Stderr, Does.Contain("nothing was changed").IgnoreCase);
            Assert.That(unchanged.SigningKeys.Select(k => k.Secret), Is.EqualTo(new[] { _signingKey }));

            Assert.That(rotated.ExitCode, Is.EqualTo(0), rotated.ToString());
            Assert.That(newKey, Is.Not.EqualTo(_signingKey), "Mailgun made a new key");
            Assert.That(stored!.CurrentSigningKey?.Secret, Is.EqualTo(newKey));
            Assert.That(stored.SigningKeys.Single(k => k.Id == oldId).RetiredAt, Is.Not.Null, "the old key is retired, not dropped");
            Assert.That(rotated.Json["retiredKeys"]!.Select(k => (string?)k), Is.EqualTo(new[] { oldId }));
            Assert.That((DateTimeOffset?)rotated.Json["retiredKeysVerifyUntil"], Is.GreaterThan(DateTimeOffset.UtcNow.AddHours(1)), "Mailgun's retries with the old signature still verify");

            var keys = (JArray)show.Json["signingKeys"]!;
            Assert.That(keys.Single(k => (string?)k["id"] == oldId)["verifies"]!.Value<bool>(), Is.True);
            Assert.That(keys.Single(k => (bool)k["current"]!)["id"]!.ToString(), Is.EqualTo(stored.CurrentSigningKey!.Id));

            Assert.That(again.ExitCode, Is.EqualTo(0), again.ToString());
            Assert.That((bool?)again.Json["changed"], Is.False, "fetching the key already stored changes nothing");
        });
    }

    [Test]
    public async Task DisconnectRemovesOnlyOurWebhooksAndRouteKeepsTheSigningKeysAndARerunAfterAnOutageCompletes()
    {
        Mailgun.SetWebhooks(_a, new Dictionary<string, string[]> { ["clicked"] = [OtherIntegration] });
        Assert.That((await ConnectAsync()).ExitCode, Is.EqualTo(0));
        Assert.That((await TenantAsync(null, "disconnect", "--tenant", "nobody-" + _id)).ExitCode, Is.EqualTo(ExitCodes.NotFound));

        Mailgun.Fail(_b, "webhooks", afterPages: 0, HttpStatusCode.InternalServerError, times: 1);
        var failed = await TenantAsync(null, "disconnect", "--tenant", _id, "--json");
        var afterFailure = await StoredAsync();

        var done = await TenantAsync(null, "disconnect", "--tenant", _id, "--json");
        var stored = await StoredAsync();
        var again = await TenantAsync(null, "disconnect", "--tenant", _id, "--json");

        Assert.Multiple(() =>
        {
            Assert.That(failed.ExitCode, Is.EqualTo(ExitCodes.Remote), failed.ToString());
            Assert.That(failed.Stderr, Does.Contain("still connected").And.Contain("running the same command again"));
            Assert.That(afterFailure?.State, Is.EqualTo(TenantState.Connected));
            Assert.That(afterFailure?.ApiKey, Is.EqualTo(_apiKey), "the key is kept until Mailgun's side is clean, so a rerun can finish");

            Assert.That(done.ExitCode, Is.EqualTo(0), done.ToString());
            Assert.That(Mailgun.Webhooks(_a), Is.EqualTo(new Dictionary<string, string[]> { ["clicked"] = [OtherIntegration] }), "only the other integration's URL is left");
            Assert.That(Mailgun.Webhooks(_b), Is.Empty);
            Assert.That(OurRoute(), Is.Null);
            Assert.That(stored!.State, Is.EqualTo(TenantState.Disconnected));
            Assert.That(stored.ApiKey, Is.Null, "the API key is forgotten");
            Assert.That(stored.CurrentSigningKey?.Secret, Is.EqualTo(_signingKey), "kept: Mailgun still retries events signed with it");
            Assert.That(stored.Domains.Select(d => d.Name), Is.EquivalentTo(new[] { _a, _b }), "the domains stay the tenant's (and so does its DND)");

            Assert.That(again.ExitCode, Is.EqualTo(0), again.ToString());
            Assert.That((bool?)again.Json["registryChanged"], Is.False);
        });
    }

    [Test]
    public async Task DomainsAreAddedAndRemovedOnBothSidesAndADomainBelongsToOneTenant()
    {
        string c = _id + "-c.example.com";
        Mailgun.AddDomain(_account, c);
        Assert.That((await TenantAsync(_apiKey, "connect", "--tenant", _id, "--domain", _a, "--app-url", AppUrl, "--function-key-file", _functionKeyFile)).ExitCode, Is.EqualTo(0));

        var added = await TenantAsync(null, "add-domain", "--tenant", _id, "--domain", c, "--function-key-file", _functionKeyFile, "--json");
        // Another location with the same Mailgun account may not claim it.
        var taken = await TenantAsync(_apiKey, "connect", "--tenant", "other" + _id, "--domain", c, "--skip-mailgun-setup");
        var removed = await TenantAsync(null, "remove-domain", "--tenant", _id, "--domain", _a, "--json");
        var stored = await StoredAsync();
        string expression = (string)OurRoute()!["expression"]!;

        Assert.Multiple(() =>
        {
            Assert.That(added.ExitCode, Is.EqualTo(0), added.ToString());
            Assert.That(Mailgun.Webhooks(c)["unsubscribed"], Is.EqualTo(new[] { EventsUrl }));
            Assert.That(taken.ExitCode, Is.EqualTo(ExitCodes.Refused), taken.ToString());
            Assert.That(taken.Stderr, Does.Contain(_id));
            Assert.That(removed.ExitCode, Is.EqualTo(0), removed.ToString());
            Assert.That(Mailgun.Webhooks(_a), Is.Empty, "our URLs left the removed domain's webhooks");
            Assert.That(expression, Does.Contain(c.Replace(".", "\\.", StringComparison.Ordinal)).And.Not.Contain(_a.Replace(".", "\\.", StringComparison.Ordinal)));
            Assert.That(stored!.Domains.Select(d => d.Name), Is.EqualTo(new[] { c }));
        });
    }

    [Test]
    public async Task ListShowSetAuditAndParentNeverPrintASecret()
    {
        string parentKey = "parent-api-key-" + Guid.NewGuid().ToString("N");
        string parentSigningKey = TestTenants.NewSigningKey();
        _secrets.AddRange([parentKey, parentSigningKey]);
        Mailgun.AddAccount(parentKey, parentSigningKey);
        string parentId = "p" + _id;
        Assert.That((await ConnectAsync()).ExitCode, Is.EqualTo(0));

        var parent = await TenantAsync(parentKey, "parent", "add", "--id", parentId, "--json");
        var parentText = await TenantAsync(null, "parent", "show", "--id", parentId);
        var set = await TenantAsync(null, "set", "--tenant", _id, "--parent-account", parentId, "--name", "Downtown", "--json");
        var unknownParent = await TenantAsync(null, "set", "--tenant", _id, "--parent-account", "nobody");
        var list = await TenantAsync(null, "list", "--json");
        var listText = await TenantAsync(null, "list");
        var show = await TenantAsync(null, "show", "--tenant", _id);
        var audit = await TenantAsync(null, "audit", "--tenant", _id, "--json");

        Assert.Multiple(() =>
        {
            Assert.That(parent.ExitCode, Is.EqualTo(0), parent.ToString());
            Assert.That((string?)parent.Json["apiKey"], Is.EqualTo("set"));
            Assert.That(parentText.Stdout, Does.Contain(parentId));
            Assert.That(set.ExitCode, Is.EqualTo(0), set.ToString());
            Assert.That((string?)set.Json["parentAccount"], Is.EqualTo(parentId));
            Assert.That(unknownParent.ExitCode, Is.EqualTo(ExitCodes.NotFound), unknownParent.ToString());
            var mine = list.JsonLines.Single(l => (string?)l["tenant"] == _id);
            Assert.That((string?)mine["apiKey"], Is.EqualTo("set"));
            Assert.That((string?)mine["name"], Is.EqualTo("Downtown"));
            Assert.That(listText.Stdout, Does.Contain(_id));
            Assert.That(show.Stdout, Does.Contain("sealed with key-encryption key k1").And.Contain($"/api/mailgun/{_id}/events?code=***"));
            Assert.That(audit.JsonLines.Select(l => (string?)l["action"]), Does.Contain("connect").And.Contain("set").And.Contain("mailgun-setup"));
            Assert.That(audit.JsonLines.Select(l => (string?)l["actor"]), Has.All.StartWith("cli:"));
        });
    }

    [Test]
    public async Task TheNotificationEndpointIsSetWithItsSecretFromAFileAndNeitherIsShown()
    {
        string secret = "notify-secret-" + Guid.NewGuid().ToString("N") + "-0123456789";
        string token = "QTOKEN" + Guid.NewGuid().ToString("N");
        _secrets.AddRange([secret, token]);
        string secretFile = Path.Combine(Work, "notify.secret");
        File.WriteAllText(secretFile, secret + "\n");
        Assert.That((await ConnectAsync()).ExitCode, Is.EqualTo(0));
        string url = $"https://platform.example.net/hooks/dnd?token={token}";

        var withoutSecret = await TenantAsync(null, "set", "--tenant", _id, "--notification-url", url);
        var plainHttp = await TenantAsync(null, "set", "--tenant", _id, "--notification-url", "http://platform.example.net/hooks", "--notification-secret-file", secretFile);
        var set = await TenantAsync(null, "set", "--tenant", _id, "--notification-url", url, "--notification-secret-file", secretFile);
        var stored = await StoredAsync();
        var show = await TenantAsync(null, "show", "--tenant", _id);
        var audit = await TenantAsync(null, "audit", "--tenant", _id);
        var stop = await TenantAsync(null, "set", "--tenant", _id, "--notification-url", "none");
        var stopped = await StoredAsync();

        Assert.Multiple(() =>
        {
            Assert.That(withoutSecret.ExitCode, Is.EqualTo(ExitCodes.Usage), withoutSecret.ToString());
            Assert.That(withoutSecret.Stderr, Does.Contain("--notification-secret-file"));
            Assert.That(plainHttp.ExitCode, Is.EqualTo(ExitCodes.Usage), plainHttp.ToString());
            Assert.That(set.ExitCode, Is.EqualTo(0), set.ToString());
            Assert.That(stored!.Notifications, Is.EqualTo(new TenantNotifications(new Uri(url), secret)));
            Assert.That(show.Stdout, Does.Contain("https://platform.example.net/hooks/dnd?token=***").And.Contain("(secret set)"));
            Assert.That(audit.Stdout, Does.Contain("notification secret"));
            Assert.That(stop.ExitCode, Is.EqualTo(0), stop.ToString());
            Assert.That(stopped!.Notifications, Is.Null);
        });
    }
}
