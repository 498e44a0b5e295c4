using MailgunFunctions.Events;
using MailgunFunctions.Processing;
using MailgunFunctions.Rates;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace MailgunFunctions.Tests.Rates;

/// <summary>The per-tenant daily counters against Azurite: exact under concurrency and redelivery, thresholds logged once.</summary>
public class TenantDailyRatesTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Today = DateOnly.FromDateTime(Now.UtcDateTime);

    private static async Task<ServiceProvider> ServicesAsync(CapturedLogs? logs = null, int shards = 4) =>
        TestSettings.Services(TestSettings.Configuration(await Azurite.SharedConnectionStringAsync(), new Dictionary<string, string?>
        {
            ["Rates:Shards"] = shards.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Rates:MinimumVolume"] = "100",
            ["Dnd:MaxWriteAttempts"] = "50",
        }), (s, c) => s.AddMailgunCore(c), new FakeTimeProvider(Now), logs);

    private static MailgunEvent Event(string type, int i, DateTimeOffset? at = null) => new()
    {
        EventType = type,
        Id = $"{type}-{i}",
        Timestamp = at ?? Now.AddMinutes(-i % 60),
        Recipient = $"r{i}@example.net",
    };

    [Test]
    public async Task Concurrent_events_each_delivered_twice_are_counted_exactly_once()
    {
        await using var services = await ServicesAsync(shards: 2);
        var rates = services.GetRequiredService<TenantDailyRates>();
        string tenant = TestTenants.NewId("rates");
        var events = Enumerable.Range(0, 120).Select(i => (Event("delivered", i), RateKind.Delivered))
            .Concat(Enumerable.Range(0, 30).Select(i => (Event("accepted", i), RateKind.Accepted)))
            .Concat(Enumerable.Range(0, 7).Select(i => (Event("failed", i), RateKind.HardBounce)))
            .Concat(Enumerable.Range(0, 3).Select(i => (Event("complained", i), RateKind.Complaint)))
            .Concat(Enumerable.Range(0, 5).Select(i => (Event("unsubscribed", i), RateKind.Unsubscribe)))
            .ToList();
        // Every event twice (a redelivery racing the first delivery), all at once over two shards: conflicts on every shard.
        var counted = new System.Collections.Concurrent.ConcurrentBag<bool>();
        await Parallel.ForEachAsync(events.Concat(events), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (item, ct) =>
            counted.Add(await rates.RecordAsync(tenant, item.Item1, item.Item2, ct)));

        var day = (await rates.ListAsync(tenant, Today, Today, default)).Single();
        Assert.Multiple(() =>
        {
            Assert.That(counted.Count(c => c), Is.EqualTo(events.Count), "one of the two copies of each event counts");
            Assert.That(day, Is.EqualTo(new DailyRates(Today, Accepted: 30, Delivered: 120, HardBounces: 7, Complaints: 3, Unsubscribes: 5)));
        });
    }

    [Test]
    public async Task A_crossed_threshold_is_logged_once_per_tenant_day_and_level()
    {
        var logs = new CapturedLogs();
        await using var services = await ServicesAsync(logs);
        var rates = services.GetRequiredService<TenantDailyRates>();
        string tenant = TestTenants.NewId("rates");
        for (int i = 0; i < 100; i++)
        {
            await rates.RecordAsync(tenant, Event("delivered", i), RateKind.Delivered, default);
        }

        // 1 complaint in 100 delivered is 1%: past the warning (0.05%) and the critical (0.08%) level; ten more, concurrently, log nothing new.
        await rates.RecordAsync(tenant, Event("complained", 0), RateKind.Complaint, default);
        await Parallel.ForEachAsync(Enumerable.Range(1, 10), async (i, ct) => await rates.RecordAsync(tenant, Event("complained", i), RateKind.Complaint, ct));
        // Another day of the same tenant is judged on its own (below the minimum volume: not judged at all).
        await rates.RecordAsync(tenant, Event("complained", 99, Now.AddDays(-1)), RateKind.Complaint, default);

        var mine = logs.Events.Where(e => e.Text.Contains(tenant, StringComparison.Ordinal)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(mine.Count(e => e.EventId == 15001), Is.EqualTo(1));
            Assert.That(mine.Count(e => e.EventId == 15002 && e.Level == LogLevel.Critical), Is.EqualTo(1));
            Assert.That(mine.Single(e => e.EventId == 15002).Text, Does.Contain("complaints").And.Contain("2026-03-01"));
        });
    }

    [Test]
    public async Task The_processor_counts_a_redelivered_delivery_once()
    {
        await using var services = await ServicesAsync();
        var processor = services.GetRequiredService<EventProcessor>();
        string tenant = TestTenants.NewId("rates");
        string envelope = Queueing.EnvelopeCodec.Serialize(new Queueing.EventEnvelope
        {
            ReceivedAt = Now,
            Token = SignedWebhook.NewToken(),
            EventType = "delivered",
            EventId = "d1",
            Tenant = tenant,
            EventData = SignedWebhook.Simple("delivered", "dora@example.net", Now.AddMinutes(-1), domain: tenant + ".example.com"),
        });

        await processor.ProcessAsync(envelope, 1, default);
        await processor.ProcessAsync(envelope, 2, default);

        var day = (await services.GetRequiredService<TenantDailyRates>().ListAsync(tenant, Today.AddDays(-1), Today, default)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(day, Has.Count.EqualTo(2), "a day without events is listed as zeros");
            Assert.That(day[0].Delivered, Is.Zero);
            Assert.That(day[1].Delivered, Is.EqualTo(1));
        });
    }

    [TestCase(1000, 0, 0, 1000, 0.0)]
    [TestCase(1000, 960, 40, 1000, 0.04)]
    [TestCase(0, 960, 40, 1000, 0.04)]
    [TestCase(0, 90, 9, 100, null)]
    public void The_hard_bounce_rate_is_judged_on_messages_sent_from_the_minimum_volume(long accepted, long delivered, long bounces, int minimum, double? rate) =>
        Assert.That(new DailyRates(Today, accepted, delivered, bounces, 0, 0).HardBounceRate(minimum), rate is null ? Is.Null : Is.EqualTo(rate.Value).Within(1e-9));
}
