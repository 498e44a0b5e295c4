using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Storage.Queues;
using MailgunFunctions.Dnd;
using MailgunFunctions.Export;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.MailgunApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Tests.Export;

/// <summary>
/// The nightly export at platform scale: 1,000 registry tenants, each its own Mailgun account (key, domain, region) in
/// the fake, fanned out by the timer's code and run by several "instances" draining the job queue as the queue trigger
/// does. A dedicated Azurite: the registry must hold exactly these tenants (the shared one holds other tests').
/// </summary>
[NonParallelizable]
[Category("Slow")]
public class ExportFanOutTests
{
    /// <summary>
    /// 200 tenants in the standard suite (about 1.5 minutes on 2 cores); MAILGUNFUNCTIONS_EXPORT_TENANTS changes it (1000 for
    /// the run measured in docs/export.md, 10000 for a night of the platform's size: both take far longer, on Azurite's in-memory tables).
    /// </summary>
    private static readonly int TenantCount = int.TryParse(Environment.GetEnvironmentVariable("MAILGUNFUNCTIONS_EXPORT_TENANTS"), out int n) && n >= 2 ? n : 200;
    private const int Instances = 4;
    private const int JobsPerInstance = 4;
    private const int MaxDequeueCount = 5;
    private static readonly DateOnly Day = new(2026, 11, 26);

