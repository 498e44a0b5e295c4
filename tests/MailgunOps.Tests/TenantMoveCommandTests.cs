using System.Net;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using MailgunFunctions;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Dnd;
using MailgunFunctions.Export;
using MailgunFunctions.Inbound;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Processing;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunOps.Tests;

/// <summary>
/// <c>tenant move</c> between two storage shards, each its own Azurite: every row of the tenant goes over and comes back
/// equal, the CLI reads the same state after, webhooks during the move are answered 503 and their retry is processed once
/// on the new shard, a row that differs stops the switch, and a dry run changes nothing.
/// </summary>
[NonParallelizable]
public class TenantMoveCommandTests : OpsHarness
{
    private Azurite _shard1 = null!;

    private Dictionary<string, string?> Shards => new()
    {
        ["Storage:Shards"] = "2",
        ["StorageShard1"] = _shard1.ConnectionString,
        // The wait for every instance's registry cache, short for the test (the app's default is a minute).
        ["Tenants:CacheLifetime"] = "00:00:01",
    };

    [OneTimeSetUp]
    public async Task StartShard1() => _shard1 = await Azurite.StartDedicatedAsync(persistent: false);

    [OneTimeTearDown]
    public async Task StopShard1()
    {
        if (_shard1 is not null)
        {
            await _shard1.DisposeAsync();
        }
    }

    /// <summary>Two shards; the home account's events and inbound queues hold other tests' messages: the move waits for them to drain.</summary>
    [SetUp]
    public async Task EmptyHomeQueues()
    {
        // The harness's own Storage__Shards override (1 by default) would hide shard 1 from the CLI runs.
        StorageShards = 2;
        await EmptyEventQueuesAsync();
        var inbound = new Azure.Storage.Queues.QueueServiceClient(Storage).GetQueueClient(StorageNames.InboundQueue);
        await inbound.CreateIfNotExistsAsync();
        await inbound.ClearMessagesAsync();
    }

    private Task<OpsRun> Cli(params string[] args) => RunAsync(args, settings: Shards);

    private ServiceProvider Services() =>
        TestSettings.Services(TestSettings.Configuration(Storage, Shards), (s, c) => s.AddMailgunCore(c), TimeProvider.System);

    private TableServiceClient Tables(int shard) => new(shard == 0 ? Storage : _shard1.ConnectionString);

    /// <summary>Every table of the tenant on one shard: its row count and hash, as the command computes them.</summary>
    private async Task<Dictionary<string, (int Rows, string Sha)>> DigestsAsync(int shard)
    {
        var result = new Dictionary<string, (int, string)>();
        foreach (var (table, filter) in TenantMove.TablesOf(Tenant))
        {
            var (_, digest) = await TenantMove.ReadAsync(Tables(shard), table, filter, CancellationToken.None);
            result[table] = (digest.Rows, digest.Sha256);
        }

        return result;
    }

    private async Task<Tenant> RegistryAsync()
    {
        await using var services = Services();
        return (await services.GetRequiredService<TenantRegistry>().GetAsync(Tenant, CancellationToken.None))!;
    }

    /// <summary>DND entries (permanent and temporary, with history and an expiry), a reply and a contact's reply, all on shard 0.</summary>
    private async Task SeedAsync()
    {
        var replay = await Cli("replay", "--tenant", Tenant, "--json", "--file", WriteLines(
            SignedWebhook.Failed("perm@example.org", Recent(30)),
            SignedWebhook.Failed("soft@example.org", Recent(20), code: 452, message: "4.2.2 Mailbox full", severity: "temporary"),
            SignedWebhook.Simple("complained", "compl@example.org", Recent(10))));
        Assert.That(replay.ExitCode, Is.EqualTo(0), replay.ToString());
        await using var services = Services();
        await services.GetRequiredService<ReplyStore>().AddAsync(new ReplyRecord
        {
            ReplyId = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N"),
            Tenant = Tenant,
            ReceivedAt = Recent(5),
            Format = "parsed",
            From = "perm@example.org",
            Subject = "Re: hello",
            NewText = "thanks",
            ContactId = "contact-1",
        }, CancellationToken.None);
    }

