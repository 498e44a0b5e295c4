using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Azure.Core.Pipeline;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;
using MailgunFunctions.Events;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Processing;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace MailgunFunctions.Benchmarks;

/// <summary>
/// Harness 6: the change feed. (a) Notifications per second: recorded changes (their outbox rows written beforehand)
/// dispatched as the app does (dnd-changes queue send, signed POST to a real receiver in the background, outbox row
/// confirmed), timed until the receiver has verified every one; the floor, in the same run, is a raw queue send plus a
/// raw signed POST of the same bodies to the same receiver. (b) EventProcessor with notifications on against the same
/// processor with them off (the processor's own floor), each on its own Azurite.
/// </summary>
public static class NotificationLoad
{
    private const int Concurrency = 16;
    private const int WarmUpEvents = 200;
    private const string Secret = "bench-notification-secret-0123456789abcdef";

    public static async Task<string> RunAsync(int events)
    {
        await using var receiver = await NotificationReceiver.StartAsync(() => DateTimeOffset.UtcNow);
        await using var preparing = TestSettings.Services(TestSettings.Configuration(Azurite.Unreachable()), (s, c) => s.AddMailgunCore(c), new FakeTimeProvider(WebhookSamples.Now));
        var intake = preparing.GetRequiredService<EventWebhookIntake>();
        string[] Envelopes(string prefix, int count) => Enumerable.Range(0, count).Select(i =>
        {
            using var prepared = intake.Prepare(TestSettings.SingleAccount(preparing), WebhookSamples.FailedWebhook($"{prefix}{i}@example.com"));
            return Encoding.UTF8.GetString(prepared.EnvelopeJson.Span);
        }).ToArray();

        Dictionary<string, string?> Settings(string storage, bool notify) => new()
        {
            ["AzureWebJobsStorage"] = storage,
            ["Storage:MaxRetries"] = "2",
            ["Notifications:DefaultUrl"] = notify ? receiver.Url.AbsoluteUri : null,
            ["Notifications:DefaultSecret"] = notify ? Secret : null,
            // No queue function runs here to take what the pump hands over: every first POST stays with the pump.
            ["Notifications:MaxWaitingPosts"] = "100000",
            ["Tenants:KeyEncryptionKeys:k1"] = TestSettings.KeyEncryptionKey,
        };

        // (b) processing, notifications off then on, each on a fresh Azurite with a warm-up.
        var processing = new Dictionary<bool, LoadStats>();
        var profiles = new List<(string Run, string Table)>();
        TimeSpan deliveredAfter = TimeSpan.Zero;
        foreach (bool notify in new[] { false, true })
        {
            await using var azurite = await Azurite.StartDedicatedAsync(persistent: false);
            var cpu = new CpuProfile(azurite);
            var profile = new StorageRequestProfile(azurite.TablePort);
            await using var services = TestSettings.Services(TestSettings.Configuration(azurite.ConnectionString, Settings(azurite.ConnectionString, notify)),
                (s, c) => s.AddMailgunCore(c).AddSingleton<HttpPipelinePolicy>(profile), TimeProvider.System);
            receiver.SetSecret(TestSettings.SingleAccount(services).Id, Secret);
            var processor = services.GetRequiredService<EventProcessor>();
            foreach (string warm in Envelopes($"warm{notify}", WarmUpEvents))
            {
                await processor.ProcessAsync(warm, 1, CancellationToken.None);
            }

            await services.GetRequiredService<NotificationPump>().DrainAsync(TimeSpan.FromMinutes(1));
            int before = receiver.Accepted.Count;
            string[] envelopes = Envelopes($"run{notify}", events);
            profile.Reset();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            processing[notify] = await LoadStats.RunAsync(events, Concurrency, cpu, async i =>
                (await processor.ProcessAsync(envelopes[i], 1, CancellationToken.None)).Outcome == EventOutcome.Processed);
            if (notify)
            {
                await WaitForAsync(receiver, before + events);
                deliveredAfter = clock.Elapsed;
            }

            profiles.Add(($"EventProcessor, notifications {(notify ? "on" : "off")}", profile.Table(events)));
        }

        // (a) dispatch of recorded changes against the raw floor, on one Azurite: all changes of one tenant (the single
        // account), then the same number spread over many registry tenants, each with its own endpoint and secret.
        var single = await DispatchRunAsync(receiver, Settings, events, tenantCount: 1);
        var spread = await DispatchRunAsync(receiver, Settings, events, SpreadTenants);
        profiles.Add(("dispatch, one tenant", single.Profile));
        profiles.Add(($"dispatch, {SpreadTenants} tenants", spread.Profile));
        var (dispatchStats, floorStats, dispatchedAfter) = (single.Dispatch, single.Floor, single.DispatchedAfter);

        double floorRate = floorStats.PerSecond;
        double dispatchRate = events / dispatchedAfter.TotalSeconds;
        double offRate = processing[false].PerSecond;
        double onRate = processing[true].PerSecond;
        var text = new StringBuilder();
        text.AppendLine($"{events} changes, {Concurrency} at a time; receiver: Kestrel on loopback verifying every signature. Each processing run on its own fresh Azurite, warmed by {WarmUpEvents} events.").AppendLine();
        text.AppendLine($"| | Per second | Ratio to its floor (goal ≥ 0.7) | p50 ms | p99 ms | Failed | {LoadStats.CpuHeaders} |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        text.AppendLine(Row("floor: raw queue send + raw signed POST (same bodies, same receiver)", floorRate, 1, floorStats));
        text.AppendLine(Row("notifications: dispatch of recorded changes (queue send, signed POST, outbox confirmed), until the receiver has all", dispatchRate, dispatchRate / floorRate, dispatchStats));
        double spreadFloorRate = spread.Floor.PerSecond, spreadRate = events / spread.DispatchedAfter.TotalSeconds;
        text.AppendLine(Row($"floor, {SpreadTenants} tenants: raw queue send + raw signed POST (same bodies, same receiver)", spreadFloorRate, 1, spread.Floor));
        text.AppendLine(Row($"notifications, {SpreadTenants} tenants ({events / SpreadTenants} changes each, each tenant its own endpoint and secret from the registry)", spreadRate, spreadRate / spreadFloorRate, spread.Dispatch));
        text.AppendLine(Row("floor: EventProcessor, notifications off", offRate, 1, processing[false]));
        text.AppendLine(Row("EventProcessor, notifications on", onRate, onRate / offRate, processing[true]));
        text.AppendLine();
        text.AppendLine($"With notifications on, the receiver had verified every change {deliveredAfter.TotalSeconds:F1} s after processing started ({events / deliveredAfter.TotalSeconds:F0} changes/s end to end). "
            + "p50/p99 of the dispatch row are of the call (the POST runs in the background); its rate is taken at the last verified delivery.");
        foreach (var (run, table) in profiles)
        {
            text.AppendLine().AppendLine($"Storage requests of the run \"{run}\" (per change):").AppendLine().Append(table);
        }

        return text.ToString();
    }

    private const int SpreadTenants = 100;

    private sealed record DispatchRun(LoadStats Dispatch, LoadStats Floor, TimeSpan DispatchedAfter, string Profile);

    /// <summary>
    /// Records <paramref name="events"/> changes (outbox rows written, nothing dispatched) spread evenly over
    /// <paramref name="tenantCount"/> tenants (1: the single-account tenant; more: registry tenants, each notified at the
    /// receiver with its own secret), dispatches them as the app does, and measures the raw floor on the same bodies.
    /// </summary>
    private static async Task<DispatchRun> DispatchRunAsync(NotificationReceiver receiver, Func<string, bool, Dictionary<string, string?>> settings, int events, int tenantCount)
    {
        await using var azurite = await Azurite.StartDedicatedAsync(persistent: false);
        var cpu = new CpuProfile(azurite);
        var profile = new StorageRequestProfile(azurite.TablePort);
        await using var services = TestSettings.Services(TestSettings.Configuration(azurite.ConnectionString, settings(azurite.ConnectionString, true)),
            (s, c) => s.AddMailgunCore(c).AddSingleton<HttpPipelinePolicy>(profile), TimeProvider.System);
        string[] tenants;
        if (tenantCount == 1)
        {
            tenants = [TestSettings.SingleAccount(services).Id];
        }
        else
        {
            tenants = Enumerable.Range(0, tenantCount).Select(i => $"feed{i:D4}").ToArray();
            var endpoint = new MailgunFunctions.Tenants.TenantNotifications(receiver.Url, Secret);
            foreach (string id in tenants)
            {
                await TestTenants.RegisterAsync(services, id, TestTenants.NewSigningKey(), [id + ".example.com"], notifications: endpoint);
            }
        }

        foreach (string id in tenants)
        {
            receiver.SetSecret(id, Secret);
        }

        string TenantOf(int i) => tenants[i % tenants.Length];
        var clients = services.GetRequiredService<StorageClients>();
        var recording = new DndStore(clients, TimeProvider.System, services.GetRequiredService<IOptions<DndOptions>>(), NullLogger<DndStore>.Instance, dispatcher: null);
        var classifier = services.GetRequiredService<IEventClassifier>();
        var notices = new DndNotice[events + WarmUpEvents];
        await LoadStats.RunAsync(notices.Length, Concurrency, cpu, async i =>
        {
            var data = SignedWebhook.Failed($"feed{i}@example.com", WebhookSamples.Now);
            var evt = MailgunEventParser.Parse(data);
            var applied = await recording.ApplyAsync(TenantOf(i), $"feed{i}@example.com", DndChange.FromEvent(evt, classifier.Classify(evt)) ?? throw new InvalidOperationException("a hard bounce is a DND change"), CancellationToken.None);
            notices[i] = applied.Notices.Single();
            return true;
        });

        var dispatcher = services.GetRequiredService<DndChangeDispatcher>();
        var pump = services.GetRequiredService<NotificationPump>();
        for (int i = 0; i < WarmUpEvents; i++)
        {
            await dispatcher.DispatchAsync([notices[events + i]], CancellationToken.None);
        }

        await pump.DrainAsync(TimeSpan.FromMinutes(1));
        int before = receiver.Accepted.Count;
        profile.Reset();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var dispatchStats = await LoadStats.RunAsync(events, Concurrency, cpu, async i =>
        {
            await dispatcher.DispatchAsync([notices[i]], CancellationToken.None);
            return true;
        });
        await WaitForAsync(receiver, before + events);
        await pump.DrainAsync(TimeSpan.FromMinutes(1));
        var dispatchedAfter = clock.Elapsed;
        string table = profile.Table(events);

        var queue = clients.Queues.GetQueueClient("bench-floor-changes");
        await queue.CreateIfNotExistsAsync();
        using var http = new HttpClient();
        string[] bodies = notices.Take(events).Select(n => n.ToJson()).ToArray();
        var floorStats = await LoadStats.RunAsync(events, Concurrency, cpu, async i =>
        {
            await queue.SendMessageAsync(bodies[i]);
            byte[] body = Encoding.UTF8.GetBytes(bodies[i]);
            long ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, receiver.Url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            request.Headers.Add(NotificationSignature.TimestampHeader, ts.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add(NotificationSignature.SignatureHeader, NotificationSignature.Sign(Secret, ts, body));
            request.Headers.Add(NotificationSignature.TenantHeader, TenantOf(i));
            using var response = await http.SendAsync(request);
            return response.IsSuccessStatusCode;
        });
        return new DispatchRun(dispatchStats, floorStats, dispatchedAfter, table);
    }

    private static string Row(string name, double rate, double ratio, LoadStats stats) =>
        $"| {name} | {rate:F0} | {ratio:F2} | {stats.Percentile(50):F1} | {stats.Percentile(99):F1} | {stats.Failures} | {stats.CpuCells} |";

    private static async Task WaitForAsync(NotificationReceiver receiver, int count)
    {
        var limit = System.Diagnostics.Stopwatch.StartNew();
        while (receiver.Accepted.Count < count)
        {
            if (limit.Elapsed > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException($"the receiver has {receiver.Accepted.Count} of {count} notifications after 5 minutes");
            }

            await Task.Delay(5);
        }
    }
}