    private Azurite _storage = null!;
    private MailgunFake _us = null!;
    private MailgunFake _eu = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _storage = await Azurite.StartDedicatedAsync(persistent: false);
        _us = await MailgunFake.StartAsync(TestSettings.ApiKey);
        _eu = await MailgunFake.StartAsync(TestSettings.ApiKey);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _us.DisposeAsync();
        await _eu.DisposeAsync();
        await _storage.DisposeAsync();
    }

    private sealed record FakeTenant(string Id, string[] Domains, string ApiKey, MailgunRegion Region, MailgunFake Mailgun, MailgunFake.FakeAccount Account, int Bounces)
    {
        public string Contact => $"contact.{Id}@example.net";
    }

    private ServiceProvider Services(CapturedLogs logs)
    {
        var settings = ApiTestServices.Settings(_us, _eu);
        settings["Tenants:KeyEncryptionKeys:k1"] = TestSettings.KeyEncryptionKey;
        settings["MailgunApi:MaxRetryAttempts"] = "1";
        // The storage client's own retries, as in production: 16 jobs at once keep one Azurite on 2 cores busy.
        settings["Storage:MaxRetries"] = "3";
        settings["Storage:NetworkTimeout"] = "00:00:30";
        return TestSettings.Services(TestSettings.Configuration(_storage.ConnectionString, settings), (s, c) => s.AddMailgunCore(c), TimeProvider.System, logs);
    }

    [Test]
    public async Task A_thousand_tenants_fan_out_to_one_job_per_domain_finish_on_parallel_instances_and_a_revoked_key_fails_alone()
    {
        var logs = new CapturedLogs();
        await using var timer = Services(logs);
        var tenants = await RegisterAsync(timer);
        var revoked = tenants[TenantCount / 2];
        revoked.Mailgun.RevokeApiKey(revoked.Account);
        int scopes = tenants.Sum(t => t.Domains.Length);

        var fanOut = await timer.GetRequiredService<ExportFanOut>().RunAsync(Day, CancellationToken.None);
        var queue = JobQueue();
        int queued = (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount;
        TestContext.Progress.WriteLine($"registered and fanned out: {fanOut.Elapsed.TotalMilliseconds:0} ms");
        var watch = Stopwatch.StartNew();
        var firstNight = await DrainAsync(logs);
        TestContext.Progress.WriteLine($"{scopes} scopes of {TenantCount} tenants: fan-out {fanOut.Elapsed.TotalMilliseconds:0} ms, jobs {watch.Elapsed.TotalSeconds:0.0} s " +
            $"on {Instances} instances x {JobsPerInstance} ({firstNight.Retried} transient retries)");

        var status = await timer.GetRequiredService<ExportStatusReport>().ForDateAsync(Day, null, CancellationToken.None);
        var refused = logs.Events.Where(e => e.EventId == 7021).ToList();
        var failed = status.Scopes.Where(s => s.State == ExportScopeState.Failed).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(fanOut.Jobs, Is.EqualTo(scopes), "one job per tenant and domain");
            Assert.That(fanOut.Tenants, Is.EqualTo(TenantCount));
            Assert.That(queued, Is.EqualTo(scopes), "the timer only queued: no export ran in it");
            Assert.That(firstNight.Poisoned, Is.Empty, "no job went to poison");
            Assert.That(firstNight.Outcomes.Count(o => o == ExportJobOutcome.Completed), Is.EqualTo(scopes - 1));
            Assert.That(status.Completed, Is.EqualTo(scopes - 1));
            Assert.That(status.Failed, Is.EqualTo(1));
            Assert.That(status.Running + status.NotStarted, Is.Zero);
            Assert.That(status.FanOut!.Jobs, Is.EqualTo(scopes));
            Assert.That(failed.Select(s => (s.Tenant, s.Domain)), Is.EqualTo(new[] { (revoked.Id, revoked.Domains[0]) }), "the revoked tenant fails alone");
            Assert.That(failed[0].Error, Does.Contain("401"));
            Assert.That(refused, Has.Count.EqualTo(1), "one error event (7021) for the revoked tenant");
            Assert.That(refused[0].Text, Does.Contain(revoked.Id + "/" + revoked.Domains[0]));
            Assert.That(logs.Events.Any(e => e.EventId == 7022), Is.False, "a refused key is not retried");
        });

        // Every completed scope holds its own tenant's lists: read with its own key, from its own region.
        var expectedRecords = tenants.SelectMany(t => t.Domains.Select(d => (Key: t.Id + "/" + d, Records: (long)t.Bounces + 1)))
            .Where(s => s.Key != revoked.Id + "/" + revoked.Domains[0]).ToDictionary(s => s.Key, s => (long?)s.Records);
        var actualRecords = status.Scopes.Where(s => s.State == ExportScopeState.Completed).ToDictionary(s => s.Tenant + "/" + s.Domain, s => s.Records);
        var wrongKey = tenants.SelectMany(t => t.Mailgun.Requests
                .Where(r => t.Domains.Any(d => r.RawTarget.StartsWith($"/v3/{d}/", StringComparison.Ordinal)) && r.Authorization != Authorization(t.ApiKey)))
            .ToList();
        var dnd = timer.GetRequiredService<DndStore>();
        Assert.Multiple(async () =>
        {
            Assert.That(actualRecords, Is.EquivalentTo(expectedRecords));
            Assert.That(wrongKey, Is.Empty, "no tenant's domain was read with another key");
            Assert.That(_us.Requests.Any(r => tenants.Where(t => t.Region == MailgunRegion.Eu).Any(t => r.RawTarget.Contains(t.Domains[0], StringComparison.Ordinal))), Is.False,
                "EU tenants are read in the EU only");
            foreach (var t in tenants.Where((_, i) => i % 97 == 0))
            {
                var own = (await dnd.GetStatusAsync(t.Id, t.Contact, CancellationToken.None)).Status;
                var other = (await dnd.GetStatusAsync(tenants[(Array.IndexOf(tenants, t) + 1) % TenantCount].Id, t.Contact, CancellationToken.None)).Status;
                Assert.That(own.State, Is.EqualTo(DndState.Locked), $"{t.Id}'s complaint is reconciled into {t.Id}'s DND");
                Assert.That(other.State, Is.EqualTo(DndState.None), $"{t.Id}'s complaint never reaches another tenant");
            }

            Assert.That(logs.Entries.Any(e => tenants.Any(t => e.Text.Contains(t.ApiKey, StringComparison.Ordinal))), Is.False, "no API key is logged");
        });

        // The timer fires again the same night (a past-due run, an operator): every job is delivered again.
        int before = _us.Requests.Count + _eu.Requests.Count;
        await timer.GetRequiredService<ExportFanOut>().RunAsync(Day, CancellationToken.None);
        var secondNight = await DrainAsync(logs);

        var newRequests = _us.Requests.Count + _eu.Requests.Count - before;
        var rerun = await timer.GetRequiredService<ExportStatusReport>().ForDateAsync(Day, null, CancellationToken.None);
        var revokedRow = rerun.Scopes.Single(s => s.Tenant == revoked.Id);
        Assert.Multiple(() =>
        {
            Assert.That(secondNight.Outcomes.Count(o => o == ExportJobOutcome.Completed), Is.EqualTo(scopes - 1), "completed scopes are skipped as completed");
            Assert.That(secondNight.Outcomes.Count(o => o == ExportJobOutcome.Failed), Is.EqualTo(1), "the failed scope is tried again, and refused again");
            Assert.That(newRequests, Is.EqualTo(1), "only the failed scope asks Mailgun again (one request, refused): no finished scope is read twice");
            Assert.That(revoked.Mailgun.Requests[^1].Status, Is.EqualTo(401));
            Assert.That(rerun.Completed, Is.EqualTo(scopes - 1));
            Assert.That(rerun.Failed, Is.EqualTo(1));
            Assert.That(revokedRow.Attempts, Is.EqualTo(2));
        });
    }

    private static string Authorization(string apiKey) => "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("api:" + apiKey));

    private QueueClient JobQueue() =>
        new(_storage.ConnectionString, StorageNames.ExportJobsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    /// <summary>
    /// <see cref="TenantCount"/> tenants, half in the US and half in the EU, each with its own Mailgun account and key; every tenant has a
    /// complaint of its own contact and 0-2 bounces; the first tenant has a second domain (one job per domain).
    /// </summary>
    private async Task<FakeTenant[]> RegisterAsync(IServiceProvider services)
    {
        var tenants = new FakeTenant[TenantCount];
        await Parallel.ForEachAsync(Enumerable.Range(0, TenantCount), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            string id = $"fan{i:D4}";
            string[] domains = i == 0 ? [$"mg.{id}.example.com", $"news.{id}.example.com"] : [$"mg.{id}.example.com"];
            var region = i % 2 == 0 ? MailgunRegion.Us : MailgunRegion.Eu;
            var mailgun = region == MailgunRegion.Us ? _us : _eu;
            string apiKey = $"key-{id}-{Guid.NewGuid():N}";
            var tenant = new FakeTenant(id, domains, apiKey, region, mailgun, mailgun.AddAccount(apiKey, TestTenants.NewSigningKey(), domains), i % 3);
            foreach (string domain in domains)
            {
                mailgun.SetList(domain, "bounces", Enumerable.Range(0, tenant.Bounces).Select(b => ApiTestServices.Bounce($"bounce{b}.{id}@example.net", 550)));
                mailgun.SetList(domain, "complaints", [ApiTestServices.Complaint(tenant.Contact)]);
                mailgun.SetList(domain, "unsubscribes", []);
                mailgun.SetList(domain, "whitelists", []);
            }

            await TestTenants.RegisterAsync(services, id, TestTenants.NewSigningKey(), domains, apiKey, region: region);
            tenants[i] = tenant;
        });
        return tenants;
    }

    private sealed record Drained(List<ExportJobOutcome> Outcomes, List<string> Poisoned, int Retried);

    /// <summary>
    /// Runs the queue's jobs as the Functions host does on <see cref="Instances"/> instances of <see cref="JobsPerInstance"/>
    /// jobs at once, each instance its own service provider (own caches and clients): a returned job is deleted, a thrown
    /// one becomes visible again at once (visibilityTimeout 0), and after <see cref="MaxDequeueCount"/> deliveries goes to poison.
    /// </summary>
    private async Task<Drained> DrainAsync(CapturedLogs logs)
    {
        var outcomes = new ConcurrentBag<ExportJobOutcome>();
        var poisoned = new ConcurrentBag<string>();
        int retried = 0;
        var queue = JobQueue();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(40));
        await Task.WhenAll(Enumerable.Range(0, Instances).Select(async _ =>
        {
            await using var instance = Services(logs);
            var runner = instance.GetRequiredService<ExportJobRunner>();
            await Task.WhenAll(Enumerable.Range(0, JobsPerInstance).Select(async _ =>
            {
                while (true)
                {
                    deadline.Token.ThrowIfCancellationRequested();
                    var messages = (await queue.ReceiveMessagesAsync(1, TimeSpan.FromMinutes(2), deadline.Token)).Value;
                    if (messages.Length == 0)
                    {
                        return;
                    }

                    var message = messages[0];
                    try
                    {
                        outcomes.Add((await runner.RunAsync(message.Body.ToString(), message.DequeueCount, deadline.Token)).Outcome);
                        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, deadline.Token);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        Interlocked.Increment(ref retried);
                        TestContext.Progress.WriteLine($"delivery {message.DequeueCount} failed: {ex.Message.Split('\n')[0]}");
                        if (message.DequeueCount >= MaxDequeueCount)
                        {
                            poisoned.Add(message.Body.ToString());
                            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, deadline.Token);
                        }
                        else
                        {
                            await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: deadline.Token);
                        }
                    }
                }
            }));
        }));
        return new Drained(outcomes.ToList(), poisoned.ToList(), retried);
    }
}
