using System.Globalization;
using System.Text;
using Azure.Storage.Queues;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Processing;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace MailgunFunctions.Benchmarks;

/// <summary>
/// Harness 9, storage shards (docs/scaling.md): the same load, once on one storage account (K = 1) and once on two
/// (K = 2), each account its own Azurite. The load is the webhook's intake (<see cref="EventWebhookIntake"/>: tenant
/// lookup, token claim, queue put in the tenant's shard) and the queue trigger's processing (per shard, what
/// ShardQueueFunctions runs: receive up to 16, <see cref="EventProcessor"/> from the shard's own services, delete), both
/// running at once until every event is processed. Events are distinct hard bounces spread round-robin over
/// <see cref="Tenants"/> tenants; with K = 2 the even tenants are recorded on shard 0 and the odd ones on shard 1. Azurite
/// is single-threaded, so one account is one core's worth of storage: the ratio K = 2 / K = 1 says how much of a second
/// account the app turns into throughput, and each Azurite's CPU per event shows the work splitting by tenant.
/// </summary>
public static class ShardLoad
{
    private const int Tenants = 20;

    private static int _deleteMisses;

    // Mailgun's senders do not depend on K: the same concurrency posts webhooks in both runs.
    private const int Senders = 32;

    // The Functions queue trigger hands a worker up to batchSize (16) messages at once; each shard has its own trigger.
    private const int BatchSize = 16;

    // The polling back-off of an empty queue (the host's goes up to a minute; the runs here last seconds).
    private static readonly TimeSpan MinPollDelay = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxPollDelay = TimeSpan.FromMilliseconds(250);

    // Events per run that warm Azurite, the registry cache and the JIT up before the measured load (fewer in --quick).
    private static int WarmUpEvents(int events) => Math.Min(400, events / 5);

    private sealed record Run(int Shards, int Events, TimeSpan Elapsed, int Failures, int[] PerShard, TimeSpan[] AzuriteCpu, TimeSpan BenchCpu, double Requests)
    {
        public double PerSecond => Events / Elapsed.TotalSeconds;
    }

    public static async Task<string> RunAsync(int events)
    {
        var one = await RunOnceAsync(1, events);
        var two = await RunOnceAsync(2, events);

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{events:N0} distinct hard bounces over {Tenants} tenants, webhook intake ({Senders} senders) and processing (per shard: batches of {BatchSize}, as the queue trigger) at once, until every event is processed; each account its own Azurite, each run on fresh ones warmed with {WarmUpEvents(events)} events. With K = 2, tenants alternate between shard 0 and shard 1.").AppendLine();
        text.AppendLine("| Shards (K) | Events/s | Ratio to K = 1 | Failed (intake not 200, or not processed) | Events per shard | CPU ms/event: each Azurite | CPU ms/event: bench process | Storage requests per event (all accounts, idle polls included) |");
        text.AppendLine("|---:|---:|---:|---:|---|---|---:|---:|");
        foreach (var run in new[] { one, two })
        {
            string split = string.Join(" / ", run.PerShard.Select(n => n.ToString("N0", CultureInfo.InvariantCulture)));
            string cpu = string.Join(" / ", run.AzuriteCpu.Select(c => (c.TotalMilliseconds / run.Events).ToString("F2", CultureInfo.InvariantCulture)));
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {run.Shards} | {run.PerSecond:F0} | {run.PerSecond / one.PerSecond:F2} | {run.Failures} | {split} | {cpu} | {run.BenchCpu.TotalMilliseconds / run.Events:F2} | {run.Requests:F2} |");
        }

        text.AppendLine().AppendLine(CultureInfo.InvariantCulture,
            $"Ratio K = 2 / K = 1: **{two.PerSecond / one.PerSecond:F2}**. On a machine of {Environment.ProcessorCount} logical cores shared by the bench process and the Azurites, the ratio is bounded by the cores left for the second Azurite: it shows the storage work splitting by tenant (events and Azurite CPU per shard), not Azure's per-account limits (section 7 models those).");
        if (Volatile.Read(ref _deleteMisses) > 0)
        {
            text.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Deletes that found their message gone (404, ignored as the host does): {_deleteMisses}.");
        }

        return text.ToString();
    }

