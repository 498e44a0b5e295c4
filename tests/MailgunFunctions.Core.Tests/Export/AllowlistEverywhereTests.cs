using MailgunFunctions.Dnd;
using MailgunFunctions.Export;
using MailgunFunctions.Inbound;
using MailgunFunctions.Processing;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.MailgunApi;
using MailgunFunctions.Tests.Processing;
using Microsoft.Extensions.DependencyInjection;

namespace MailgunFunctions.Tests.Export;

/// <summary>
/// Mailgun's allowlist (addresses and whole domains) keeps an address off its bounce list. The rule must hold wherever a
/// bounce reaches us, not only in the nightly reconciliation: a webhook bounce and a bounce report sent to the reply
/// address of an allowlisted address set no DND, and the history says why. The allowlist comes from the nightly export.
/// </summary>
public class AllowlistEverywhereTests : ExportTestBed
{
    private string _tenant = null!;
    private string _domain = null!;
    private ServiceProvider _services = null!;

    [SetUp]
    public async Task ExportTheAllowlist()
    {
        _tenant = TestTenants.NewId("allow");
        _domain = _tenant + ".example.com";
        HostLists(Us, _domain, allowlist: [ApiTestServices.Allow("VIP@example.net"), ApiTestServices.Allow("partner.example", type: "domain")]);
        var settings = ApiTestServices.Settings(Us, Eu);
        settings["Tenants:KeyEncryptionKeys:k1"] = TestSettings.KeyEncryptionKey;
        _services = ApiTestServices.Build(Storage, settings);
        await TestTenants.RegisterAsync(_services, _tenant, TestTenants.NewSigningKey(), [_domain]);
        await _services.GetRequiredService<SuppressionExport>().ExportDomainAsync(new ExportScope(_tenant, _domain), Day, CancellationToken.None);
    }

    [TearDown]
    public async Task Dispose() => await _services.DisposeAsync();

    private async Task<(DndState State, List<DndHistoryRecord> History)> Outcome(string address)
    {
        var store = _services.GetRequiredService<DndStore>();
        var (_, status) = await store.GetStatusAsync(_tenant, address, CancellationToken.None);
        return (status.State, await store.HistoryAsync(_tenant, address, CancellationToken.None).ToListAsync());
    }

    [TestCase("vip@example.net", TestName = "A webhook hard bounce of an allowlisted address sets no DND")]
    [TestCase("anyone@partner.example", TestName = "A webhook hard bounce of an address in an allowlisted domain sets no DND")]
    public async Task A_webhook_bounce_of_an_allowlisted_address_is_recorded_but_not_applied(string address)
    {
        var processor = _services.GetRequiredService<EventProcessor>();
        var result = await processor.ProcessAsync(ProcessingHarness.Envelope(SignedWebhook.Failed(address, DateTimeOffset.UtcNow.AddMinutes(-5), domain: _domain)), 1, CancellationToken.None);
        await processor.ProcessAsync(ProcessingHarness.Envelope(SignedWebhook.Failed(address, DateTimeOffset.UtcNow.AddMinutes(-4), code: 452,
            message: "4.2.2 mailbox full", severity: "temporary", reason: "generic", domain: _domain)), 1, CancellationToken.None);

        var (state, history) = await Outcome(address);
        Assert.Multiple(() =>
        {
            Assert.That(result.Outcome, Is.EqualTo(EventOutcome.Processed));
            Assert.That(state, Is.EqualTo(DndState.None), "neither the hard nor the soft bounce applies");
            Assert.That(history, Has.Count.EqualTo(2), "both bounces are in the history");
            Assert.That(history.Select(h => (h.PreviousState, h.NewState)), Is.All.EqualTo((DndState.None, DndState.None)));
            Assert.That(history.Select(h => h.Explanation), Is.All.Contain("allowlist"));
        });
    }

    [Test]
    public async Task A_bounce_of_an_address_not_on_the_allowlist_still_applies()
    {
        await _services.GetRequiredService<EventProcessor>().ProcessAsync(
            ProcessingHarness.Envelope(SignedWebhook.Failed("someone@example.net", DateTimeOffset.UtcNow.AddMinutes(-5), domain: _domain)), 1, CancellationToken.None);
        Assert.That((await Outcome("someone@example.net")).State, Is.EqualTo(DndState.Permanent));
    }

    [Test]
    public async Task A_bounce_report_sent_to_the_reply_address_for_an_allowlisted_address_sets_no_dnd()
    {
        await _services.GetRequiredService<IReplyDndActions>().ApplyHardBounceFromDsnAsync(_tenant, "vip@example.net", "5.1.1", "550 5.1.1 user unknown",
            "mailgun-inbound:" + new string('a', 64), DateTimeOffset.UtcNow, CancellationToken.None);

        var (state, history) = await Outcome("vip@example.net");
        Assert.That(state, Is.EqualTo(DndState.None));
        Assert.That(history.Single().Explanation, Does.Contain("allowlist"));
    }

    [Test]
    public async Task A_complaint_of_an_allowlisted_address_still_locks_it()
    {
        await _services.GetRequiredService<EventProcessor>().ProcessAsync(
            ProcessingHarness.Envelope(SignedWebhook.Simple("complained", "vip@example.net", DateTimeOffset.UtcNow.AddMinutes(-5), domain: _domain)), 1, CancellationToken.None);
        Assert.That((await Outcome("vip@example.net")).State, Is.EqualTo(DndState.Locked), "a complaint is the contact's own wish");
    }
}
