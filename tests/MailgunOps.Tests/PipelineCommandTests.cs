using Azure.Data.Tables;
using Azure.Storage.Queues;
using MailgunFunctions;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunOps.Tests;

/// <summary>classify, replay, backfill, poison, export and forget.</summary>
[NonParallelizable]
public sealed class PipelineCommandTests : OpsHarness
{
    [Test]
    public async Task ClassifyExplainsGivenFields()
    {
        var run = await RunAsync("classify", "--code", "550", "--enhanced", "5.1.1", "--message", "user unknown", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That((string?)run.Json["category"], Is.EqualTo("hard-bounce"));
        Assert.That((string?)run.Json["dnd"], Is.EqualTo("permanent"));
        Assert.That((string?)run.Json["explanation"], Is.Not.Empty);
    }

    [Test]
    public async Task ClassifyTableNamesTheRule()
    {
        var run = await RunAsync("classify", "--code", "421", "--enhanced", "4.7.0", "--severity", "temporary", "--message", "try again later");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.Stdout, Does.Contain("category:").And.Contain("rule:"));
    }

    [Test]
    public async Task ClassifyNamesTheDecidingCauseAndWhatItOutranked()
    {
        var run = await RunAsync("classify", "--code", "550", "--enhanced", "5.1.1", "--severity", "permanent",
            "--message", "5.1.1 <x@example.org>: Recipient address rejected: blocked using zen.spamhaus.org", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.Multiple(() =>
        {
            Assert.That((string?)run.Json["category"], Is.EqualTo("sender-issue"));
            Assert.That((string?)run.Json["dnd"], Is.EqualTo("none"));
            Assert.That((string?)run.Json["words"], Is.EqualTo("blocked using"));
            Assert.That((string?)run.Json["outranked"], Does.Contain("5.1.1").And.Contain("severity permanent"));
            Assert.That((string?)run.Json["explanation"], Does.Contain("\"blocked using\"").And.Contain("It outranks"));
        });
    }

    [Test]
    public async Task ClassifyTableShowsTheOutrankedSignals()
    {
        var run = await RunAsync("classify", "--code", "550", "--severity", "permanent", "--message", "retry timeout exceeded");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.Stdout, Does.Contain("dnd:         temporary").And.Contain("words:       retry timeout")
            .And.Contain("outranked:   ").And.Contain("smtp-550"));
    }

