using System.Globalization;
using Azure.Storage.Blobs;
using MailgunFunctions.Dnd;
using MailgunFunctions.Export;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.MailgunApi;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Export;

/// <summary>
/// The reconciliation end to end, as the nightly export runs it: the Mailgun fake (real HTTP) and Azurite (real
/// Blob and Table clients, the app's own registration). Each test uses its own tenant in the registry with its own domain,
/// so DND partitions, blobs and ExportRuns rows of other tests never match.
/// </summary>
public class SuppressionReconcilerTests : ExportTestBed
{
    private string _tenant = null!;
    private string _domain = null!;

    [SetUp]
    public async Task NewTenant()
    {
        _tenant = TestTenants.NewId("rec");
        _domain = _tenant + ".example.com";
        await using var services = Services();
        await TestTenants.RegisterAsync(services, _tenant, TestTenants.NewSigningKey(), [_domain]);
    }

    private ServiceProvider Services(string maxDndKeys = "1000000", CapturedLogs? logs = null, string? reviewWebhook = null)
    {
        var settings = ApiTestServices.Settings(Us, Eu);
        settings["SuppressionExport:ReviewWebhookUrl"] = reviewWebhook;
        settings["Tenants:KeyEncryptionKeys:k1"] = TestSettings.KeyEncryptionKey;
        settings["MailgunApi:SuppressionPageSize"] = "2";
        settings["SuppressionReconciliation:MaxDndKeysInMemory"] = maxDndKeys;
        return ApiTestServices.Build(Storage, settings, logs);
    }

    private void Host(IEnumerable<JObject> bounces, IEnumerable<JObject> complaints, IEnumerable<JObject> unsubscribes, IEnumerable<JObject> allowlist) =>
        HostLists(Us, _domain, bounces, complaints, unsubscribes, allowlist);

    private void HostMixedDomain() => Host(
        bounces:
        [
            // Not alphabetical on purpose: nothing may depend on Mailgun's order.
            ApiTestServices.Bounce("zed@example.net", "550", "550 5.1.1 No such user"),
            ApiTestServices.Bounce("=cmd|' /C calc'!A0@example.net", 554, "554 5.7.1 Rejected"),
            ApiTestServices.Bounce("Already@Example.net", "550"),
            ApiTestServices.Bounce("allowed@example.net", "550"),
            ApiTestServices.Bounce("anyone@partner.example", "550"),
        ],
        complaints: [ApiTestServices.Complaint("angry@example.net")],
        unsubscribes: [ApiTestServices.Unsubscribe("gone@example.net", "*"), ApiTestServices.Unsubscribe("news-only@example.net", "newsletter")],
        allowlist: [ApiTestServices.Allow("allowed@example.net"), ApiTestServices.Allow("partner.example", type: "domain"), ApiTestServices.Allow("vip@example.net")]);

