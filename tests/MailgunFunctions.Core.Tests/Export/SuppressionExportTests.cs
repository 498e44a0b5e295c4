using System.Net;
using Azure.Storage.Blobs;
using MailgunFunctions.Export;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.MailgunApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Export;

/// <summary>
/// The export end to end: the Mailgun fake (real HTTP, US and EU) and Azurite (real Blob and Table clients).
/// Each test uses its own domain names, so blobs and ExportRuns rows of other tests never match.
/// </summary>
public class SuppressionExportTests : ExportTestBed
{
    private string _run = null!;

    [SetUp]
    public void NewRun() => _run = Guid.NewGuid().ToString("N")[..8];

    private string Domain(string name) => $"{name}-{_run}.example.com";

    private ServiceProvider Services((string Name, string Region)[] domains, Action<Dictionary<string, string?>>? change = null, Action<IServiceCollection>? extra = null, CapturedLogs? logs = null)
    {
        var settings = ApiTestServices.Settings(Us, Eu, domains);
        settings["MailgunApi:SuppressionPageSize"] = "100";
        change?.Invoke(settings);
        return ApiTestServices.Build(Storage, settings, logs, extra);
    }


    private async Task<List<string>> BlobNames(string domain)
    {
        var names = new List<string>();
        await foreach (var item in Exports().GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix: "default/" + domain + "/", cancellationToken: default))
        {
            names.Add(item.Name);
        }

