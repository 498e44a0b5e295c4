using System.Net;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Queues;
using MailgunFunctions.Dnd;
using MailgunFunctions.Export;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using MailgunFunctions.Tenants;
using MailgunFunctions.Tests.MailgunApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace MailgunFunctions.Tests.Export;

/// <summary>
/// One export job, as the queue function runs it (<see cref="ExportJobRunner"/>), against the Mailgun fake (each tenant
/// its own account and key) and Azurite. Each test has its own registry tenant, so rows and blobs never meet another test's.
/// </summary>
public class ExportJobTests : ExportTestBed
{
    private string _tenant = null!;
    private string _domain = null!;
    private string _apiKey = null!;
    private MailgunFake.FakeAccount _account = null!;

    [SetUp]
    public void NewTenant()
    {
        _tenant = TestTenants.NewId("job");
        _domain = _tenant + ".example.com";
        _apiKey = "key-" + Guid.NewGuid().ToString("N");
        _account = Eu.AddAccount(_apiKey, TestTenants.NewSigningKey(), _domain);
    }

    private ExportScope Scope => new(_tenant, _domain);

    private ExportJob Job => new(Scope, Day);

    /// <summary>The app's own registration; the tenant's domain is in the EU, the single account has none (the registry is on).</summary>
    private ServiceProvider Services(CapturedLogs? logs = null, TimeProvider? time = null, Action<Dictionary<string, string?>>? change = null, HttpPipelinePolicy? storagePolicy = null)
    {
        var settings = ApiTestServices.Settings(Us, Eu);
        settings["Tenants:KeyEncryptionKeys:k1"] = TestSettings.KeyEncryptionKey;
        settings["MailgunApi:SuppressionPageSize"] = "100";
        settings["MailgunApi:MaxRetryAttempts"] = "1";
        change?.Invoke(settings);
        return TestSettings.Services(TestSettings.Configuration(Storage, settings), (s, c) => s.AddMailgunCore(c), time ?? TimeProvider.System, logs,
            before: storagePolicy is null ? null : s => s.AddSingleton(storagePolicy));
    }

    private async Task RegisterAsync(IServiceProvider services, TenantState state = TenantState.Connected)
    {
        var tenant = await TestTenants.RegisterAsync(services, _tenant, TestTenants.NewSigningKey(), [_domain], _apiKey, region: MailgunRegion.Eu);
        if (state != TenantState.Connected)
        {
            await services.GetRequiredService<TenantRegistry>().SaveAsync(tenant with { State = state, ApiKey = null }, "test", "test-disconnect", CancellationToken.None);
            services.GetRequiredService<TenantDirectory>().Forget(_tenant);
        }
    }

    private static Task<ExportJobResult> RunAsync(IServiceProvider services, ExportJob job, long dequeueCount = 1, CancellationToken cancellationToken = default) =>
        services.GetRequiredService<ExportJobRunner>().RunAsync(job.ToJson(), dequeueCount, cancellationToken);

    private static string[] Addresses(string csv) => csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')[0].Trim('"')).ToArray();

    private async Task<ExportStatus?> ByDate(IServiceProvider services) =>
        await services.GetRequiredService<ExportRunStore>().ListDateAsync(Day, _tenant, CancellationToken.None).SingleOrDefaultAsync();

