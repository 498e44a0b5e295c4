using MailgunFunctions.Dnd;
using MailgunFunctions.Export;
using MailgunFunctions.Processing;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.MailgunApi;
using MailgunFunctions.Tests.Processing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Export;

/// <summary>
/// Mailgun unsubscribes that name tags (an unsubscribes list entry with tags other than "*", an unsubscribed event with
/// tags) get one rule wherever they arrive: a permanent DND of the address, with the tags in its history.
/// </summary>
public class TagScopedUnsubscribeTests : ExportTestBed
{
    private string _tenant = null!;
    private string _domain = null!;
    private ServiceProvider _services = null!;

    [SetUp]
    public async Task NewTenant()
    {
        _tenant = TestTenants.NewId("tags");
        _domain = _tenant + ".example.com";
        var settings = ApiTestServices.Settings(Us, Eu);
        settings["Tenants:KeyEncryptionKeys:k1"] = TestSettings.KeyEncryptionKey;
        _services = ApiTestServices.Build(Storage, settings);
        await TestTenants.RegisterAsync(_services, _tenant, TestTenants.NewSigningKey(), [_domain]);
    }

    [TearDown]
    public async Task Dispose() => await _services.DisposeAsync();

    private async Task<(DndState State, DndHistoryRecord Record)> Outcome(string address)
    {
        var store = _services.GetRequiredService<DndStore>();
        var (_, status) = await store.GetStatusAsync(_tenant, address, CancellationToken.None);
        return (status.State, (await store.HistoryAsync(_tenant, address, CancellationToken.None).ToListAsync()).Single());
    }

    [Test]
    public async Task A_tag_scoped_entry_of_Mailguns_unsubscribes_list_is_a_permanent_DND_naming_its_tags()
    {
        HostLists(Us, _domain, unsubscribes: [ApiTestServices.Unsubscribe("news-only@example.net", "newsletter", "offers")]);

        var summary = await _services.GetRequiredService<SuppressionExport>().ExportDomainAsync(new ExportScope(_tenant, _domain), Day, CancellationToken.None);

        var (state, record) = await Outcome("news-only@example.net");
        Assert.Multiple(() =>
        {
            Assert.That(state, Is.EqualTo(DndState.Permanent));
            Assert.That(record.Explanation, Does.Contain("newsletter, offers").And.Contain("whatever its tags"));
            Assert.That(summary.ReconciliationCounts, Does.ContainKey("applied").WithValue(1));
            Assert.That(summary.ReconciliationCounts, Does.ContainKey("tag-scoped-unsubscribes").WithValue(1), "still counted, for people reading the report");
        });
    }

    [Test]
    public async Task An_unsubscribed_event_with_tags_is_the_same_permanent_DND_naming_its_tags()
    {
        var unsubscribed = SignedWebhook.Simple("unsubscribed", "news-only@example.net", DateTimeOffset.UtcNow.AddMinutes(-1), domain: _domain);
        unsubscribed["tags"] = new JArray("newsletter", "offers");

        await _services.GetRequiredService<EventProcessor>().ProcessAsync(ProcessingHarness.Envelope(unsubscribed), 1, CancellationToken.None);

        var (state, record) = await Outcome("news-only@example.net");
        Assert.That(state, Is.EqualTo(DndState.Permanent));
        Assert.That(record.Explanation, Does.Contain("newsletter, offers").And.Contain("whatever its tags"));
    }
}