    private static async Task<Run> RunOnceAsync(int shards, int events)
    {
        var accounts = new List<Azurite>();
        try
        {
            for (int k = 0; k < shards; k++)
            {
                accounts.Add(await Azurite.StartDedicatedAsync(persistent: false));
            }

            var settings = new Dictionary<string, string?>
            {
                ["Storage:MaxRetries"] = "2",
                ["Storage:Shards"] = shards.ToString(CultureInfo.InvariantCulture),
            };
            for (int k = 1; k < shards; k++)
            {
                settings[StorageNames.ShardConnectionSetting(k)] = accounts[k].ConnectionString;
            }

            // The home container's pipeline policies are every shard's too (CoreRegistration.BuildShard).
            var counter = new StorageRequestCounter();
            await using var services = TestSettings.Services(TestSettings.Configuration(accounts[0].ConnectionString, settings), (s, c) => s.AddMailgunCore(c), TimeProvider.System,
                before: s => s.AddSingleton<Azure.Core.Pipeline.HttpPipelinePolicy>(counter));
            var tenants = new string[Tenants];
            for (int t = 0; t < Tenants; t++)
            {
                tenants[t] = $"bench{t:D2}";
                await TestTenants.RegisterAsync(services, tenants[t], TestSettings.SigningKey, [$"{tenants[t]}.example.com"], shard: t % shards);
            }

            var shardServices = Enumerable.Range(0, shards).Select(k => services.GetRequiredService<TenantShards>().Services(k)).ToArray();
            var intake = services.GetRequiredService<EventWebhookIntake>();

            await LoadAsync(intake, shardServices, Bodies(tenants, "warm", WarmUpEvents(events)));
            var bodies = Bodies(tenants, "contact", events);
            counter.Reset();
            var cpu = accounts.Select(a => new CpuProfile(a)).ToArray();
            var before = cpu.Select(c => c.Read()).ToArray();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (failures, perShard) = await LoadAsync(intake, shardServices, bodies);
            var elapsed = clock.Elapsed;
            var after = cpu.Select(c => c.Read()).ToArray();
            return new Run(shards, events, elapsed, failures, perShard,
                after.Zip(before, (a, b) => (a - b).Azurite).ToArray(), after[0].BenchProcess - before[0].BenchProcess, counter.Requests / (double)events);
        }
        finally
        {
            foreach (var account in accounts)
            {
                await account.DisposeAsync();
            }
        }
    }

    /// <summary>Signed webhook bodies of distinct hard bounces, round-robin over the tenants (made before the clock starts: signing is the sender's work).</summary>
    private static (string Tenant, byte[] Body)[] Bodies(string[] tenants, string prefix, int events)
    {
        var now = DateTimeOffset.UtcNow;
        return Enumerable.Range(0, events).Select(i =>
        {
            string tenant = tenants[i % tenants.Length];
            return (tenant, Encoding.UTF8.GetBytes(SignedWebhook.Body(SignedWebhook.Failed($"{prefix}{i}@example.net", now, domain: $"{tenant}.example.com"), now)));
        }).ToArray();
    }

    /// <summary>Posts the webhooks and processes them on their shards, both at once; returns the failures and the events processed per shard.</summary>
    private static async Task<(int Failures, int[] PerShard)> LoadAsync(EventWebhookIntake intake, IServiceProvider[] shards, (string Tenant, byte[] Body)[] bodies)
    {
        int events = bodies.Length;
        int failures = 0, next = -1, processed = 0;
        var perShard = new int[shards.Length];
        // A lost message would otherwise keep the consumers waiting for ever: what is not processed by then is a failure.
        using var done = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        var consumers = shards.Select((services, k) => Task.Run(async () =>
        {
            var queue = services.GetRequiredService<StorageClients>().Queues.GetQueueClient(StorageNames.EventsQueue);
            var processor = services.GetRequiredService<EventProcessor>();
            // The Functions host creates a trigger's queue when it starts listening; the intake would only on its first put.
            await queue.CreateIfNotExistsAsync();
            // As the host's queue listener: an empty queue is polled again after a delay that doubles up to a maximum.
            var idle = MinPollDelay;
            while (!done.IsCancellationRequested)
            {
                var batch = (await queue.ReceiveMessagesAsync(BatchSize, TimeSpan.FromMinutes(5))).Value;
                if (batch.Length == 0)
                {
                    await Task.Delay(idle);
                    idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, MaxPollDelay.Ticks));
                    continue;
                }

                idle = MinPollDelay;

                await Task.WhenAll(batch.Select(async message =>
                {
                    var result = await processor.ProcessAsync(message.MessageText, message.DequeueCount, CancellationToken.None);
                    try
                    {
                        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                    }
                    catch (Azure.RequestFailedException ex) when (ex.Status == 404)
                    {
                        // As the host: the message was processed; a delete that finds it gone (Azurite under load has
                        // answered 404 here) changes nothing about the result. Counted, so the run can say so.
                        Interlocked.Increment(ref _deleteMisses);
                    }
                    if (result.Outcome != EventOutcome.Processed)
                    {
                        Interlocked.Increment(ref failures);
                    }

                    Interlocked.Increment(ref perShard[k]);
                    if (Interlocked.Increment(ref processed) == events)
                    {
                        await done.CancelAsync();
                    }
                }));
            }
        })).ToArray();

        var senders = Enumerable.Range(0, Senders).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < events)
            {
                using var body = new MemoryStream(bodies[i].Body);
                var answer = await intake.AcceptAsync(bodies[i].Tenant, body, body.Length, "application/json", CancellationToken.None);
                if (answer.StatusCode != 200)
                {
                    // Never queued, so never processed: counted here and in the total the consumers wait for.
                    Interlocked.Increment(ref failures);
                    if (Interlocked.Increment(ref processed) == events)
                    {
                        await done.CancelAsync();
                    }
                }
            }
        })).ToArray();

        await Task.WhenAll(senders);
        await Task.WhenAll(consumers);
        return (failures + Math.Max(0, events - Volatile.Read(ref processed)), perShard);
    }
}
