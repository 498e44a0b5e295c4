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
}
