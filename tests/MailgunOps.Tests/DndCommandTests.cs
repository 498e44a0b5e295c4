using MailgunFunctions;
using MailgunFunctions.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunOps.Tests;

[NonParallelizable]
public sealed class DndCommandTests : OpsHarness
{
    [Test]
    public async Task GetShowsEntryAndHistoryNewestFirst()
    {
        await ReplayAsync(
            SignedWebhook.Failed("ann@example.org", Recent(30), domain: Domain),
            SignedWebhook.Simple("complained", "ann@example.org", Recent(5), domain: Domain));

        var run = await RunAsync("dnd", "get", "Ann@Example.org", "--domain", Domain, "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        var json = run.Json;
        Assert.That((string?)json["entry"]!["state"], Is.EqualTo("locked"));
        Assert.That((string?)json["entry"]!["contactId"], Is.EqualTo("c-123"));
        var history = (JArray)json["history"]!;
        Assert.That(history, Has.Count.EqualTo(2));
        Assert.That((string?)history[0]["kind"], Is.EqualTo("complaint"), "newest first");
        Assert.That((string?)history[1]["category"], Is.EqualTo("hard-bounce"));
    }

    [Test]
    public async Task Beside_the_local_apps_settings_file_the_cli_finds_the_single_account_tenant_the_app_wrote_to()
    {
        // The local flow of docs/running-locally.md: the app runs with local.settings.json (a signing key, no API key) and
        // applies a sample event of a domain no tenant registered to its single-account tenant; the CLI run beside it reads
        // the same file. A unique single-account tenant id keeps this test's rows apart on the shared Azurite.
        string single = TestTenants.NewId("s"), domain = single + ".example.com", address = $"ann.{Guid.NewGuid():N}@example.org";
        string settings = Path.Combine(Work, "local.settings.json");
        File.WriteAllText(settings, new JObject
        {
            ["IsEncrypted"] = false,
            ["Values"] = new JObject { ["Mailgun__SigningKeys__primary"] = TestSettings.SigningKey, ["Mailgun__ApiKey"] = "", ["Tenants__DefaultTenantId"] = single },
        }.ToString());
        string events = WriteLines(SignedWebhook.Failed(address, Recent(), domain: domain));

        var without = await RunAsync(["dnd", "get", address, "--domain", domain, "--settings", Path.Combine(Work, "missing.json")], apiKey: "");
        var replay = await RunAsync(["replay", "--file", events, "--domain", domain, "--settings", settings, "--json"], apiKey: "");
        var get = await RunAsync(["dnd", "get", address, "--domain", domain, "--settings", settings, "--json"], apiKey: "");

        Assert.Multiple(() =>
        {
            Assert.That(without.ExitCode, Is.EqualTo(ExitCodes.NotFound), without.ToString());
            Assert.That(without.Stderr, Does.Contain("belongs to no tenant").And.Contain("--settings"), "the error says where the single-account settings come from");
            Assert.That(replay.ExitCode, Is.EqualTo(0), replay.ToString());
            Assert.That(get.ExitCode, Is.EqualTo(0), get.ToString());
        });
        Assert.Multiple(() =>
        {
            Assert.That((string?)get.Json["entry"]!["tenant"], Is.EqualTo(single));
            Assert.That((string?)get.Json["entry"]!["state"], Is.EqualTo("permanent"));
        });
    }

    [Test]
    public async Task GetWithoutTenantFindsEveryTenantOfTheAddress()
    {
        string other = TestTenants.NewId("o"), otherDomain = other + ".example.com", address = $"bob.{Guid.NewGuid():N}@example.org";
        await using (var services = TestSettings.Services(TestSettings.Configuration(Storage), (s, c) => s.AddMailgunCore(c), TimeProvider.System))
        {
            await TestTenants.RegisterAsync(services, other, TestTenants.NewSigningKey(), [otherDomain]);
        }

        // Replayed without a tenant: each event's sending domain names its tenant.
        await ReplayAsync(SignedWebhook.Failed(address, Recent(), domain: Domain), SignedWebhook.Failed(address, Recent(), domain: otherDomain));

        var run = await RunAsync("dnd", "get", address, "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        var tenants = ((JArray)run.Json["entries"]!).Select(e => (string?)e["entry"]!["tenant"]).ToList();
        Assert.That(tenants, Is.EquivalentTo(new[] { Tenant, other }));
    }

    [Test]
    public async Task GetOfUnknownAddressExitsNotFound()
    {
        var run = await RunAsync("dnd", "get", "nobody@example.org", "--domain", Domain);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.NotFound), run.ToString());
        Assert.That(run.Stderr, Does.Contain("no DND entry"));
    }