    private async Task SeedOwnDndAsync(DndStore dnd)
    {
        // DND here through our own unsubscribe link: one also on Mailgun's bounces, one Mailgun has never heard of.
        await dnd.ApplyAsync(_tenant, "already@example.net", DndChange.PlatformUnsubscribe(new DateTimeOffset(2025, 5, 1, 0, 0, 0, TimeSpan.Zero), "link-1"), CancellationToken.None);
        await dnd.ApplyAsync(_tenant, "ours-only@example.net", DndChange.PlatformUnsubscribe(new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero), "link-2"), CancellationToken.None);
    }

    private Task<string?> ReadBlob(string file) => ReadExportBlob($"{_tenant}/{_domain}/2026-11-26/{file}");

    private static async Task<List<DndHistoryRecord>> History(DndStore dnd, string tenant, string address)
    {
        var records = new List<DndHistoryRecord>();
        await foreach (var r in dnd.HistoryAsync(tenant, address, CancellationToken.None))
        {
            records.Add(r);
        }

        return records;
    }

    private static string[] Lines(string csv) => csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);

    [TestCase("1000000", TestName = "Reconciliation both ways with the DND map in memory")]
    [TestCase("0", TestName = "Reconciliation both ways with point reads (no DND map)")]
    public async Task Mailgun_suppressions_become_DND_and_our_DND_missing_at_Mailgun_is_listed_for_review(string maxDndKeys)
    {
        HostMixedDomain();
        var logs = new CapturedLogs();
        await using var services = Services(maxDndKeys, logs);
        var dnd = services.GetRequiredService<DndStore>();
        await SeedOwnDndAsync(dnd);

        var summary = await services.GetRequiredService<SuppressionExport>().ExportDomainAsync(new ExportScope(_tenant, _domain), Day, CancellationToken.None);

        async Task<DndStatus> State(string address) => (await dnd.GetStatusAsync(_tenant, address, CancellationToken.None)).Status;
        var bounce = await History(dnd, _tenant, "zed@example.net");
        Assert.Multiple(async () =>
        {
            Assert.That(summary.Reconciliation, Is.EqualTo("done"));
            Assert.That(summary.ReconciliationCounts, Does.ContainKey("applied").WithValue(5));
            Assert.That(summary.ReconciliationCounts, Does.ContainKey("already-dnd").WithValue(1));
            Assert.That(summary.ReconciliationCounts, Does.ContainKey("review").WithValue(1));
            Assert.That(summary.ReconciliationCounts, Does.ContainKey("allowlisted").WithValue(2));
            Assert.That(summary.ReconciliationCounts, Does.ContainKey("tag-scoped-unsubscribes").WithValue(1));
            Assert.That(summary.ReconciliationCounts, Does.ContainKey("dnd-entries").WithValue(7));
            Assert.That(summary.ReconciliationCounts!["point-reads"], maxDndKeys == "0" ? Is.EqualTo(6) : Is.Zero);

            Assert.That((await State("zed@example.net")).State, Is.EqualTo(DndState.Permanent));
            Assert.That((await State("zed@example.net")).Reason, Is.EqualTo("mailgun-suppression-bounces"));
            Assert.That((await State("=cmd|' /C calc'!A0@example.net")).State, Is.EqualTo(DndState.Permanent));
            Assert.That((await State("angry@example.net")).State, Is.EqualTo(DndState.Locked), "a complaint at Mailgun locks");
            Assert.That((await State("gone@example.net")).State, Is.EqualTo(DndState.Permanent));
            Assert.That((await State("news-only@example.net")).State, Is.EqualTo(DndState.Permanent), "an unsubscribe from one tag only is a DND too");
            Assert.That(await dnd.GetAsync(_tenant, "allowed@example.net", CancellationToken.None), Is.Null, "allowlisted address never DND");
            Assert.That(await dnd.GetAsync(_tenant, "anyone@partner.example", CancellationToken.None), Is.Null, "allowlisted domain never DND");
            Assert.That(await dnd.GetAsync(_tenant, "vip@example.net", CancellationToken.None), Is.Null, "an allowlist entry is not a suppression");
            Assert.That((await State("ours-only@example.net")).State, Is.EqualTo(DndState.Permanent), "review items are never changed");
            Assert.That((await dnd.GetAsync(_tenant, "already@example.net", CancellationToken.None))!.LatestPermanentCause!.Label, Is.EqualTo("platform-unsubscribe"),
                "an address already DND is not written");

            Assert.That(bounce, Has.Count.EqualTo(1));
            Assert.That(bounce[0].Source, Is.EqualTo(DndChangeSource.MailgunSuppression));
            Assert.That(bounce[0].Category, Is.EqualTo("hard-bounce"));
            Assert.That(bounce[0].Code, Is.EqualTo(550));
            Assert.That(bounce[0].Message, Is.EqualTo("550 5.1.1 No such user"));
            Assert.That(bounce[0].At, Is.EqualTo(new DateTimeOffset(2021, 1, 1, 10, 0, 0, TimeSpan.Zero)), "Mailgun's created_at");
            Assert.That(bounce[0].NewState, Is.EqualTo(DndState.Permanent));
            Assert.That(logs.Entries.Count(e => e.Text.Contains($"Suppression export summary {_tenant}/{_domain}", StringComparison.Ordinal)
                && e.Text.Contains("reconciliation done (applied 5, already DND 1, review 1)", StringComparison.Ordinal)), Is.EqualTo(1));
        });

        string review = (await ReadBlob("review-dnd-not-in-mailgun.csv"))!;
        Assert.That(Lines(review), Is.EqualTo(new[]
        {
            "address,state,reasons,since,until,last_event,last_event_at",
            "\"ours-only@example.net\",\"permanent\",\"platform-unsubscribe (unsubscribe)\",\"2025-06-01T00:00:00.000Z\",,,",
        }));
    }

    [Test]
    public async Task The_DND_export_has_every_entry_with_its_state_now_and_neutralised_cells()
    {
        HostMixedDomain();
        await using var services = Services();
        var dnd = services.GetRequiredService<DndStore>();
        await SeedOwnDndAsync(dnd);

        await services.GetRequiredService<SuppressionExport>().ExportDomainAsync(new ExportScope(_tenant, _domain), Day, CancellationToken.None);

        string csv = (await ReadBlob("dnd.csv"))!;
        var lines = Lines(csv);
        Assert.Multiple(async () =>
        {
            Assert.That(lines[0], Is.EqualTo("address,state,reasons,since,until,last_event,last_event_at"));
            Assert.That(lines, Has.Length.EqualTo(8), "seven entries: five applied, two of our own");
            // Addresses are stored normalised (lower case); the leading '=' gets the quote of SuppressionCsv's rule.
            Assert.That(lines, Does.Contain("\"'=cmd|' /c calc'!a0@example.net\",\"permanent\",\"mailgun-suppression-bounces (hard-bounce)\",\"2021-01-01T10:00:00.000Z\",,,"));
            Assert.That(lines, Does.Contain("\"angry@example.net\",\"locked\",\"complaint\",\"2021-01-02T10:00:00.000Z\",,,"));
            Assert.That(lines, Does.Contain("\"already@example.net\",\"permanent\",\"platform-unsubscribe (unsubscribe)\",\"2025-05-01T00:00:00.000Z\",,,"));
            Assert.That(csv, Does.Not.Contain("\n=").And.Not.Contain(",=").And.Not.Contain("\"="));
            Assert.That(await ReadBlob("_partial/dnd.csv"), Is.Null, "the partial file is gone once committed");
        });
    }

    [Test]
    public async Task The_report_has_the_counts_per_list_and_code_the_reconciliation_and_the_review_items()
    {
        HostMixedDomain();
        await using var services = Services();
        await SeedOwnDndAsync(services.GetRequiredService<DndStore>());

        await services.GetRequiredService<SuppressionExport>().ExportDomainAsync(new ExportScope(_tenant, _domain), Day, CancellationToken.None);

        string report = (await ReadBlob("report.md"))!;
        Assert.That(report, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(report, Does.Contain($"# Suppression export {_domain} (tenant {_tenant}) 2026-11-26"));
            Assert.That(report, Does.Contain("| bounces | 5 | – | – |"));
            Assert.That(report, Does.Contain("| complaints | 1 |"));
            Assert.That(report, Does.Contain("| 550 | 4 |"));
            Assert.That(report, Does.Contain("| 554 | 1 |"));
            Assert.That(report, Does.Contain("(`applied`) | 5 |"));
            Assert.That(report, Does.Contain("(`already-dnd`) | 1 |"));
            Assert.That(report, Does.Contain("(`review`) | 1 |"));
            Assert.That(report, Does.Contain("| ours-only@example.net | permanent |"));
        });
    }

    [Test]
    public async Task The_nightly_review_is_logged_measured_and_posted_once_per_tenant_domain_and_date()
    {
        HostMixedDomain();
        var posts = new System.Collections.Concurrent.ConcurrentQueue<JObject>();
        await using var webhook = await LoopbackServer.StartAsync(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            posts.Enqueue(JObject.Parse(await reader.ReadToEndAsync()));
            context.Response.StatusCode = 200;
        });
        var logs = new CapturedLogs();
        await using var services = Services(logs: logs, reviewWebhook: new Uri(webhook.BaseUrl, "review").AbsoluteUri);
        await SeedOwnDndAsync(services.GetRequiredService<DndStore>());
        var measured = new System.Collections.Concurrent.ConcurrentQueue<(long Value, Dictionary<string, object?> Tags)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "mailgun.export.review")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) => measured.Enqueue((value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value))));
        listener.Start();

        var export = services.GetRequiredService<SuppressionExport>();
        await export.ExportDomainAsync(new ExportScope(_tenant, _domain), Day, CancellationToken.None);
        await export.ExportDomainAsync(new ExportScope(_tenant, _domain), Day, CancellationToken.None);

        var post = posts.Single();
        Assert.Multiple(() =>
        {
            Assert.That((string?)post["kind"], Is.EqualTo("nightly-review"));
            Assert.That((string?)post["tenant"], Is.EqualTo(_tenant));
            Assert.That((string?)post["domain"], Is.EqualTo(_domain));
            Assert.That((string?)post["date"], Is.EqualTo("2026-11-26"));
            Assert.That((long?)post["toReview"], Is.EqualTo(1), "ours-only@example.net is DND here and on no list of Mailgun's");
            Assert.That((long?)post["appliedFromMailgun"], Is.EqualTo(5));
            Assert.That((string?)post["report"], Is.EqualTo($"{_tenant}/{_domain}/2026-11-26/report.md"));
            Assert.That((string?)post["text"], Does.Contain(_tenant).And.Contain("1 DND entries"));
            var reviewEvents = logs.Events.Where(e => e.EventId == 7030).ToList();
            Assert.That(reviewEvents, Has.Count.EqualTo(1), "the rerun of a complete date says nothing again");
            Assert.That(reviewEvents[0].Text, Does.Contain(_tenant).And.Contain(_domain).And.Contain("1 DND entries here not suppressed by Mailgun"));
            Assert.That(logs.Events.Where(e => e.EventId == 7031), Is.Empty);
            var ours = measured.Where(m => Equals(m.Tags["tenant"], _tenant)).ToDictionary(m => (string)m.Tags["kind"]!, m => m.Value);
            Assert.That(ours, Is.EqualTo(new Dictionary<string, long> { ["to_review"] = 1, ["applied"] = 5, ["new_at_mailgun"] = 0 }));
        });
    }

    [Test]
    public async Task A_review_webhook_that_fails_is_logged_and_the_export_still_completes()
    {
        HostMixedDomain();
        int calls = 0;
        await using var webhook = await LoopbackServer.StartAsync(context =>
        {
            Interlocked.Increment(ref calls);
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        });
        var logs = new CapturedLogs();
        await using var services = Services(logs: logs, reviewWebhook: new Uri(webhook.BaseUrl, "review").AbsoluteUri);

        var summary = await services.GetRequiredService<SuppressionExport>().ExportDomainAsync(new ExportScope(_tenant, _domain), Day, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(summary, Is.Not.Null);
            Assert.That(calls, Is.EqualTo(1));
            Assert.That(logs.Events.Single(e => e.EventId == 7031).Text, Does.Contain("HTTP 500").And.Contain(_tenant));
        });
        Assert.That(await ReadBlob("report.md"), Is.Not.Null, "the report is written whatever the webhook answers");
    }

    [Test]
    public async Task A_rerun_of_the_same_date_changes_nothing_and_writes_no_second_history_record()
    {
        HostMixedDomain();
        await using var services = Services();
        var dnd = services.GetRequiredService<DndStore>();
        var export = services.GetRequiredService<SuppressionExport>();
        await export.ExportDomainAsync(new ExportScope(_tenant, _domain), Day, CancellationToken.None);
        var entryBefore = await dnd.GetAsync(_tenant, "angry@example.net", CancellationToken.None);

        // As if the run died after the summary: the report is missing, so the domain is not complete and runs again.
        await Exports().GetBlobClient($"{_tenant}/{_domain}/2026-11-26/report.md").DeleteAsync();
        var rerun = await export.ExportDomainAsync(new ExportScope(_tenant, _domain), Day, CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(rerun.ReconciliationCounts, Does.ContainKey("applied").WithValue(0));
            Assert.That(rerun.ReconciliationCounts, Does.ContainKey("already-dnd").WithValue(6), "the five applied and our own");
            Assert.That(await History(dnd, _tenant, "angry@example.net"), Has.Count.EqualTo(1));
            Assert.That(await History(dnd, _tenant, "zed@example.net"), Has.Count.EqualTo(1));
            Assert.That(await dnd.GetAsync(_tenant, "angry@example.net", CancellationToken.None), Is.EqualTo(entryBefore));
            Assert.That(await ReadBlob("report.md"), Does.Contain("(`applied`) | 0 |"));
        });
    }

    [Test]
    public async Task An_operator_re_enable_after_Mailgun_suppressed_the_address_stands_on_every_night()
    {
        Host(bounces: [ApiTestServices.Bounce("back@example.net", "550")], complaints: [], unsubscribes: [], allowlist: []);
        await using var services = Services();
        var dnd = services.GetRequiredService<DndStore>();
        await dnd.ReenableAsync(_tenant, "back@example.net", "ops@example.com", "mailbox fixed, Mailgun entry to be removed", adminOverride: false, CancellationToken.None);
        var export = services.GetRequiredService<SuppressionExport>();

        var first = await export.ExportDomainAsync(new ExportScope(_tenant, _domain), Day, CancellationToken.None);
        var second = await export.ExportDomainAsync(new ExportScope(_tenant, _domain), Day.AddDays(1), CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(first.ReconciliationCounts, Does.ContainKey("cleared-here").WithValue(1));
            Assert.That(second.ReconciliationCounts, Does.ContainKey("cleared-here").WithValue(1));
            Assert.That(second.ReconciliationCounts, Does.ContainKey("applied").WithValue(0));
            Assert.That((await dnd.GetStatusAsync(_tenant, "back@example.net", CancellationToken.None)).Status.State, Is.EqualTo(DndState.None));
            Assert.That((await History(dnd, _tenant, "back@example.net")).Select(h => h.Source),
                Is.EquivalentTo(new[] { DndChangeSource.Operator, DndChangeSource.MailgunSuppression }), "one record of Mailgun's entry over both nights");
        });
    }

    [Test]
    public void The_change_of_a_Mailgun_record_has_a_stable_key_per_list_address_and_created_at()
    {
        var at = new DateTimeOffset(2021, 1, 1, 10, 0, 0, TimeSpan.Zero);
        var a = DndChange.FromMailgunSuppression("bounces", "X@Example.net", at, "Fri, 01 Jan 2021 10:00:00 UTC", "550", "no");
        var same = DndChange.FromMailgunSuppression("bounces", "x@example.net ", at, "Fri, 01 Jan 2021 10:00:00 UTC", "550", "no");
        var later = DndChange.FromMailgunSuppression("bounces", "x@example.net", at, "Sat, 02 Jan 2021 10:00:00 UTC", "550", "no");
        var complaint = DndChange.FromMailgunSuppression("complaints", "x@example.net", at, "Fri, 01 Jan 2021 10:00:00 UTC");
        Assert.Multiple(() =>
        {
            Assert.That(same.Key, Is.EqualTo(a.Key));
            Assert.That(later.Key, Is.Not.EqualTo(a.Key));
            Assert.That(complaint.Key, Is.Not.EqualTo(a.Key));
            Assert.That(complaint.Kind, Is.EqualTo(DndChangeKind.Complaint));
            Assert.That(DndChange.FromMailgunSuppression("bounces", "x@example.net", at, null, "5.1.1").EnhancedCode, Is.EqualTo("5.1.1"));
            Assert.Throws<ArgumentOutOfRangeException>(() => DndChange.FromMailgunSuppression("whitelists", "x@example.net", at, null));
        });
    }

    [Test]
    public void The_Mailgun_filter_never_forgets_an_added_address_and_rarely_claims_a_missing_one()
    {
        var filter = new AddressBloomFilter(10_000, 0.001);
        for (int i = 0; i < 10_000; i++)
        {
            filter.Add(AddressHash.Of($"in{i}@example.net"));
        }

        int missing = Enumerable.Range(0, 10_000).Count(i => !filter.MightContain(AddressHash.Of($"in{i}@example.net")));
        int falsePositives = Enumerable.Range(0, 100_000).Count(i => filter.MightContain(AddressHash.Of($"out{i}@example.net")));
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"filter {filter.SizeBytes} bytes, false positives {falsePositives} of 100000"));
        Assert.Multiple(() =>
        {
            Assert.That(missing, Is.Zero);
            Assert.That(falsePositives, Is.LessThan(300), "about 0.1 % expected");
            Assert.That(filter.SizeBytes, Is.LessThan(20_000));
        });
    }
}
