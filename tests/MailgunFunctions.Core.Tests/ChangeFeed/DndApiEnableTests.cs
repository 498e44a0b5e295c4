using System.Text;
using MailgunFunctions.Api;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Dnd;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.Dnd;
using MailgunFunctions.Tests.Export;
using MailgunFunctions.Tests.MailgunApi;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.ChangeFeed;

/// <summary>
/// The platform's <c>POST /api/dnd/{tenant}/{address}/enable</c> doing the whole documented re-enable: the address is deleted
/// from the tenant's Mailgun suppression lists (a real HTTP fake), validated against DNS (a real UDP responder), and the DND
/// cleared, recorded as <c>api:&lt;operator&gt;</c> with the note and announced with the next version.
/// </summary>
[NonParallelizable]
public class DndApiEnableTests : ExportTestBed
{
    private TestDnsServer _dns = null!;
    private ServiceProvider _services = null!;
    private string _tenant = null!;
    private string _domain = null!;

    [SetUp]
    public async Task SetUp()
    {
        _dns = new TestDnsServer();
        _tenant = TestTenants.NewId("en");
        _domain = _tenant + ".example.com";
        var settings = ApiTestServices.Settings(Us, Eu);
        settings["Tenants:KeyEncryptionKeys:k1"] = TestSettings.KeyEncryptionKey;
        // The address check asks this test's DNS responder, not the machine's.
        _services = ApiTestServices.Build(Storage, settings, extra: s => s.AddSingleton(new MailAddressCheck(_dns.EndPoint)));
        await TestTenants.RegisterAsync(_services, _tenant, TestTenants.NewSigningKey(), [_domain]);
    }

    [TearDown]
    public async Task TearDown()
    {
        await _services.DisposeAsync();
        await _dns.DisposeAsync();
    }

    private static Stream Body(string json) => new MemoryStream(Encoding.UTF8.GetBytes(json));

    private Task<ApiResponse> EnableAsync(string address, string json) =>
        _services.GetRequiredService<DndApi>().EnableAsync(_tenant, address, Body(json), null, "application/json", $"/api/dnd/{_tenant}/{address}/enable", default);