    [Test]
    public async Task ListStreamsEntriesFilteredByStateNow()
    {
        await ReplayAsync(
            SignedWebhook.Failed("hard@example.org", Recent(), domain: Domain),
            SignedWebhook.Simple("complained", "spam@example.org", Recent(), domain: Domain),
            SignedWebhook.Simple("delivered", "fine@example.org", Recent(), domain: Domain));

        var all = await RunAsync("dnd", "list", "--domain", Domain, "--all", "--json");
        var locked = await RunAsync("dnd", "list", "--domain", Domain, "--state", "locked", "--json");
        var table = await RunAsync("dnd", "list", "--domain", Domain, "--state", "permanent");

        Assert.That(all.JsonLines.Select(l => (string?)l["address"]), Is.EquivalentTo(new[] { "hard@example.org", "spam@example.org", "fine@example.org" }));
        Assert.That(locked.JsonLines.Select(l => (string?)l["address"]), Is.EqualTo(new[] { "spam@example.org" }));
        Assert.That(table.Stdout, Does.Contain("hard@example.org").And.Not.Contain("spam@example.org").And.Contain("ADDRESS"));
    }

    [Test]
    public async Task ListRejectsAnUnknownState()
    {
        var run = await RunAsync("dnd", "list", "--domain", Domain, "--state", "sleepy");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.Stderr, Does.Contain("sleepy"));
    }

    [Test]
    public async Task EnableRemovesFromMailgunListsAndClearsTheDnd()
    {
        await ReplayAsync(SignedWebhook.Failed("carl@example.org", Recent(), domain: Domain));
        HostLists("carl@example.org");
        Dns.Mx("example.org", "mx.example.org");

        int sent = Mailgun.Requests.Count;
        var run = await RunAsync("dnd", "enable", "carl@example.org", "--domain", Domain, "--note", "mailbox fixed, ticket 42", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That((string?)run.Json["previous"], Is.EqualTo("permanent"));
        Assert.That((string?)run.Json["current"], Is.EqualTo("none"));
        // Mailgun's side, from the fake's request log: one DELETE per list, each answered 200, and the lists no longer hold it.
        var deletes = Mailgun.Requests.Skip(sent).Where(r => r.Method == "DELETE").ToList();
        Assert.That(deletes.Select(r => (r.RawTarget.Split('/')[3], r.Status)), Is.EquivalentTo(new[] { ("bounces", 200), ("unsubscribes", 200), ("complaints", 200) }));
        foreach (string list in new[] { "bounces", "unsubscribes", "complaints" })
        {
            Assert.That(Mailgun.ListContains(Domain, list, "carl@example.org"), Is.False, list);
        }

        Assert.That((bool?)run.Json["mailgunRemoved"]!["complaints"], Is.True, "the output says what was removed");
        var get = await RunAsync("dnd", "get", "carl@example.org", "--domain", Domain, "--json");
        Assert.That((string?)get.Json["history"]![0]!["explanation"], Does.Contain("ticket 42"));
    }

    [Test]
    public async Task EnableAcceptsADomainWithOnlyAnARecord()
    {
        await ReplayAsync(SignedWebhook.Failed("dee@a-only.example", Recent(), domain: Domain));
        HostLists("dee@a-only.example");
        Dns.A("a-only.example", "192.0.2.10");

        var run = await RunAsync("dnd", "enable", "dee@a-only.example", "--domain", Domain, "--note", "checked");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
    }

    [Test]
    public async Task EnableRefusesALockedEntryWithoutTouchingMailgun()
    {
        await ReplayAsync(SignedWebhook.Simple("complained", "eve@example.org", Recent(), domain: Domain));
        HostLists("eve@example.org");
        Dns.Mx("example.org", "mx.example.org");

        var run = await RunAsync("dnd", "enable", "eve@example.org", "--domain", Domain, "--note", "asked nicely");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Refused), run.ToString());
        Assert.That(run.Stderr, Does.Contain("locked").And.Contain("--override-complaint"));
        Assert.That(Mailgun.Requests.Where(r => r.Method == "DELETE"), Is.Empty);
        Assert.That(Mailgun.ListContains(Domain, "complaints", "eve@example.org"), Is.True);
    }

    [Test]
    public async Task EnableWithOverrideClearsALock()
    {
        await ReplayAsync(SignedWebhook.Simple("complained", "fay@example.org", Recent(), domain: Domain));
        HostLists("fay@example.org");
        Dns.Mx("example.org", "mx.example.org");

        var run = await RunAsync("dnd", "enable", "fay@example.org", "--domain", Domain, "--note", "renewed consent form 7", "--override-complaint", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That((string?)run.Json["current"], Is.EqualTo("none"));
        Assert.That(Mailgun.ListContains(Domain, "complaints", "fay@example.org"), Is.False);
    }

    [TestCase("gus@nowhere.example", "does not exist")]
    [TestCase("gus@empty.example", "no MX, A or AAAA")]
    [TestCase("gus@nullmx.example", "null MX")]
    public async Task EnableRefusesAnAddressThatCannotReceiveMail(string address, string reason)
    {
        await ReplayAsync(SignedWebhook.Failed(address, Recent(), domain: Domain));
        HostLists(address);
        Dns.Txt("empty.example", "v=spf1 -all");
        Dns.Mx("nullmx.example", ".", 0);

        var run = await RunAsync("dnd", "enable", address, "--domain", Domain, "--note", "x");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Refused), run.ToString());
        Assert.That(run.Stderr, Does.Contain(reason));
        Assert.That(Mailgun.Requests.Where(r => r.Method == "DELETE"), Is.Empty);
    }

    [Test]
    public async Task EnableRefusesBadSyntax()
    {
        var run = await RunAsync("dnd", "enable", "not an address", "--domain", Domain, "--note", "x");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.NotFound).Or.EqualTo(ExitCodes.Refused), run.ToString());
        await ReplayAsync(SignedWebhook.Failed("h@b@example.org", Recent(), domain: Domain));
        var known = await RunAsync("dnd", "enable", "h@b@example.org", "--domain", Domain, "--note", "x");
        Assert.That(known.ExitCode, Is.EqualTo(ExitCodes.Refused), known.ToString());
        Assert.That(known.Stderr, Does.Contain("not a valid email address"));
    }

    [Test]
    public async Task EnableWithABadApiKeyFailsWithMailgunsRefusal()
    {
        await ReplayAsync(SignedWebhook.Failed("ida@example.org", Recent(), domain: Domain));
        HostLists("ida@example.org");
        Dns.Mx("example.org", "mx.example.org");

        var run = await RunAsync(["dnd", "enable", "ida@example.org", "--domain", Domain, "--note", "x"], apiKey: "wrong-key");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Remote), run.ToString());
        Assert.That(run.Stderr, Does.Contain("refused the API key"));
        var get = await RunAsync("dnd", "get", "ida@example.org", "--domain", Domain, "--json");
        Assert.That((string?)get.Json["entry"]!["state"], Is.EqualTo("permanent"), "nothing cleared when Mailgun failed");
    }

    [Test]
    public async Task EnableWhenMailgunIsDownFails()
    {
        await ReplayAsync(SignedWebhook.Failed("jo@example.org", Recent(), domain: Domain));
        Dns.Mx("example.org", "mx.example.org");
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var down = new Uri($"http://127.0.0.1:{((System.Net.IPEndPoint)closed.LocalEndpoint).Port}/");
        closed.Stop();

        var run = await RunAsync(["dnd", "enable", "jo@example.org", "--domain", Domain, "--note", "x"], mailgunUrl: down);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Remote), run.ToString());
        Assert.That(run.Stderr, Does.Contain("could not be reached"));
    }

    [Test]
    public async Task StatsCountStatesReasonsAndSenderIssues()
    {
        await ReplayAsync(
            SignedWebhook.Failed("k1@example.org", Recent(), domain: Domain),
            SignedWebhook.Failed("k2@example.org", Recent(), domain: Domain),
            SignedWebhook.Simple("complained", "k3@example.org", Recent(), domain: Domain),
            SignedWebhook.Failed("k4@example.org", Recent(), code: 550, message: "5.7.26 This message does not pass authentication checks (SPF and DKIM both do not pass).", domain: Domain));

        var run = await RunAsync("dnd", "stats", "--domain", Domain, "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That((long?)run.Json["byState"]!["permanent"], Is.EqualTo(2));
        Assert.That((long?)run.Json["byState"]!["locked"], Is.EqualTo(1));
        Assert.That((long?)run.Json["byReason"]!["complaint"], Is.EqualTo(1));
        Assert.That((long?)run.Json["newLastDay"], Is.EqualTo(3));
        Assert.That((long?)run.Json["senderIssuesLastDay"]!["total"], Is.EqualTo(1));
    }

    [Test]
    public async Task StorageDownExitsWithAStorageError()
    {
        var run = await RunAsync(["dnd", "get", "x@example.org", "--domain", Domain], storage: Azurite.Unreachable());

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Storage), run.ToString());
        Assert.That(run.Stderr, Does.StartWith("error: storage"));
    }

    [TestCase("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=not*base64*SECRETPART;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;QueueEndpoint=http://127.0.0.1:1/devstoreaccount1;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;", TestName = "A storage key that is not base64 is a configuration error, not a crash")]
    [TestCase("AccountName=devstoreaccount1;AccountKey=SECRETPART", TestName = "A connection string missing its parts is a configuration error, not a crash")]
    [TestCase("this is not a connection string SECRETPART", TestName = "Text that is no connection string is a configuration error, not a crash")]
    public async Task AMalformedConnectionStringExitsWithAConfigurationError(string connectionString)
    {
        var run = await RunAsync(["dnd", "get", "x@example.org", "--domain", Domain], storage: connectionString);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Configuration), run.ToString());
        Assert.That(run.Stderr, Does.StartWith("error: configuration").And.Contain("AzureWebJobsStorage"));
        Assert.That(run.Stdout + run.Stderr, Does.Not.Contain("SECRETPART").And.Not.Contain("   at "), "no key, no stack trace");
    }

    [Test]
    public async Task AWrongAccountKeySaysAuthenticationFailed()
    {
        // The test storage's own endpoints with another (well-formed) key.
        string wrongKey = Convert.ToBase64String(Guid.NewGuid().ToByteArray().Concat(Guid.NewGuid().ToByteArray()).ToArray());
        string connectionString = System.Text.RegularExpressions.Regex.Replace(Storage, "AccountKey=[^;]*", "AccountKey=" + wrongKey);

        var run = await RunAsync(["dnd", "get", "x@example.org", "--domain", Domain], storage: connectionString);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Storage), run.ToString());
        Assert.That(run.Stderr, Does.StartWith("error: storage: authentication failed").And.Contain("AzureWebJobsStorage"));
        Assert.That(run.Stdout + run.Stderr, Does.Not.Contain(wrongKey));
    }

    private void HostLists(string address)
    {
        Mailgun.SetList(Domain, "bounces", [new JObject { ["address"] = address, ["code"] = "550", ["error"] = "x", ["created_at"] = "Mon, 01 Jan 2024 00:00:00 UTC" }]);
        Mailgun.SetList(Domain, "unsubscribes", [new JObject { ["address"] = address, ["tags"] = new JArray("*"), ["created_at"] = "Mon, 01 Jan 2024 00:00:00 UTC" }]);
        Mailgun.SetList(Domain, "complaints", [new JObject { ["address"] = address, ["created_at"] = "Mon, 01 Jan 2024 00:00:00 UTC" }]);
    }
}