    [Test]
    public async Task A_tenant_moves_to_shard_1_and_back_with_every_row_equal_and_the_cli_reads_the_same_state()
    {
        await SeedAsync();
        var before = await DigestsAsync(0);
        foreach (string table in new[] { StorageNames.DndEntriesTable, StorageNames.DndHistoryTable, StorageNames.DndExpiriesTable, StorageNames.RepliesTable, StorageNames.ContactRepliesTable })
        {
            Assert.That(before[table].Rows, Is.GreaterThan(0), $"the seed wrote {table}");
        }

        var listBefore = await Cli("dnd", "list", "--tenant", Tenant, "--all", "--json");
        var getBefore = await Cli("dnd", "get", "perm@example.org", "--tenant", Tenant, "--json");
        Assert.That(listBefore.ExitCode, Is.EqualTo(0), listBefore.ToString());

        var there = await Cli("tenant", "move", "--tenant", Tenant, "--to", "1", "--yes", "--json");

        Assert.That(there.ExitCode, Is.EqualTo(0), there.ToString());
        Assert.That((string?)there.Json["result"], Is.EqualTo("moved"));
        Assert.That((bool)there.Json["sourceDeleted"]!, Is.True);
        var moved = await RegistryAsync();
        Assert.That((moved.Shard, moved.MovingTo, moved.MovedFrom), Is.EqualTo((1, (int?)null, (int?)null)));
        Assert.That(await DigestsAsync(1), Is.EqualTo(before), "every row of the tenant on shard 1, equal");
        Assert.That((await DigestsAsync(0)).Values.Sum(d => d.Rows), Is.Zero, "nothing of the tenant left on shard 0");
        var show = await Cli("tenant", "show", "--tenant", Tenant, "--json");
        Assert.That((int)show.Json["shard"]!, Is.EqualTo(1), show.ToString());
        var listThere = await Cli("dnd", "list", "--tenant", Tenant, "--all", "--json");
        var getThere = await Cli("dnd", "get", "perm@example.org", "--tenant", Tenant, "--json");
        Assert.That(listThere.Stdout, Is.EqualTo(listBefore.Stdout), "dnd list reads shard 1 now, the same");
        Assert.That(getThere.Stdout, Is.EqualTo(getBefore.Stdout), "dnd get reads shard 1 now, the same");
        var across = await Cli("dnd", "get", "perm@example.org", "--json");
        Assert.That(across.Stdout, Does.Contain(Tenant), "dnd get without a tenant looks in every shard");

        var back = await Cli("tenant", "move", "--tenant", Tenant, "--to", "0", "--yes", "--json");

        Assert.That(back.ExitCode, Is.EqualTo(0), back.ToString());
        Assert.That((await RegistryAsync()).Shard, Is.EqualTo(0));
        Assert.That(await DigestsAsync(0), Is.EqualTo(before), "back on shard 0, equal");
        Assert.That((await DigestsAsync(1)).Values.Sum(d => d.Rows), Is.Zero);
        Assert.That((await Cli("dnd", "list", "--tenant", Tenant, "--all", "--json")).Stdout, Is.EqualTo(listBefore.Stdout));
        var audit = await Cli("tenant", "audit", "--tenant", Tenant, "--json");
        Assert.That(audit.Stdout, Does.Contain("tenant-move-started").And.Contain("tenant-move-switched").And.Contain("tenant-move-finished"), audit.ToString());
    }