    [Test]
    public async Task Enable_deletes_from_Mailgun_validates_and_clears_the_DND_with_the_operator_in_the_history()
    {
        string address = $"ann.{Guid.NewGuid():N}@mail.example.org";
        _dns.Mx("mail.example.org", "mx.mail.example.org");
        var store = _services.GetRequiredService<DndStore>();
        await store.ApplyAsync(_tenant, address, DndTestEvents.Hard(DateTimeOffset.UtcNow.AddHours(-1)), default);
        Us.SetList(_domain, "bounces", [ApiTestServices.Bounce(address, 550)]);

        var response = await EnableAsync(address, "{\"operator\":\"ann.ops\",\"note\":\"the contact asked by phone\"}");
        var body = JObject.Parse(response.Body);
        var (_, status) = await store.GetStatusAsync(_tenant, address, default);
        var history = await store.HistoryAsync(_tenant, address, default).ToListAsync();
        var (_, announced, _) = await store.GetAnnouncedAsync(_tenant, address, default);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(200), response.Body);
            Assert.That(((string?)body["previous"], (string?)body["current"]), Is.EqualTo(("permanent", "none")));
            Assert.That((bool?)body["mailgunRemoved"]!["bounces"], Is.True, "deleted from Mailgun's bounce list");
            Assert.That(Us.ListContains(_domain, "bounces", address), Is.False);
            Assert.That(status.State, Is.EqualTo(DndState.None));
            Assert.That(history[0].Actor, Is.EqualTo("api:ann.ops"));
            Assert.That(history[0].Explanation + history[0].Message, Does.Contain("the contact asked by phone"));
            Assert.That((announced.Version, (long?)body["version"]), Is.EqualTo((2L, (long?)2)), "announced with the next version");
        });
    }

    [Test]
    public async Task Enable_of_an_address_whose_domain_takes_no_mail_is_refused_and_changes_nothing()
    {
        string address = $"bob.{Guid.NewGuid():N}@nowhere.example";
        var store = _services.GetRequiredService<DndStore>();
        await store.ApplyAsync(_tenant, address, DndTestEvents.Hard(DateTimeOffset.UtcNow.AddHours(-1)), default);
        Us.SetList(_domain, "bounces", [ApiTestServices.Bounce(address, 550)]);

        var response = await EnableAsync(address, "{\"operator\":\"ann.ops\",\"note\":\"asked\"}");
        var (_, status) = await store.GetStatusAsync(_tenant, address, default);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.InRange(400, 499), response.Body);
            Assert.That(response.ContentType, Does.StartWith("application/problem+json"));
            Assert.That(status.State, Is.EqualTo(DndState.Permanent), "nothing cleared");
            Assert.That(Us.ListContains(_domain, "bounces", address), Is.True, "every refusal comes before any change at Mailgun");
        });
    }

    [Test]
    public async Task Enable_of_an_unsubscribed_contact_needs_overrideUnsubscribe_the_same_rule_as_the_CLI()
    {
        string address = $"uma.{Guid.NewGuid():N}@mail.example.org";
        _dns.Mx("mail.example.org", "mx.mail.example.org");
        var store = _services.GetRequiredService<DndStore>();
        await store.ApplyAsync(_tenant, address, DndChange.ManualBlock(DateTimeOffset.UtcNow.AddHours(-1), "cli:ann", "asked by phone"), default);
        Us.SetList(_domain, "unsubscribes", [new JObject { ["address"] = address, ["tags"] = new JArray("*"), ["created_at"] = "Mon, 01 Jan 2024 00:00:00 UTC" }]);

        var refused = await EnableAsync(address, "{\"operator\":\"ann.ops\",\"note\":\"asked\"}");
        bool listedAfterRefusal = Us.ListContains(_domain, "unsubscribes", address);
        var badFlag = await EnableAsync(address, "{\"operator\":\"ann.ops\",\"note\":\"asked\",\"overrideUnsubscribe\":\"yes\"}");
        var allowed = await EnableAsync(address, "{\"operator\":\"ann.ops\",\"note\":\"the contact asked again by letter\",\"overrideUnsubscribe\":true}");
        var (_, status) = await store.GetStatusAsync(_tenant, address, default);

        Assert.Multiple(() =>
        {
            Assert.That(refused.StatusCode, Is.EqualTo(409), refused.Body);
            Assert.That((string?)JObject.Parse(refused.Body)["type"], Does.EndWith("unsubscribed"), refused.Body);
            Assert.That(refused.Body, Does.Contain("overrideUnsubscribe"));
            Assert.That(listedAfterRefusal, Is.True, "a refusal comes before any change at Mailgun");
            Assert.That(badFlag.StatusCode, Is.EqualTo(400), badFlag.Body);
            Assert.That(allowed.StatusCode, Is.EqualTo(200), allowed.Body);
            Assert.That((bool?)JObject.Parse(allowed.Body)["overrideUnsubscribe"], Is.True);
            Assert.That(status.State, Is.EqualTo(DndState.None));
            Assert.That(Us.ListContains(_domain, "unsubscribes", address), Is.False);
        });
    }

    [Test]
    public async Task Enable_of_an_address_already_clear_changes_nothing_and_calls_no_one()
    {
        string address = $"cy.{Guid.NewGuid():N}@mail.example.org";
        var store = _services.GetRequiredService<DndStore>();
        await store.ApplyAsync(_tenant, address, DndTestEvents.Hard(DateTimeOffset.UtcNow.AddHours(-2)), default);
        await store.ReenableAsync(_tenant, address, "cli:ann", "fixed", adminOverride: false, default);
        var (_, before, _) = await store.GetAnnouncedAsync(_tenant, address, default);
        int requests = Us.Requests.Count;

        var response = await EnableAsync(address, "{\"operator\":\"ann.ops\",\"note\":\"again\"}");
        var (_, after, _) = await store.GetAnnouncedAsync(_tenant, address, default);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(200), response.Body);
            Assert.That((string?)JObject.Parse(response.Body)["outcome"], Is.EqualTo("already-clear"));
            Assert.That(Us.Requests.Count, Is.EqualTo(requests), "Mailgun is not called");
            Assert.That(after.Version, Is.EqualTo(before.Version), "nothing announced");
        });
    }

    private async Task UseMailgunValidationAsync()
    {
        // Before the API's first look at the tenant, so its cache reads the opt-in.
        var registry = _services.GetRequiredService<MailgunFunctions.Tenants.TenantRegistry>();
        var tenant = (await registry.GetAsync(_tenant, default))!;
        await registry.SaveAsync(tenant with { UseMailgunValidation = true }, "test", "set", default);
    }

    [Test]
    public async Task Enable_of_an_address_suppressed_only_at_Mailgun_deletes_it_there_and_says_nothing_was_cleared_here()
    {
        string address = $"ola.{Guid.NewGuid():N}@mail.example.org";
        _dns.Mx("mail.example.org", "mx.mail.example.org");
        Us.SetList(_domain, "bounces", [ApiTestServices.Bounce(address, 550)]);

        var response = await EnableAsync(address, "{\"operator\":\"ann.ops\",\"note\":\"bounced before the move\"}");
        var body = JObject.Parse(response.Body);
        var entry = await _services.GetRequiredService<DndStore>().GetAsync(_tenant, address, default);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(200), response.Body);
            Assert.That((string?)body["outcome"], Is.EqualTo("cleared-at-mailgun"));
            Assert.That((bool?)body["mailgunRemoved"]!["bounces"], Is.True);
            Assert.That((string?)body["validation"]!["validator"], Is.EqualTo("dns"));
            Assert.That(Us.ListContains(_domain, "bounces", address), Is.False);
            Assert.That(entry, Is.Null, "no DND entry is made for it");
        });
    }

    [Test]
    public async Task Enable_of_an_address_only_on_Mailguns_complaints_needs_overrideComplaint()
    {
        string address = $"pia.{Guid.NewGuid():N}@mail.example.org";
        _dns.Mx("mail.example.org", "mx.mail.example.org");
        Us.SetList(_domain, "complaints", [ApiTestServices.Complaint(address)]);

        var refused = await EnableAsync(address, "{\"operator\":\"ann.ops\",\"note\":\"asked\"}");
        bool listedAfterRefusal = Us.ListContains(_domain, "complaints", address);
        var allowed = await EnableAsync(address, "{\"operator\":\"ann.ops\",\"note\":\"renewed consent form 8\",\"overrideComplaint\":true}");

        Assert.Multiple(() =>
        {
            Assert.That(refused.StatusCode, Is.EqualTo(409), refused.Body);
            Assert.That((bool?)JObject.Parse(refused.Body)["onlyAtMailgun"], Is.True, refused.Body);
            Assert.That(listedAfterRefusal, Is.True);
            Assert.That(allowed.StatusCode, Is.EqualTo(200), allowed.Body);
            Assert.That(Us.ListContains(_domain, "complaints", address), Is.False);
        });
    }

    [Test]
    public async Task With_Mailgun_validation_do_not_send_is_refused_with_the_validator_and_Mailguns_reasons()
    {
        await UseMailgunValidationAsync();
        string address = $"rae.{Guid.NewGuid():N}@mail.example.org";
        _dns.Mx("mail.example.org", "mx.mail.example.org");
        var store = _services.GetRequiredService<DndStore>();
        await store.ApplyAsync(_tenant, address, DndTestEvents.Hard(DateTimeOffset.UtcNow.AddHours(-1)), default);
        Us.SetList(_domain, "bounces", [ApiTestServices.Bounce(address, 550)]);
        Us.SetValidation(address, "do_not_send", "high", "high_risk_domain", "long_term_disposable");

        var response = await EnableAsync(address, "{\"operator\":\"ann.ops\",\"note\":\"asked\"}");
        var body = JObject.Parse(response.Body);
        var (_, status) = await store.GetStatusAsync(_tenant, address, default);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(422), response.Body);
            Assert.That((string?)body["validation"]!["validator"], Is.EqualTo("mailgun"));
            Assert.That((string?)body["validation"]!["result"], Is.EqualTo("do_not_send"));
            Assert.That(body["validation"]!["reasons"]!.Values<string>(), Is.EqualTo(new[] { "high_risk_domain", "long_term_disposable" }));
            Assert.That((string?)body["detail"], Does.Contain("high_risk_domain"));
            Assert.That(Us.ValidationRequests(address), Is.EqualTo(1));
            Assert.That(status.State, Is.EqualTo(DndState.Permanent), "nothing cleared");
            Assert.That(Us.ListContains(_domain, "bounces", address), Is.True, "refused before any change at Mailgun");
        });
    }

    [Test]
    public async Task Mailgun_validation_failing_once_is_retried_and_failing_for_good_changes_nothing()
    {
        await UseMailgunValidationAsync();
        string once = $"sid.{Guid.NewGuid():N}@mail.example.org", always = $"tom.{Guid.NewGuid():N}@mail.example.org";
        var store = _services.GetRequiredService<DndStore>();
        foreach (string a in new[] { once, always })
        {
            await store.ApplyAsync(_tenant, a, DndTestEvents.Hard(DateTimeOffset.UtcNow.AddHours(-1)), default);
        }

        Us.SetList(_domain, "bounces", [ApiTestServices.Bounce(once, 550), ApiTestServices.Bounce(always, 550)]);
        Us.Fail("account", "validate", 0, System.Net.HttpStatusCode.ServiceUnavailable, times: 1);
        var retried = await EnableAsync(once, "{\"operator\":\"ann.ops\",\"note\":\"asked\"}");
        Us.Fail("account", "validate", 0, System.Net.HttpStatusCode.TooManyRequests, times: 100);
        var failed = await EnableAsync(always, "{\"operator\":\"ann.ops\",\"note\":\"asked\"}");
        var (_, status) = await store.GetStatusAsync(_tenant, always, default);

        Assert.Multiple(() =>
        {
            Assert.That(retried.StatusCode, Is.EqualTo(200), retried.Body);
            Assert.That(Us.ValidationRequests(once), Is.EqualTo(2), "the 503 was retried by the client's policy");
            Assert.That(failed.StatusCode, Is.EqualTo(502), failed.Body);
            Assert.That((string?)JObject.Parse(failed.Body)["type"], Does.EndWith("mailgun-validation-unavailable"));
            Assert.That(failed.Body, Does.Contain("Nothing was changed"));
            Assert.That(Us.ValidationRequests(always), Is.GreaterThan(1), "retried before giving up");
            Assert.That(status.State, Is.EqualTo(DndState.Permanent));
            Assert.That(Us.ListContains(_domain, "bounces", always), Is.True);
        });
    }

    [Test]
    public async Task Enable_of_an_address_neither_in_DND_nor_on_Mailguns_lists_is_404_after_asking_each_list()
    {
        string address = $"nobody.{Guid.NewGuid():N}@mail.example.org";
        // The domain is hosted, the address is on none of its lists.
        Us.SetList(_domain, "bounces", [ApiTestServices.Bounce("someone.else@mail.example.org", 550)]);
        int before = Us.Requests.Count;

        var response = await EnableAsync(address, "{\"operator\":\"ann\",\"note\":\"asked\"}");
        var asked = Us.Requests.Skip(before).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(404), response.Body);
            Assert.That((string?)JObject.Parse(response.Body)["type"], Is.EqualTo(ApiResponse.ProblemTypePrefix + "entry-not-found"));
            Assert.That((string?)JObject.Parse(response.Body)["detail"], Does.Contain("none of Mailgun's bounces, unsubscribes or complaints"));
            Assert.That(asked.Select(r => (r.Method, r.RawTarget.Split('/')[3], r.Status)),
                Is.EquivalentTo(new[] { ("GET", "bounces", 404), ("GET", "unsubscribes", 404), ("GET", "complaints", 404) }), "read only, one look-up per list");
        });
    }
}