        return names;
    }

    private static string[] Lines(string csv) => csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);

    [Test]
    public async Task Run_exports_every_list_of_several_US_and_EU_domains_to_final_blobs_with_status_and_summary()
    {
        string a = Domain("a"), b = Domain("b"), eu = Domain("eu");
        HostLists(Us, a, bounces: ApiTestServices.Bounces(250), complaints: [ApiTestServices.Complaint("c1@example.net"), ApiTestServices.Complaint("c2@example.net")],
            unsubscribes: [ApiTestServices.Unsubscribe("u@example.net", "*")], allowlist: [ApiTestServices.Allow("vip@example.net")]);
        HostLists(Us, b, bounces: ApiTestServices.Bounces(5));
        HostLists(Eu, eu, bounces: ApiTestServices.Bounces(120, "eu.example"), complaints: [ApiTestServices.Complaint("ce@eu.example")]);
        var logs = new CapturedLogs();
        await using var services = Services([(a, "Us"), (b, "Us"), (eu, "Eu")], logs: logs);

        var summaries = await services.GetRequiredService<SuppressionExport>().RunAsync(Day, CancellationToken.None);

        Assert.That(summaries.Select(s => (s.Domain, s.Region, s.TotalRecords)), Is.EqualTo(new[] { (a, "Us", 254L), (b, "Us", 5L), (eu, "Eu", 121L) }));
        string bounces = (await ReadExportBlob($"default/{a}/2026-11-26/bounces.csv"))!;
        Assert.Multiple(async () =>
        {
            Assert.That(Lines(bounces), Has.Length.EqualTo(251));
            Assert.That(Lines(bounces)[0], Is.EqualTo("address,code,error,created_at"));
            Assert.That(Lines(bounces)[1], Is.EqualTo("\"user000000@example.net\",\"550\",\"550 5.1.1 No such user\",\"Fri, 01 Jan 2021 10:00:00 UTC\""));
            Assert.That(Lines(bounces).Skip(1).Distinct().Count(), Is.EqualTo(250), "no duplicates across pages");
            Assert.That(Lines((await ReadExportBlob($"default/{a}/2026-11-26/unsubscribes.csv"))!), Is.EqualTo(new[] { "address,tags,created_at", "\"u@example.net\",\"[\"\"*\"\"]\",\"Sun, 03 Jan 2021 10:00:00 UTC\"" }));
            Assert.That(Lines((await ReadExportBlob($"default/{a}/2026-11-26/whitelists.csv"))!)[0], Is.EqualTo("value,type,reason,createdAt"));
            Assert.That(Lines((await ReadExportBlob($"default/{eu}/2026-11-26/bounces.csv"))!), Has.Length.EqualTo(121));
            Assert.That(await BlobNames(a), Is.EquivalentTo(new[] { "bounces", "complaints", "unsubscribes", "whitelists" }
                .Concat(["dnd", "review-dnd-not-in-mailgun"])
                .Select(l => $"default/{a}/2026-11-26/{l}.csv").Concat([$"default/{a}/2026-11-26/summary.json", $"default/{a}/2026-11-26/report.md"])), "no _partial blob left");
            Assert.That(Us.Requests.Any(r => r.RawTarget.Contains(eu, StringComparison.Ordinal)), Is.False, "EU domain never asked on the US host");
        });

        var summary = ExportSummary.FromJson((await ReadExportBlob($"default/{a}/2026-11-26/summary.json"))!)!;
        Assert.Multiple(() =>
        {
            Assert.That(summary.Lists.ToDictionary(l => l.Key, l => l.Value.Records),
                Is.EqualTo(new Dictionary<string, long> { ["bounces"] = 250, ["complaints"] = 2, ["unsubscribes"] = 1, ["whitelists"] = 1 }));
            Assert.That(summary.Codes, Is.EqualTo(new Dictionary<string, long> { ["550"] = 125, ["554"] = 125 }));
            Assert.That(summary.PreviousExport, Is.Null);
            Assert.That(summary.TotalNewSincePrevious, Is.Null);
            Assert.That(summary.Reconciliation, Is.EqualTo("done"), "the DND reconciliation is registered by AddMailgunCore");
            Assert.That(logs.Entries.Count(e => e.Text.StartsWith($"Suppression export summary default/{a} 2026-11-26: bounces 250, complaints 2", StringComparison.Ordinal)), Is.EqualTo(1));
        });

        var rows = await services.GetRequiredService<ExportRunStore>().GetRunAsync(new ExportScope("default", a), Day, CancellationToken.None);
        Assert.That(rows.Select(r => (r.List, r.State, r.Records)), Is.EquivalentTo(new (SuppressionList?, ExportState, long)[]
        {
            (null, ExportState.Completed, 254), (SuppressionList.Bounces, ExportState.Completed, 250), (SuppressionList.Complaints, ExportState.Completed, 2),
            (SuppressionList.Unsubscribes, ExportState.Completed, 1), (SuppressionList.Allowlist, ExportState.Completed, 1),
        }));
    }

    [Test]
    public async Task Formula_looking_cells_are_neutralised_and_read_back_exactly()
    {
        string d = Domain("formula");
        string[] addresses = ["=cmd|' /C calc'!A0@example.net", "+1@example.net", "-x@example.net", "@at@example.net", "\ttab@example.net", "\rcr@example.net", "'quote@example.net", "plain@example.net"];
        HostLists(Us, d, bounces: addresses.Select(x => ApiTestServices.Bounce(x, 550, error: "=HYPERLINK(\"http://evil\",\"click\"), really")));
        var reread = new List<SuppressionRecord>();
        await using var services = Services([(d, "Us")], extra: s => s.AddSingleton<ISuppressionReconciler>(new RecordingReconciler(reread)));

        var summary = (await services.GetRequiredService<SuppressionExport>().RunAsync(Day, CancellationToken.None)).Single();

        string csv = (await ReadExportBlob($"default/{d}/2026-11-26/bounces.csv"))!;
        Assert.Multiple(() =>
        {
            Assert.That(csv, Does.Contain("\r\n\"'=cmd|' /C calc'!A0@example.net\",\"550\","));
            Assert.That(csv, Does.Contain("\r\n\"'+1@example.net\","));
            Assert.That(csv, Does.Contain("\r\n\"'-x@example.net\","));
            Assert.That(csv, Does.Contain("\r\n\"'@at@example.net\","));
            Assert.That(csv, Does.Contain("\r\n\"'\ttab@example.net\","));
            Assert.That(csv, Does.Contain("\r\n\"'\rcr@example.net\","));
            Assert.That(csv, Does.Contain("\r\n\"''quote@example.net\","));
            Assert.That(csv, Does.Contain(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"click\"\"), really\","));
            Assert.That(csv, Does.Not.Contain("\n=").And.Not.Contain(",=").And.Not.Contain("\n+").And.Not.Contain("\n@").And.Not.Contain("\"="));
            Assert.That(reread.Select(r => r.Address), Is.EquivalentTo(addresses), "the reconciliation re-streams exactly what Mailgun gave");
            Assert.That(reread.All(r => r.Error == "=HYPERLINK(\"http://evil\",\"click\"), really"), Is.True);
            Assert.That(summary.Reconciliation, Is.EqualTo("done"));
            Assert.That(summary.ReconciliationCounts!["reread"], Is.EqualTo(addresses.Length));
        });
    }

    // Block size 1 byte: every page is uploaded and checkpointed, so the rerun continues after page 2 (pages 3-5 and the empty one).
    // Default 4 MiB: these few KB never fill a block, so nothing is checkpointed and the rerun redoes the list (pages 1-5 and the empty one).
    [TestCase("1", 200, 4, TestName = "A run that dies half way resumes from its last checkpoint on rerun")]
    [TestCase("4194304", 0, 6, TestName = "A run that dies before its first checkpoint redoes the list on rerun")]
    public async Task A_run_that_dies_half_way_leaves_no_final_blob_and_a_rerun_completes_without_duplicates_or_redoing_finished_lists(
        string blockSize, long checkpointedRecords, int rerunRequests)
    {
        string d = Domain("crash");
        HostLists(Us, d, bounces: ApiTestServices.Bounces(300), complaints: [ApiTestServices.Complaint("c@example.net")],
            unsubscribes: Enumerable.Range(0, 500).Select(i => ApiTestServices.Unsubscribe($"u{i:D4}@example.net", "news")));
        Us.Fail(d, "unsubscribes", afterPages: 2, HttpStatusCode.InternalServerError, times: int.MaxValue);
        await using var services = Services([(d, "Us")], s =>
        {
            s["MailgunApi:MaxRetryAttempts"] = "1";
            s["SuppressionExport:BlockSizeBytes"] = blockSize;
        });
        var export = services.GetRequiredService<SuppressionExport>();

        var error = Assert.ThrowsAsync<SuppressionExportException>(() => export.RunAsync(Day, CancellationToken.None));

        var store = services.GetRequiredService<ExportRunStore>();
        var failed = await store.GetAsync(new ExportScope("default", d), Day, SuppressionList.Unsubscribes, CancellationToken.None);
        Assert.Multiple(async () =>
        {
            Assert.That(error!.Message, Does.Contain(d).And.Contain("500"));
            Assert.That(await ReadExportBlob($"default/{d}/2026-11-26/unsubscribes.csv"), Is.Null, "a half-written list never gets its final name");
            Assert.That(await ReadExportBlob($"default/{d}/2026-11-26/summary.json"), Is.Null);
            Assert.That(await ReadExportBlob($"default/{d}/2026-11-26/bounces.csv"), Is.Not.Null);
            Assert.That(failed!.State, Is.EqualTo(ExportState.Failed));
            Assert.That(failed.Records, Is.EqualTo(checkpointedRecords), "records safely uploaded at the last checkpoint");
            Assert.That(failed.ResumeFrom, checkpointedRecords > 0 ? Does.Contain("page=next&address=u0199%40example.net") : Is.Null);
            Assert.That(failed.Error, Does.Contain("500"));
            Assert.That((await store.GetAsync(new ExportScope("default", d), Day, null, CancellationToken.None))!.State, Is.EqualTo(ExportState.Failed));
        });

        Us.ClearFaults();
        int before = Us.Requests.Count;
        var summary = (await export.RunAsync(Day, CancellationToken.None)).Single();

        var rerun = Us.Requests.Skip(before).ToList();
        string csv = (await ReadExportBlob($"default/{d}/2026-11-26/unsubscribes.csv"))!;
        var done = await store.GetAsync(new ExportScope("default", d), Day, SuppressionList.Unsubscribes, CancellationToken.None);
        Assert.Multiple(async () =>
        {
            Assert.That(Lines(csv).Skip(1).Select(l => l.Split(',')[0].Trim('"')), Is.EqualTo(Enumerable.Range(0, 500).Select(i => $"u{i:D4}@example.net")), "complete, in order, no duplicates");
            Assert.That(rerun.Any(r => r.RawTarget.Contains("/bounces", StringComparison.Ordinal) || r.RawTarget.Contains("/complaints", StringComparison.Ordinal)), Is.False, "finished lists are skipped");
            Assert.That(rerun.Count(r => r.RawTarget.Contains("/unsubscribes", StringComparison.Ordinal)), Is.EqualTo(rerunRequests));
            Assert.That(done!.ResumeFrom, Is.Null);
            Assert.That(done.Blocks, Is.Empty);
            Assert.That(done!.State, Is.EqualTo(ExportState.Completed));
            Assert.That(done.Attempts, Is.EqualTo(2));
            Assert.That(done.Error, Is.Null);
            Assert.That(summary.Lists["unsubscribes"].Records, Is.EqualTo(500));
            Assert.That(summary.Lists["bounces"].Records, Is.EqualTo(300), "a skipped list still counts in the summary");
            Assert.That(await BlobNames(d), Has.None.Contains("_partial"));
        });
    }

    [Test]
    public async Task A_checkpoint_whose_uploaded_blocks_are_gone_is_not_trusted_and_the_list_starts_over()
    {
        string d = Domain("stale");
        HostLists(Us, d, bounces: ApiTestServices.Bounces(300));
        Us.Fail(d, "bounces", afterPages: 2, HttpStatusCode.InternalServerError, times: int.MaxValue);
        await using var services = Services([(d, "Us")], s =>
        {
            s["MailgunApi:MaxRetryAttempts"] = "0";
            s["SuppressionExport:BlockSizeBytes"] = "1";
        });
        var export = services.GetRequiredService<SuppressionExport>();
        Assert.ThrowsAsync<SuppressionExportException>(() => export.RunAsync(Day, CancellationToken.None));
        var store = services.GetRequiredService<ExportRunStore>();
        var failed = (await store.GetAsync(new ExportScope("default", d), Day, SuppressionList.Bounces, CancellationToken.None))!;
        Assert.That(failed.Blocks, Has.Count.EqualTo(2));
        // As after a week (Azure drops uncommitted blocks) or a partial blob deleted by hand: one block is unknown.
        await store.SaveAsync(failed with { Blocks = [failed.Blocks[0], Convert.ToBase64String("000099-00000001"u8)] }, CancellationToken.None);
        Us.ClearFaults();
        int before = Us.Requests.Count;

        await export.RunAsync(Day, CancellationToken.None);

        string csv = (await ReadExportBlob($"default/{d}/2026-11-26/bounces.csv"))!;
        Assert.That(Lines(csv).Skip(1).Select(l => l.Split(',')[0].Trim('"')), Is.EqualTo(Enumerable.Range(0, 300).Select(i => $"user{i:D6}@example.net")));
        Assert.That(Us.Requests.Skip(before).Count(r => r.RawTarget.Contains("/bounces", StringComparison.Ordinal)), Is.EqualTo(4), "pages 1-3 and the empty one");
    }

    [Test]
    public async Task A_rerun_of_a_finished_date_skips_every_list_and_a_deleted_final_blob_is_redone()
    {
        string d = Domain("rerun");
        HostLists(Us, d, bounces: ApiTestServices.Bounces(3), complaints: [ApiTestServices.Complaint("c@example.net")]);
        await using var services = Services([(d, "Us")]);
        var export = services.GetRequiredService<SuppressionExport>();
        await export.RunAsync(Day, CancellationToken.None);
        Us.SetList(d, "complaints", [ApiTestServices.Complaint("c@example.net"), ApiTestServices.Complaint("late@example.net")]);
        int before = Us.Requests.Count;
        string? summary = await ReadExportBlob($"default/{d}/2026-11-26/summary.json");

        await export.RunAsync(Day, CancellationToken.None);

        Assert.That(Us.Requests.Count, Is.EqualTo(before), "nothing asked again");
        Assert.That(await ReadExportBlob($"default/{d}/2026-11-26/summary.json"), Is.EqualTo(summary), "a finished domain is skipped whole, summary untouched");
        Assert.That(Lines((await ReadExportBlob($"default/{d}/2026-11-26/complaints.csv"))!), Has.Length.EqualTo(2), "the finished export stands");

        await Exports().DeleteBlobAsync($"default/{d}/2026-11-26/complaints.csv");
        await export.RunAsync(Day, CancellationToken.None);

        Assert.That(Lines((await ReadExportBlob($"default/{d}/2026-11-26/complaints.csv"))!), Has.Length.EqualTo(3));
        Assert.That(Us.Requests.Skip(before).All(r => r.RawTarget.Contains("/complaints", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public async Task The_summary_counts_records_created_since_the_previous_export()
    {
        string d = Domain("delta");
        var old = new DateTimeOffset(2021, 1, 1, 0, 0, 0, TimeSpan.Zero);
        HostLists(Us, d, bounces: [ApiTestServices.Bounce("old1@example.net", 550, at: old), ApiTestServices.Bounce("old2@example.net", "421", at: old)]);
        await using var services = Services([(d, "Us")]);
        var export = services.GetRequiredService<SuppressionExport>();
        await export.RunAsync(Day.AddDays(-1), CancellationToken.None);
        var fresh = DateTimeOffset.UtcNow.AddHours(1);
        Us.SetList(d, "bounces", [ApiTestServices.Bounce("old1@example.net", 550, at: old), ApiTestServices.Bounce("new1@example.net", 552, at: fresh),
            ApiTestServices.Bounce("new2@example.net", 552, at: fresh)]);
        Us.SetList(d, "complaints", [ApiTestServices.Complaint("newc@example.net", fresh)]);

        var summary = (await export.RunAsync(Day, CancellationToken.None)).Single();

        var stored = ExportSummary.FromJson((await ReadExportBlob($"default/{d}/2026-11-26/summary.json"))!)!;
        Assert.Multiple(() =>
        {
            Assert.That(stored, Is.Not.Null);
            Assert.That(stored.PreviousExport, Is.EqualTo("2026-11-25"));
            Assert.That(stored.Lists["bounces"].Records, Is.EqualTo(3));
            Assert.That(stored.Lists["bounces"].PreviousRecords, Is.EqualTo(2));
            Assert.That(stored.Lists["bounces"].NewSincePrevious, Is.EqualTo(2));
            Assert.That(stored.Lists["complaints"].NewSincePrevious, Is.EqualTo(1));
            Assert.That(stored.TotalNewSincePrevious, Is.EqualTo(3));
            Assert.That(stored.Codes, Is.EqualTo(new Dictionary<string, long> { ["550"] = 1, ["552"] = 2 }));
            Assert.That(summary.TotalRecords, Is.EqualTo(4));
        });
    }

    [Test]
    public async Task A_domain_with_a_refused_key_fails_the_run_clearly_while_the_other_domains_are_exported()
    {
        string good = Domain("good"), wrongRegion = Domain("wrong");
        HostLists(Us, good, bounces: ApiTestServices.Bounces(2));
        HostLists(Eu, wrongRegion, bounces: ApiTestServices.Bounces(2));
        await using var services = Services([(wrongRegion, "Us"), (good, "Us")]);

        var error = Assert.ThrowsAsync<SuppressionExportException>(() => services.GetRequiredService<SuppressionExport>().RunAsync(Day, CancellationToken.None));

        Assert.Multiple(async () =>
        {
            Assert.That(error!.Message, Does.Contain("Mailgun__ApiKey").And.Contain("MailgunApi__Domains__0__Region").And.Contain(wrongRegion));
            Assert.That(error.InnerExceptions.Single(), Is.TypeOf<MailgunApiException>());
            Assert.That(await ReadExportBlob($"default/{good}/2026-11-26/summary.json"), Is.Not.Null);
            Assert.That((await services.GetRequiredService<ExportRunStore>().GetAsync(new ExportScope("default", wrongRegion), Day, null, CancellationToken.None))!.State, Is.EqualTo(ExportState.Failed));
        });
    }

    [Test]
    public async Task Without_a_reconciler_the_summary_and_report_say_not_configured_and_a_warning_is_logged()
    {
        string d = Domain("norec");
        HostLists(Us, d, bounces: ApiTestServices.Bounces(3));
        var logs = new CapturedLogs();
        await using var services = Services([(d, "Us")], logs: logs, extra: s => s.RemoveAll<ISuppressionReconciler>());

        var summary = await services.GetRequiredService<SuppressionExport>().ExportDomainAsync(new ExportScope("default", d), Day, CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(summary.Reconciliation, Is.EqualTo("not-configured"));
            Assert.That(summary.ReconciliationCounts, Is.Null);
            Assert.That(await ReadExportBlob($"default/{d}/2026-11-26/report.md"), Does.Contain("Not done (not-configured)."));
            Assert.That(await ReadExportBlob($"default/{d}/2026-11-26/dnd.csv"), Is.Null);
            Assert.That(logs.Entries.Count(e => e.Text.Contains("no reconciler is registered", StringComparison.Ordinal)), Is.EqualTo(1));
        });
    }

    /// <summary>A reconciler that only re-reads the exported bounces: proves the seam hands over a usable re-stream.</summary>
    private sealed class RecordingReconciler(List<SuppressionRecord> reread) : ISuppressionReconciler
    {
        public async Task<IReadOnlyDictionary<string, long>> ReconcileAsync(ExportScope scope, DateOnly date, ExportedSuppressions exported, CancellationToken cancellationToken)
        {
            await foreach (var record in exported.ReadAsync(SuppressionList.Bounces, cancellationToken))
            {
                reread.Add(record);
            }

            return new Dictionary<string, long> { ["reread"] = reread.Count };
        }
    }
}