    [Test]
    public async Task A_webhook_during_the_move_is_answered_503_and_its_retry_after_the_switch_is_processed_once_on_the_new_shard()
    {
        string recipient = $"during.{Guid.NewGuid():N}@example.org";
        var signedAt = DateTimeOffset.UtcNow;
        // One delivery, as Mailgun retries it: the same body and signature.
        string body = SignedWebhook.Body(SignedWebhook.Failed(recipient, signedAt, domain: Domain), signedAt);
        await using (var services = Services())
        {
            var registry = services.GetRequiredService<TenantRegistry>();
            var t = (await registry.GetAsync(Tenant, CancellationToken.None))!;
            // Step (a) of the move, as a move stopped right after it leaves it.
            await registry.SaveAsync(t with { MovingTo = 1 }, "test", "tenant-move-started", CancellationToken.None);
            var during = await PostAsync(services, body);
            Assert.That((during.StatusCode, during.Reason), Is.EqualTo((503, "tenant_moving")));
            // The API's writes are refused too: written on the source after the copy, they would be lost at the switch.
            var write = await services.GetRequiredService<MailgunFunctions.Api.DndApi>().EnableAsync(Tenant, recipient, new MemoryStream("{}"u8.ToArray()), 2, "application/json",
                $"/api/dnd/{Tenant}/{recipient}/enable", CancellationToken.None);
            Assert.That(write.StatusCode, Is.EqualTo(503), write.Body);
            Assert.That(write.Body, Does.Contain("tenant-moving"));
            var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.ParsedReply(), DateTimeOffset.UtcNow));
            var reply = await services.GetRequiredService<InboundWebhookIntake>().AcceptAsync(Tenant, new MemoryStream(post.Body), post.Body.Length, post.ContentType, CancellationToken.None);
            Assert.That((reply.StatusCode, reply.Reason), Is.EqualTo((503, "tenant_moving")), "the inbound webhook too");
        }

        var move = await Cli("tenant", "move", "--tenant", Tenant, "--to", "1", "--yes");
        Assert.That(move.ExitCode, Is.EqualTo(0), move.ToString());

        await using (var services = Services())
        {
            var retry = await PostAsync(services, body);
            Assert.That(retry.StatusCode, Is.EqualTo(200), retry.ToString());
            var shard1 = services.GetRequiredService<TenantShards>().Services(1);
            var home = services.GetRequiredService<StorageClients>().Queues.GetQueueClient(StorageNames.EventsQueue);
            Assert.That((await home.PeekMessagesAsync(32)).Value, Is.Empty, "nothing queued on the source");
            var queue = shard1.GetRequiredService<StorageClients>().Queues.GetQueueClient(StorageNames.EventsQueue);
            var messages = (await queue.ReceiveMessagesAsync(32)).Value;
            Assert.That(messages, Has.Length.EqualTo(1), "the retry queued once, on shard 1");
            await shard1.GetRequiredService<EventProcessor>().ProcessAsync(messages[0].MessageText, 1, CancellationToken.None);
            await queue.DeleteMessageAsync(messages[0].MessageId, messages[0].PopReceipt);
            var onShard1 = await shard1.GetRequiredService<DndStore>().GetStatusAsync(Tenant, recipient, CancellationToken.None);
            var onHome = await services.GetRequiredService<DndStore>().GetStatusAsync(Tenant, recipient, CancellationToken.None);
            Assert.That(onShard1.Status.State, Is.EqualTo(DndState.Permanent));
            Assert.That(onHome.Entry, Is.Null);
            int history = 0;
            await foreach (var _ in shard1.GetRequiredService<DndStore>().HistoryAsync(Tenant, recipient, CancellationToken.None))
            {
                history++;
            }

            Assert.That(history, Is.EqualTo(1), "processed once");
        }
    }

    [Test]
    public async Task While_a_tenant_moves_the_timers_the_export_job_and_the_cli_leave_its_rows_alone_and_after_the_switch_its_new_shard_does_the_work()
    {
        await SeedAsync();
        await using (var setup = Services())
        {
            var registry = setup.GetRequiredService<TenantRegistry>();
            var t = (await registry.GetAsync(Tenant, CancellationToken.None))!;
            await registry.SaveAsync(t with { MovingTo = 1 }, "test", "tenant-move-started", CancellationToken.None);
            // An export that started before the mark and is still within its time budget: the move must wait it out.
            await setup.GetRequiredService<ExportRunStore>().SaveAsync(new ExportStatus
            {
                Scope = new ExportScope(Tenant, Domain), Date = DateOnly.FromDateTime(DateTime.UtcNow), State = ExportState.Running, StartedAt = DateTimeOffset.UtcNow,
            }, CancellationToken.None);
        }

        var before = await DigestsAsync(0);
        // Far enough ahead that the soft bounce's temporary DND is over, and every change row is past the log's retention.
        var later = new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(400));
        await using (var future = TestSettings.Services(TestSettings.Configuration(Storage, Shards), (s, c) => s.AddMailgunCore(c), later))
        {
            var shards = future.GetRequiredService<TenantShards>();
            foreach (var (_, services) in shards.All)
            {
                // Other tests' tenants share these tables: what is checked is this tenant's rows (the digests below).
                await services.GetRequiredService<DndExpiry>().RunAsync(CancellationToken.None);
                await services.GetRequiredService<DndChangeSweeper>().SweepAsync(CancellationToken.None);
                await services.GetRequiredService<DndChangeSweeper>().PurgeAsync(CancellationToken.None);
            }

            var job = new ExportJob(new ExportScope(Tenant, Domain), DateOnly.FromDateTime(DateTime.UtcNow));
            var deferred = await future.GetRequiredService<ExportJobRunner>().RunAsync(job.ToJson(), 1, CancellationToken.None);
            Assert.That(deferred.Outcome, Is.EqualTo(ExportJobOutcome.Deferred), "the nightly job waits for the move");
            Assert.That(deferred.Job!.Continuation, Is.EqualTo(1), "queued again, counted as a continuation");
        }

        Assert.That(await DigestsAsync(0), Is.EqualTo(before), "nothing changed the tenant's rows on the source during the move");
        Assert.That((await DigestsAsync(1)).Values.Sum(d => d.Rows), Is.Zero, "nor wrote them on the target");
        var block = await Cli("dnd", "block", "other@example.org", "--tenant", Tenant, "--note", "by phone");
        Assert.That(block.ExitCode, Is.EqualTo(ExitCodes.Refused), block.ToString());
        Assert.That(block.Stderr, Does.Contain("being moved"));

        var move = await RunAsync(["tenant", "move", "--tenant", Tenant, "--to", "1", "--yes", "--keep-source"],
            settings: new Dictionary<string, string?>(Shards) { ["SuppressionExport:JobTimeBudget"] = "00:00:02" });

        Assert.That(move.ExitCode, Is.EqualTo(0), move.ToString());
        Assert.That(move.Stderr, Does.Contain("an export of the tenant is running"), "the move saw the running export and waited for (or past) its time budget");
        Assert.That(await DigestsAsync(1), Is.EqualTo(before));
        await using (var future = TestSettings.Services(TestSettings.Configuration(Storage, Shards), (s, c) => s.AddMailgunCore(c), later))
        {
            var shards = future.GetRequiredService<TenantShards>();
            await shards.Services(0).GetRequiredService<DndExpiry>().RunAsync(CancellationToken.None);
            var source = await DigestsAsync(0);
            Assert.That(source[StorageNames.DndEntriesTable], Is.EqualTo(before[StorageNames.DndEntriesTable]),
                "the rows kept on the source (--keep-source) are unused: not expired there, so not announced twice");
            Assert.That(source[StorageNames.DndExpiriesTable].Rows, Is.Zero, "the source's index rows of a tenant that left are dropped");

            await shards.Services(1).GetRequiredService<DndExpiry>().RunAsync(CancellationToken.None);
            var target = await DigestsAsync(1);
            Assert.That(target[StorageNames.DndEntriesTable], Is.Not.EqualTo(before[StorageNames.DndEntriesTable]), "the soft bounce's temporary DND ends on the tenant's new shard (a new version and change row)");
            Assert.That(target[StorageNames.DndExpiriesTable].Rows, Is.Zero, "its index row handled there");
        }
    }

    [Test]
    public async Task On_a_busy_source_queue_the_move_waits_for_the_tenants_queued_event_and_copies_it_processed()
    {
        await SeedAsync();
        string recipient = $"queued.{Guid.NewGuid():N}@example.org";
        var signedAt = DateTimeOffset.UtcNow;
        await using var services = Services();
        var queued = await PostAsync(services, SignedWebhook.Body(SignedWebhook.Failed(recipient, signedAt, domain: Domain), signedAt));
        Assert.That(queued.StatusCode, Is.EqualTo(200), "queued on shard 0 before the move");
        var queue = services.GetRequiredService<StorageClients>().Queues.GetQueueClient(StorageNames.EventsQueue);
        var registry = services.GetRequiredService<TenantRegistry>();

        var move = Cli("tenant", "move", "--tenant", Tenant, "--to", "1", "--yes", "--settle", "2s");
        try
        {
            while ((await registry.GetAsync(Tenant, CancellationToken.None))!.MovingTo is null)
            {
                Assert.That(move.IsCompleted, Is.False, "the move marks the tenant before anything else");
                await Task.Delay(100);
            }

            // Past every instance's cache deadline (1 s here; a queue message's time is whole seconds), other tenants keep the queue busy: it never empties.
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            for (int i = 0; i < 5; i++)
            {
                await queue.SendMessageAsync($$"""{"tenant":"another-tenant-{{i}}"}""");
            }

            // Longer than --settle: a move that did not see the tenant's message at the head would have copied by now.
            await Task.Delay(TimeSpan.FromSeconds(4));
            Assert.That(move.IsCompleted, Is.False, "the move waits while a message of the tenant is queued on the source");

            // The queue trigger on shard 0 takes the tenant's message (processed there, before the copy); the others stay queued.
            var messages = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30))).Value;
            foreach (var message in messages)
            {
                if (message.MessageText.Contains(Tenant, StringComparison.Ordinal))
                {
                    await services.GetRequiredService<EventProcessor>().ProcessAsync(message.MessageText, 1, CancellationToken.None);
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                }
                else
                {
                    await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero);
                }
            }

            var done = await move.WaitAsync(TimeSpan.FromMinutes(2));
            Assert.That(done.ExitCode, Is.EqualTo(0), done.ToString());
            Assert.That(done.Stderr, Does.Contain("settling"), "it ended on --settle, the queue still busy with other tenants");
            Assert.That((await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount, Is.EqualTo(5), "other tenants' messages untouched");
            var shard1 = services.GetRequiredService<TenantShards>().Services(1);
            var moved = await shard1.GetRequiredService<DndStore>().GetStatusAsync(Tenant, recipient, CancellationToken.None);
            Assert.That(moved.Status.State, Is.EqualTo(DndState.Permanent), "the event processed on the source before the copy is on the new shard");
        }
        finally
        {
            await move.WaitAsync(TimeSpan.FromMinutes(2)).ContinueWith(_ => { }, TaskScheduler.Default);
            await queue.ClearMessagesAsync();
        }
    }

    private async Task<MailgunFunctions.Webhooks.IntakeResult> PostAsync(IServiceProvider services, string body)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(body);
        return await services.GetRequiredService<EventWebhookIntake>().AcceptAsync(Tenant, new MemoryStream(bytes), bytes.Length, "application/json", CancellationToken.None);
    }

    [Test]
    public async Task A_row_that_differs_on_the_target_stops_the_switch_loudly_and_a_rerun_completes_the_move()
    {
        await SeedAsync();
        var before = await DigestsAsync(0);
        var tamper = new TamperAfterFirstCopy(_shard1.ConnectionString, Tenant);

        var failed = await RunAsync(["tenant", "move", "--tenant", Tenant, "--to", "1", "--yes"], settings: Shards,
            extra: s => s.AddSingleton<HttpPipelinePolicy>(tamper));

        Assert.That(tamper.Tampered, Is.True, "the fault ran");
        Assert.That(failed.ExitCode, Is.EqualTo(ExitCodes.Storage), failed.ToString());
        Assert.That(failed.Stderr, Does.Contain("verify failed").And.Contain(StorageNames.DndEntriesTable).And.Contain("NOT switched"));
        var stuck = await RegistryAsync();
        Assert.That((stuck.Shard, stuck.MovingTo), Is.EqualTo((0, (int?)1)), "still on shard 0, marked moving");
        Assert.That(await DigestsAsync(0), Is.EqualTo(before), "the source untouched");

        var rerun = await Cli("tenant", "move", "--tenant", Tenant, "--to", "1", "--yes");

        Assert.That(rerun.ExitCode, Is.EqualTo(0), rerun.ToString());
        Assert.That((await RegistryAsync()).Shard, Is.EqualTo(1));
        Assert.That(await DigestsAsync(1), Is.EqualTo(before), "the rerun copied over the changed row");
    }

    [Test]
    public async Task A_dry_run_counts_rows_and_changes_nothing()
    {
        await SeedAsync();
        var before = await DigestsAsync(0);
        var registered = await RegistryAsync();

        var dry = await Cli("tenant", "move", "--tenant", Tenant, "--to", "1", "--dry-run", "--json");

        Assert.That(dry.ExitCode, Is.EqualTo(0), dry.ToString());
        Assert.That((bool)dry.Json["dryRun"]!, Is.True);
        var entries = dry.Json["tables"]!.First(t => (string?)t["table"] == StorageNames.DndEntriesTable);
        Assert.That(((int)entries["sourceRows"]!, (int)entries["targetRows"]!), Is.EqualTo((before[StorageNames.DndEntriesTable].Rows, 0)));
        var after = await RegistryAsync();
        Assert.That((after.Shard, after.MovingTo, after.UpdatedAt), Is.EqualTo((registered.Shard, registered.MovingTo, registered.UpdatedAt)));
        Assert.That(await DigestsAsync(0), Is.EqualTo(before));
        Assert.That((await DigestsAsync(1)).Values.Sum(d => d.Rows), Is.Zero);
        var refused = await Cli("tenant", "move", "--tenant", Tenant, "--to", "1");
        Assert.That(refused.ExitCode, Is.EqualTo(ExitCodes.Usage), "without --yes nothing is done");
        Assert.That((await RegistryAsync()).MovingTo, Is.Null);
        var beyond = await Cli("tenant", "move", "--tenant", Tenant, "--to", "2", "--yes");
        Assert.That(beyond.ExitCode, Is.EqualTo(ExitCodes.Usage), beyond.ToString());
    }

    [Test]
    public async Task Poison_commands_go_over_every_shard_and_requeue_to_the_shard_that_holds_the_message()
    {
        var queues = new Azure.Storage.Queues.QueueServiceClient(_shard1.ConnectionString, new Azure.Storage.Queues.QueueClientOptions { MessageEncoding = Azure.Storage.Queues.QueueMessageEncoding.Base64 });
        var poison = queues.GetQueueClient(StorageNames.EventsPoisonQueue);
        var events = queues.GetQueueClient(StorageNames.EventsQueue);
        await poison.CreateIfNotExistsAsync();
        await poison.ClearMessagesAsync();
        await events.CreateIfNotExistsAsync();
        await events.ClearMessagesAsync();
        string original = new JObject { ["tenant"] = Tenant, ["marker"] = Guid.NewGuid().ToString("N") }.ToString(Newtonsoft.Json.Formatting.None);
        string id = (await poison.SendMessageAsync(original)).Value.MessageId;

        var all = await Cli("poison", "list", "--queue", "events", "--json");
        var home = await Cli("poison", "list", "--queue", "events", "--shard", "0", "--json");

        Assert.That(all.ExitCode, Is.EqualTo(0), all.ToString());
        Assert.That(all.JsonLines.Single(l => (string?)l["id"] == id)["shard"]!.Value<int>(), Is.EqualTo(1));
        Assert.That(home.JsonLines.Where(l => (string?)l["id"] == id), Is.Empty, "--shard 0 looks at the home account only");
        var table = await Cli("poison", "list", "--queue", "events", "--shard", "1");
        Assert.That(table.Stdout, Does.StartWith("SHARD"));

        var requeue = await Cli("poison", "requeue", id, "--json");

        Assert.That(requeue.ExitCode, Is.EqualTo(0), requeue.ToString());
        Assert.That((int)requeue.JsonLines.Single()["shard"]!, Is.EqualTo(1));
        var back = (await events.ReceiveMessagesAsync(32)).Value;
        Assert.That(back.Select(m => m.MessageText), Is.EqualTo(new[] { original }), "back on shard 1's events queue");
    }

    /// <summary>
    /// After the copy's first transaction to shard 1 (the tenant's DND entries), someone changes one of those rows there:
    /// what verify must catch. Only the first time, so a rerun of the move sees no fault.
    /// </summary>
    private sealed class TamperAfterFirstCopy(string shard1, string tenant) : HttpPipelinePolicy
    {
        private readonly int _port = new TableServiceClient(shard1).Uri.Port;
        private int _done;

        public bool Tampered => _done == 1;

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            if (message.Request.Method == RequestMethod.Post && message.Request.Uri.Port == _port
                && message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal) && Interlocked.Exchange(ref _done, 1) == 0)
            {
                var table = new TableClient(shard1, StorageNames.DndEntriesTable);
                await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {DndKeys.TenantKey(tenant)}")))
                {
                    row["TamperedBy"] = "someone else";
                    await table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Merge);
                    break;
                }
            }
        }
    }
}