    [Test]
    public async Task ClassifyFileWritesOneLinePerInputAndFlagsBadLines()
    {
        var hard = SignedWebhook.Failed("a@example.org", Recent(), id: "hard-1", domain: Domain);
        var complaint = SignedWebhook.Simple("complained", "b@example.org", Recent(), id: "spam-1", domain: Domain);
        string path = WriteLines(hard, new JObject { ["event-data"] = complaint });
        File.AppendAllText(path, "{not json\n");

        var run = await RunAsync("classify", "--file", path);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Problems), run.ToString());
        var lines = run.JsonLines;
        Assert.That(lines, Has.Count.EqualTo(3));
        Assert.That((string?)lines[0]["id"], Is.EqualTo("hard-1"));
        Assert.That((string?)lines[0]["category"], Is.EqualTo("hard-bounce"));
        Assert.That((string?)lines[1]["category"], Is.EqualTo("complaint"));
        Assert.That((string?)lines[1]["dnd"], Is.EqualTo("locked"));
        Assert.That((string?)lines[2]["error"], Is.Not.Null);
    }

    [Test]
    public async Task ReplayPrintsASummaryAndIsIdempotent()
    {
        string path = WriteLines(
            SignedWebhook.Failed("r1@example.org", Recent(), domain: Domain),
            SignedWebhook.Simple("complained", "r2@example.org", Recent(), domain: Domain),
            SignedWebhook.Simple("accepted", "r3@example.org", Recent(), domain: Domain));

        var first = await RunAsync("replay", "--file", path, "--json");
        var second = await RunAsync("replay", "--file", path, "--json");

        Assert.That(first.ExitCode, Is.EqualTo(0), first.ToString());
        Assert.That((long?)first.Json["events"], Is.EqualTo(3));
        Assert.That((long?)first.Json["stateChanges"]!["none->permanent"], Is.EqualTo(1));
        Assert.That((long?)first.Json["stateChanges"]!["none->locked"], Is.EqualTo(1));
        Assert.That(second.Json["stateChanges"]!.Children(), Is.Empty, "a second replay changes nothing");
    }

    [Test]
    public async Task ReplayUsesDomainForEventsWithoutOne()
    {
        var e = SignedWebhook.Failed("nd@example.org", Recent(), domain: Domain);
        e.Remove("envelope");
        var run = await RunAsync("replay", "--file", WriteLines(e), "--domain", Domain, "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        var get = await RunAsync("dnd", "get", "nd@example.org", "--domain", Domain, "--json");
        Assert.That((string?)get.Json["entry"]!["state"], Is.EqualTo("permanent"));
    }

    [Test]
    public async Task ReplayOfAMissingFileFails()
    {
        var run = await RunAsync("replay", "--file", Path.Combine(Work, "missing.jsonl"));

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.NotFound));
        Assert.That(run.Stderr, Does.Contain("does not exist"));
    }

    [Test]
    public async Task BackfillReplaysMailgunsEvents()
    {
        Mailgun.SetEvents(Domain, [SignedWebhook.Failed("bf@example.org", Recent(60), domain: Domain), SignedWebhook.Simple("complained", "bf2@example.org", Recent(30), domain: Domain)]);

        var run = await RunAsync("backfill", "--domain", Domain, "--since", "3d", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That((long?)run.Json["events"], Is.EqualTo(2));
        var get = await RunAsync("dnd", "get", "bf2@example.org", "--domain", Domain, "--json");
        Assert.That((string?)get.Json["entry"]!["state"], Is.EqualTo("locked"));
    }

    [Test]
    public async Task BackfillWithABadKeyOrBadSinceFails()
    {
        Mailgun.SetEvents(Domain, []);
        var badKey = await RunAsync(["backfill", "--domain", Domain, "--since", "1d"], apiKey: "nope");
        var badSince = await RunAsync("backfill", "--domain", Domain, "--since", "soon");

        Assert.That(badKey.ExitCode, Is.EqualTo(ExitCodes.Remote), badKey.ToString());
        Assert.That(badSince.ExitCode, Is.EqualTo(ExitCodes.Usage), badSince.ToString());
        Assert.That(badSince.Stderr, Does.Contain("--since"));
    }

    [Test]
    public async Task BackfillWithoutAnApiKeyIsAConfigurationError()
    {
        string? saved = Environment.GetEnvironmentVariable("Mailgun__ApiKey");
        Assume.That(saved, Is.Null.Or.Empty, "the test process must not carry a real API key");
        // A tenant whose API key is gone (disconnected): nothing can be asked of Mailgun for it.
        string keyless = MailgunFunctions.Testing.TestTenants.NewId("nokey");
        await using (var services = TestSettings.Services(TestSettings.Configuration(Storage), (s, c) => s.AddMailgunCore(c), TimeProvider.System))
        {
            var saved2 = await MailgunFunctions.Testing.TestTenants.RegisterAsync(services, keyless, TestSettings.SigningKey, [keyless + ".example.com"]);
            await services.GetRequiredService<MailgunFunctions.Tenants.TenantRegistry>().SaveAsync(saved2 with { ApiKey = null }, "test", "disconnect", CancellationToken.None);
        }

        var run = await RunAsync(["backfill", "--tenant", keyless, "--since", "1d"], apiKey: "");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Configuration), run.ToString());
        Assert.That(run.Stderr, Does.Contain($"tenant connect --tenant {keyless}"));
        Assert.That(Mailgun.Requests, Is.Empty, "nothing is sent without a key");
    }

    [Test]
    public async Task PoisonListShowRequeueDiscard()
    {
        var (events, poison) = await EmptyEventQueuesAsync();
        // An event without a timestamp: the processor poisons it at once with its reason.
        var broken = SignedWebhook.Failed("x@example.org", Recent(), domain: Domain);
        broken.Remove("timestamp");
        var replay = await RunAsync("replay", "--file", WriteLines(broken));
        Assert.That(replay.ExitCode, Is.EqualTo(ExitCodes.Problems), replay.ToString());
        // And one the host moved after its retries: the original text as is.
        await poison.SendMessageAsync("{\"v\":1,\"eventId\":\"host-moved\"}");

        var list = await RunAsync("poison", "list", "--queue", "events", "--json");
        Assert.That(list.ExitCode, Is.EqualTo(0), list.ToString());
        var rows = list.JsonLines;
        Assert.That(rows.Select(r => (string?)r["reason"]), Is.EquivalentTo(new[] { "event_invalid", "retries_exhausted" }));
        string processorId = (string)rows.Single(r => (string?)r["reason"] == "event_invalid")["id"]!;
        string hostId = (string)rows.Single(r => (string?)r["reason"] == "retries_exhausted")["id"]!;

        var show = await RunAsync("poison", "show", processorId, "--json");
        Assert.That(show.ExitCode, Is.EqualTo(0), show.ToString());
        Assert.That((string?)show.Json["original"], Does.Contain("\"eventData\""));

        var requeue = await RunAsync("poison", "requeue", processorId);
        Assert.That(requeue.ExitCode, Is.EqualTo(0), requeue.ToString());
        var back = (await events.ReceiveMessagesAsync(32)).Value;
        Assert.That(back, Has.Length.EqualTo(1));
        Assert.That(back[0].MessageText, Is.EqualTo((string?)show.Json["original"]), "the original message, base64 on the queue like the host expects");

        var discard = await RunAsync("poison", "discard", hostId);
        Assert.That(discard.ExitCode, Is.EqualTo(0), discard.ToString());
        var after = await RunAsync("poison", "list", "--json");
        Assert.That(after.Stdout.Trim(), Is.Empty);

        var unknown = await RunAsync("poison", "discard", "no-such-id");
        Assert.That(unknown.ExitCode, Is.EqualTo(ExitCodes.NotFound), unknown.ToString());
    }

    [Test]
    public async Task InboundPoisonIsRequeuedToTheInboundQueue()
    {
        var queues = new QueueServiceClient(Storage, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var inbound = queues.GetQueueClient(StorageNames.InboundQueue);
        var poison = queues.GetQueueClient(StorageNames.InboundPoisonQueue);
        await inbound.CreateIfNotExistsAsync();
        await poison.CreateIfNotExistsAsync();
        await inbound.ClearMessagesAsync();
        await poison.ClearMessagesAsync();
        string original = "{\"v\":1,\"payloadBlob\":\"2026/03/01/abc.bin\"}";
        await poison.SendMessageAsync(new JObject { ["reason"] = "payload_missing", ["detail"] = "blob gone", ["queueMessageId"] = "q1", ["poisonedAt"] = DateTimeOffset.UtcNow, ["message"] = original }.ToString());

        var list = await RunAsync("poison", "list", "--queue", "inbound");
        var requeue = await RunAsync("poison", "requeue", "--all", "--queue", "inbound");

        Assert.That(list.Stdout, Does.Contain("payload_missing"), list.ToString());
        Assert.That(requeue.ExitCode, Is.EqualTo(0), requeue.ToString());
        var back = (await inbound.ReceiveMessagesAsync(32)).Value;
        Assert.That(back.Select(m => m.MessageText), Is.EqualTo(new[] { original }));
        Assert.That((await poison.PeekMessagesAsync(32)).Value, Is.Empty);
    }

    [Test]
    public async Task AnUnknownRegionIsAUsageError()
    {
        var run = await RunAsync("export", "--domain", Domain, "--region", "asia");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.Stderr, Does.Contain("us or eu"));
    }

    [Test]
    public async Task ExportRunsNowAndDownloadsTheFiles()
    {
        Mailgun.SetList(Domain, "bounces", [new JObject { ["address"] = "ex@example.org", ["code"] = "550", ["error"] = "no such user", ["created_at"] = "Mon, 01 Jan 2024 00:00:00 UTC" }]);
        Mailgun.SetList(Domain, "complaints", []);
        Mailgun.SetList(Domain, "unsubscribes", []);
        Mailgun.SetList(Domain, "whitelists", []);
        string outDir = Path.Combine(Work, "out");

        var run = await RunAsync("export", "--domain", Domain, "--out", outDir, "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That((long?)run.Json["summary"]!["totalRecords"], Is.EqualTo(1));
        Assert.That(File.ReadAllText(Path.Combine(outDir, "bounces.csv")), Does.Contain("ex@example.org"));
        Assert.That(File.Exists(Path.Combine(outDir, "summary.json")), Is.True);
    }

    [Test]
    public async Task ExportWithABadKeyFails()
    {
        Mailgun.SetList(Domain, "bounces", []);

        var run = await RunAsync(["export", "--domain", Domain], apiKey: "nope");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Remote), run.ToString());
        Assert.That(run.Stderr, Does.Contain("refused the API key"));
    }

    [Test]
    public async Task ExportStatusShowsATenantsFailedScopeWithItsErrorAndExitsSevenUntilARerunCompletesIt()
    {
        Mailgun.SetList(Domain, "bounces", [new JObject { ["address"] = "st@example.org", ["code"] = "550", ["error"] = "no such user", ["created_at"] = "Mon, 01 Jan 2024 00:00:00 UTC" }]);
        await RunAsync(["export", "--domain", Domain], apiKey: "nope");

        var failed = await RunAsync("export", "status", "--tenant", Tenant, "--json");
        var text = await RunAsync("export", "status", "--tenant", Tenant, "--failed");

        Assert.Multiple(() =>
        {
            Assert.That(failed.ExitCode, Is.EqualTo(ExitCodes.Problems), failed.ToString());
            Assert.That((int?)failed.Json["failed"], Is.EqualTo(1));
            Assert.That((int?)failed.Json["completed"], Is.EqualTo(0));
            var item = (JObject)failed.Json["items"]!.Single();
            Assert.That(((string?)item["tenant"], (string?)item["domain"], (string?)item["state"]), Is.EqualTo((Tenant, Domain, "failed")));
            Assert.That((string?)item["error"], Does.Contain("refused the API key (401)"));
            Assert.That(text.Stdout, Does.Contain(Domain).And.Contain("failed").And.Contain("401"));
            Assert.That(failed.Stdout + text.Stdout, Does.Not.Contain("nope").And.Not.Contain(TestSettings.ApiKey), "no key in the output");
        });

        await RunAsync("export", "--domain", Domain);
        var done = await RunAsync("export", "status", "--tenant", Tenant, "--json");

        Assert.That(done.ExitCode, Is.EqualTo(ExitCodes.Ok), done.ToString());
        var row = (JObject)done.Json["items"]!.Single();
        Assert.That(((string?)row["state"], (long?)row["records"], (int?)row["attempts"]), Is.EqualTo(("completed", 1L, 2)));
    }

    [Test]
    public async Task ForgetErasesPersonalDataButKeepsTheSuppression()
    {
        await ReplayAsync(SignedWebhook.Simple("complained", "gdpr@example.org", Recent(20), domain: Domain));

        var run = await RunAsync("dnd", "forget", "gdpr@example.org", "--domain", Domain, "--note", "request 2024-17", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That((string?)run.Json["suppressionKept"], Is.EqualTo("locked"));
        Assert.That((int?)run.Json["historyRecords"], Is.EqualTo(1));
        // Nothing in the tenant's entries or history names the address any more...
        var tables = new TableServiceClient(Storage);
        var rows = new List<TableEntity>();
        var logRows = new List<TableEntity>();
        await foreach (var e in tables.GetTableClient(StorageNames.DndEntriesTable).QueryAsync<TableEntity>(x => x.PartitionKey == Tenant))
        {
            // The change log shares the partition (docs/change-feed.md): what it keeps of the erasure has no address, checked below.
            (DndChangeLog.IsLogRow(e.RowKey) ? logRows : rows).Add(e);
        }

        Assert.That(rows, Has.Count.EqualTo(1));
        Assert.That(string.Join(" ", rows[0].Select(p => p.Value?.ToString())) + rows[0].RowKey, Does.Not.Contain("gdpr"));
        Assert.That(rows[0].ContainsKey("ContactId"), Is.False);
        Assert.That(logRows.Select(r => r.GetString("Notice") ?? ""), Has.None.Contain("gdpr"), "no change row names the erased address");
        var erasures = new List<TableEntity>();
        await foreach (var e in tables.GetTableClient(StorageNames.DndErasuresTable).QueryAsync<TableEntity>(x => x.PartitionKey == Tenant))
        {
            erasures.Add(e);
        }

        // The erasure record, and the tenant's marker that makes processors look for erased rows (docs/cli.md, "GDPR erasure design").
        Assert.That(erasures.Single(e => e.RowKey != "~tenant-has-erasures").GetString("Note"), Is.EqualTo("request 2024-17"));
        Assert.That(erasures.Select(e => e.RowKey), Has.Exactly(1).EqualTo("~tenant-has-erasures"));
        // ...but the address is still locked when asked for, and stays locked when it comes back.
        var get = await RunAsync("dnd", "get", "gdpr@example.org", "--domain", Domain, "--json");
        Assert.That((string?)get.Json["entry"]!["state"], Is.EqualTo("locked"));
        Assert.That(get.Json["history"]!.Children(), Is.Empty);
        await ReplayAsync(SignedWebhook.Simple("delivered", "gdpr@example.org", Recent(1), domain: Domain));
        var again = await RunAsync("dnd", "get", "gdpr@example.org", "--domain", Domain, "--json");
        Assert.That((string?)again.Json["entry"]!["state"], Is.EqualTo("locked"));
        var enable = await RunAsync("dnd", "enable", "gdpr@example.org", "--domain", Domain, "--note", "x");
        Assert.That(enable.ExitCode, Is.EqualTo(ExitCodes.Refused), enable.ToString());
    }

    [Test]
    public async Task ForgetOfAnUnknownAddressExitsNotFound()
    {
        var run = await RunAsync("dnd", "forget", "ghost@example.org", "--domain", Domain, "--note", "r1");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.NotFound), run.ToString());
    }
}