    /// <summary>The jobs of this test's scope waiting on the shared queue (other tests' jobs are left alone).</summary>
    private async Task<List<ExportJob>> QueuedJobs()
    {
        var queue = new QueueClient(Storage, StorageNames.ExportJobsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var jobs = new List<ExportJob>();
        foreach (var message in (await queue.PeekMessagesAsync(32)).Value)
        {
            var job = ExportJob.Parse(message.Body.ToString());
            if (job.Scope == Scope)
            {
                jobs.Add(job);
            }
        }

        return jobs;
    }

    [Test]
    public void A_job_message_carries_tenant_domain_and_date_and_reads_back()
    {
        var job = new ExportJob(new ExportScope("Loc_42", "mg.example.com"), new DateOnly(2026, 11, 26), 3);

        Assert.Multiple(() =>
        {
            Assert.That(job.ToJson(), Is.EqualTo("{\"tenant\":\"Loc_42\",\"domain\":\"mg.example.com\",\"date\":\"2026-11-26\",\"continuation\":3}"));
            Assert.That(ExportJob.Parse(job.ToJson()), Is.EqualTo(job));
            Assert.That(ExportJob.Parse("{\"tenant\":\"Loc_42\",\"domain\":\"MG.Example.com\",\"date\":\"2026-11-26\"}"),
                Is.EqualTo(job with { Continuation = 0 }), "the domain is lower-cased; no continuation means the first job");
        });
    }

    [TestCase("not json")]
    [TestCase("[]")]
    [TestCase("{\"domain\":\"mg.example.com\",\"date\":\"2026-11-26\"}")]
    [TestCase("{\"tenant\":\"a/b\",\"domain\":\"mg.example.com\",\"date\":\"2026-11-26\"}")]
    [TestCase("{\"tenant\":\"loc\",\"domain\":\"not a domain\",\"date\":\"2026-11-26\"}")]
    [TestCase("{\"tenant\":\"loc\",\"domain\":\"mg.example.com\",\"date\":\"26.11.2026\"}")]
    [TestCase("{\"tenant\":\"loc\",\"domain\":\"mg.example.com\",\"date\":20261126}")]
    public void A_message_that_is_not_a_job_is_refused_with_the_reason(string text) =>
        Assert.That(() => ExportJob.Parse(text), Throws.TypeOf<ExportJobFormatException>().With.Message.Not.Empty);

    [Test]
    public async Task A_job_exports_and_reconciles_its_scope_with_the_tenants_own_key_and_region()
    {
        HostLists(Eu, _domain, bounces: ApiTestServices.Bounces(3, "job.example"), complaints: [ApiTestServices.Complaint("angry@job.example")]);
        var logs = new CapturedLogs();
        await using var services = Services(logs);
        await RegisterAsync(services);

        var result = await RunAsync(services, Job);

        var row = await ByDate(services);
        var dnd = (await services.GetRequiredService<DndStore>().GetStatusAsync(_tenant, "angry@job.example", CancellationToken.None)).Status;
        Assert.Multiple(async () =>
        {
            Assert.That(result.Outcome, Is.EqualTo(ExportJobOutcome.Completed));
            Assert.That(result.Summary!.Tenant, Is.EqualTo(_tenant));
            Assert.That(result.Summary.Region, Is.EqualTo("Eu"));
            Assert.That(Addresses((await ReadExportBlob($"{_tenant}/{_domain}/2026-11-26/bounces.csv"))!), Has.Length.EqualTo(3));
            Assert.That(await ReadExportBlob($"{_tenant}/{_domain}/2026-11-26/report.md"), Is.Not.Null);
            Assert.That(Eu.Requests.Where(r => r.RawTarget.StartsWith($"/v3/{_domain}/", StringComparison.Ordinal)).Select(r => r.Authorization).Distinct(),
                Is.EqualTo(new[] { "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("api:" + _apiKey)) }), "the tenant's own key, in its region");
            Assert.That(Us.Requests, Is.Empty);
            Assert.That(dnd.State, Is.EqualTo(DndState.Locked), "reconciled into the tenant's DND");
            Assert.That(row!.State, Is.EqualTo(ExportState.Completed), "the night's view (ExportRunsByDate)");
            Assert.That(row.Records, Is.EqualTo(4));
            Assert.That(logs.Events.Where(e => e.Level >= LogLevel.Warning), Is.Empty);
        });
    }

    [Test]
    public async Task A_revoked_key_fails_the_scope_visibly_without_a_retry_and_a_duplicate_job_does_the_same()
    {
        HostLists(Eu, _domain, bounces: ApiTestServices.Bounces(3, "job.example"));
        Eu.RevokeApiKey(_account);
        var logs = new CapturedLogs();
        await using var services = Services(logs);
        await RegisterAsync(services);

        var first = await RunAsync(services, Job);
        var second = await RunAsync(services, Job);

        var row = (await services.GetRequiredService<ExportRunStore>().GetAsync(Scope, Day, null, CancellationToken.None))!;
        var refused = logs.Events.Where(e => e.EventId == 7021).ToList();
        Assert.Multiple(async () =>
        {
            Assert.That(first.Outcome, Is.EqualTo(ExportJobOutcome.Failed), "returned, not thrown: the host completes the message");
            Assert.That(first.Error, Does.Contain("refused the API key (401)").And.Contain(_tenant));
            Assert.That(second.Outcome, Is.EqualTo(ExportJobOutcome.Failed));
            Assert.That(row.State, Is.EqualTo(ExportState.Failed));
            Assert.That(row.Error, Does.Contain("401"));
            Assert.That(row.Attempts, Is.EqualTo(2));
            Assert.That((await ByDate(services))!.State, Is.EqualTo(ExportState.Failed));
            Assert.That(refused, Has.Count.EqualTo(2));
            Assert.That(refused.All(e => e.Level == LogLevel.Error && e.Text.Contains(_tenant + "/" + _domain, StringComparison.Ordinal)), Is.True);
            Assert.That(logs.Entries.Any(e => e.Text.Contains(_apiKey, StringComparison.Ordinal)), Is.False, "the key is never logged");
            Assert.That(logs.Events.Any(e => e.EventId == 7022), Is.False, "no retry");
        });
    }

    [TestCase("unknown", "is not registered")]
    [TestCase("disconnected", "is disconnected")]
    [TestCase("other-domain", "is not a domain of tenant")]
    public async Task A_scope_whose_tenant_cannot_be_exported_fails_alone_and_is_not_retried(string why, string error)
    {
        var logs = new CapturedLogs();
        await using var services = Services(logs);
        if (why == "disconnected")
        {
            await RegisterAsync(services, TenantState.Disconnected);
        }
        else if (why == "other-domain")
        {
            await RegisterAsync(services);
        }

        var job = why == "other-domain" ? Job with { Scope = new ExportScope(_tenant, "other-" + _domain) } : Job;
        var result = await RunAsync(services, job);

        var row = (await services.GetRequiredService<ExportRunStore>().GetAsync(job.Scope, Day, null, CancellationToken.None))!;
        Assert.Multiple(() =>
        {
            Assert.That(result.Outcome, Is.EqualTo(ExportJobOutcome.Failed));
            Assert.That(row.State, Is.EqualTo(ExportState.Failed));
            Assert.That(row.Error, Does.Contain(error));
            Assert.That(logs.Events.Single(e => e.EventId == 7021).Text, Does.Contain(error));
            Assert.That(Eu.Requests, Is.Empty, "Mailgun is not asked");
        });
    }

    [Test]
    public async Task A_tenant_disconnected_after_its_export_completed_keeps_the_night_complete()
    {
        HostLists(Eu, _domain, bounces: ApiTestServices.Bounces(2, "job.example"));
        await using var services = Services();
        await RegisterAsync(services);
        Assert.That((await RunAsync(services, Job)).Outcome, Is.EqualTo(ExportJobOutcome.Completed));
        await RegisterAsync(services, TenantState.Disconnected);

        var duplicate = await RunAsync(services, Job);

        Assert.That(duplicate.Outcome, Is.EqualTo(ExportJobOutcome.Completed));
        Assert.That((await ByDate(services))!.State, Is.EqualTo(ExportState.Completed));
    }

    [Test]
    public async Task A_transient_failure_throws_for_the_hosts_retry_and_the_retry_continues_from_the_checkpoint()
    {
        HostLists(Eu, _domain, bounces: ApiTestServices.Bounces(500, "job.example"), complaints: [ApiTestServices.Complaint("angry@job.example")]);
        Eu.Fail(_domain, "bounces", afterPages: 3, HttpStatusCode.ServiceUnavailable, times: int.MaxValue);
        var logs = new CapturedLogs();
        await using var services = Services(logs, change: s => s["SuppressionExport:BlockSizeBytes"] = "1");
        await RegisterAsync(services);

        Assert.ThrowsAsync<MailgunApiException>(() => RunAsync(services, Job, dequeueCount: 1));

        var store = services.GetRequiredService<ExportRunStore>();
        var stopped = (await store.GetAsync(Scope, Day, SuppressionList.Bounces, CancellationToken.None))!;
        Assert.Multiple(() =>
        {
            Assert.That(stopped.Records, Is.EqualTo(300), "three pages uploaded and checkpointed");
            Assert.That(logs.Events.Single(e => e.EventId == 7022).Level, Is.EqualTo(LogLevel.Warning));
            Assert.That(logs.Events.Any(e => e.EventId == 7021), Is.False, "a 503 is not a refusal");
        });

        Eu.ClearFaults();
        int before = Eu.Requests.Count;
        var retry = await RunAsync(services, Job, dequeueCount: 2);

        string csv = (await ReadExportBlob($"{_tenant}/{_domain}/2026-11-26/bounces.csv"))!;
        Assert.Multiple(() =>
        {
            Assert.That(retry.Outcome, Is.EqualTo(ExportJobOutcome.Completed));
            Assert.That(Addresses(csv), Is.EqualTo(Enumerable.Range(0, 500).Select(i => $"user{i:D6}@job.example")), "complete, in order, no duplicates");
            Assert.That(Eu.Requests.Skip(before).Count(r => r.RawTarget.Contains("/bounces", StringComparison.Ordinal)), Is.EqualTo(3), "pages 4, 5 and the empty one");
            Assert.That(logs.Events.Any(e => e.EventId == 7010), Is.True, "resumed from its checkpoint");
        });
    }

    [Test]
    public async Task A_job_that_uses_its_time_budget_stops_at_a_checkpoint_and_queues_its_continuation_which_completes_the_scope()
    {
        HostLists(Eu, _domain, bounces: ApiTestServices.Bounces(500, "job.example"));
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 2, 0, 0, TimeSpan.Zero));
        var budget = TimeSpan.FromMinutes(1);
        // The third block upload takes "a minute": the budget runs out in the middle of the list.
        var clock = new AdvanceOnBlockUpload(time, budget, atUpload: 3);
        var logs = new CapturedLogs();
        await using var services = Services(logs, time, s =>
        {
            s["SuppressionExport:BlockSizeBytes"] = "1";
            s["SuppressionExport:JobTimeBudget"] = budget.ToString();
            // Only the budget may run out when the clock jumps.
            s["MailgunApi:AttemptTimeout"] = "00:10:00";
        }, clock);
        await RegisterAsync(services);

        var first = await RunAsync(services, Job);

        var store = services.GetRequiredService<ExportRunStore>();
        var checkpoint = (await store.GetAsync(Scope, Day, SuppressionList.Bounces, CancellationToken.None))!;
        var queued = await QueuedJobs();
        Assert.Multiple(() =>
        {
            Assert.That(first.Outcome, Is.EqualTo(ExportJobOutcome.Continued));
            Assert.That(first.Job, Is.EqualTo(Job with { Continuation = 1 }));
            Assert.That(queued, Is.EqualTo(new[] { Job with { Continuation = 1 } }), "the continuation is on the queue");
            Assert.That(checkpoint.State, Is.EqualTo(ExportState.Running), "a stop at the budget is not a failure");
            Assert.That(checkpoint.ResumeFrom, Is.Not.Null);
            Assert.That(logs.Events.Single(e => e.EventId == 7024).Text, Does.Contain("continuation 1"));
        });

        var second = await RunAsync(services, first.Job!);

        string csv = (await ReadExportBlob($"{_tenant}/{_domain}/2026-11-26/bounces.csv"))!;
        Assert.Multiple(() =>
        {
            Assert.That(second.Outcome, Is.EqualTo(ExportJobOutcome.Completed));
            Assert.That(Addresses(csv), Is.EqualTo(Enumerable.Range(0, 500).Select(i => $"user{i:D6}@job.example")), "complete, in order, no duplicates");
            Assert.That(logs.Events.Any(e => e.EventId == 7010), Is.True, "the continuation resumed from the checkpoint");
        });
    }

    [Test]
    public async Task A_job_past_the_last_continuation_fails_visibly_instead_of_running_forever()
    {
        await using var services = Services();
        await RegisterAsync(services);

        var result = await RunAsync(services, Job with { Continuation = ExportJobRunner.MaxContinuations + 1 });

        Assert.That(result.Outcome, Is.EqualTo(ExportJobOutcome.Failed));
        Assert.That((await ByDate(services))!.Error, Does.Contain("time budgets").And.Contain("SuppressionExport__JobTimeBudget"));
    }

    [Test]
    public async Task Duplicate_jobs_of_one_scope_and_date_export_once_whether_they_run_one_after_the_other_or_at_once()
    {
        HostLists(Eu, _domain, bounces: ApiTestServices.Bounces(250, "job.example"), complaints: [ApiTestServices.Complaint("angry@job.example")]);
        await using var services = Services(change: s => s["SuppressionExport:BlockSizeBytes"] = "1");
        await RegisterAsync(services);

        // Two deliveries at once (the fan-out ran twice): each may fail only transiently, and the host's retry then completes.
        var together = await Task.WhenAll(RunWithRetries(), RunWithRetries());
        int before = Eu.Requests.Count;
        var later = await RunAsync(services, Job);

        string csv = (await ReadExportBlob($"{_tenant}/{_domain}/2026-11-26/bounces.csv"))!;
        var history = await services.GetRequiredService<DndStore>().HistoryAsync(_tenant, "angry@job.example", CancellationToken.None).ToListAsync();
        Assert.Multiple(async () =>
        {
            Assert.That(together.Select(r => r.Outcome), Is.All.EqualTo(ExportJobOutcome.Completed));
            Assert.That(later.Outcome, Is.EqualTo(ExportJobOutcome.Completed));
            Assert.That(Eu.Requests.Count, Is.EqualTo(before), "the third job reads nothing from Mailgun: the scope is complete for the date");
            Assert.That(Addresses(csv), Is.EqualTo(Enumerable.Range(0, 250).Select(i => $"user{i:D6}@job.example")), "no record twice");
            Assert.That(history, Has.Count.EqualTo(1), "one DND change, however many jobs");
            Assert.That((await ByDate(services))!.State, Is.EqualTo(ExportState.Completed));
        });

        async Task<ExportJobResult> RunWithRetries()
        {
            for (int delivery = 1; ; delivery++)
            {
                try
                {
                    return await RunAsync(services, Job, delivery);
                }
                catch (Exception ex) when (delivery < 5 && ex is not AssertionException)
                {
                    TestContext.Progress.WriteLine($"delivery {delivery} failed, retried as the host would: {ex.Message.Split('\n')[0]}");
                }
            }
        }
    }

    [Test]
    public async Task A_message_that_is_not_a_job_goes_to_the_poison_queue_at_once()
    {
        string text = "{\"tenant\":\"" + _tenant + "\",\"note\":\"written by hand\"}";
        var logs = new CapturedLogs();
        await using var services = Services(logs);

        var result = await services.GetRequiredService<ExportJobRunner>().RunAsync(text, 1, CancellationToken.None);

        var poison = new QueueClient(Storage, StorageNames.ExportJobsPoisonQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var parked = (await poison.PeekMessagesAsync(32)).Value.Select(m => m.Body.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(result.Outcome, Is.EqualTo(ExportJobOutcome.Unreadable));
            Assert.That(parked, Does.Contain(text), "parked unchanged, base64 like the host's own poison messages");
            Assert.That(logs.Events.Single(e => e.EventId == 7023).Text, Does.Contain("'domain'"));
        });
    }

    /// <summary>Moves the fake clock forward while the <paramref name="atUpload"/>-th block upload is on its way, once.</summary>
    private sealed class AdvanceOnBlockUpload(FakeTimeProvider time, TimeSpan by, int atUpload) : HttpPipelineSynchronousPolicy
    {
        private int _uploads;

        public override void OnSendingRequest(HttpMessage message)
        {
            if (message.Request.Method == RequestMethod.Put && message.Request.Uri.Query.Contains("comp=block&", StringComparison.Ordinal)
                && Interlocked.Increment(ref _uploads) == atUpload)
            {
                time.Advance(by);
            }
        }
    }
}
