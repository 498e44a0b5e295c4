using MailgunFunctions;
using MailgunFunctions.Events;
using MailgunFunctions.Rates;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace MailgunOps.Tests;

/// <summary><c>stats</c> over the counters the processor writes (<see cref="TenantDailyRates"/>), as a table with a chart and as JSON.</summary>
public sealed class StatsCommandTests : OpsHarness
{
    private async Task RecordAsync(string type, RateKind kind, int count, DateTimeOffset at)
    {
        await using var services = TestSettings.Services(TestSettings.Configuration(Storage, new Dictionary<string, string?> { ["Rates:MinimumVolume"] = "1000" }),
            (s, c) => s.AddMailgunCore(c), TimeProvider.System);
        var rates = services.GetRequiredService<TenantDailyRates>();
        for (int i = 0; i < count; i++)
        {
            await rates.RecordAsync(Tenant, new MailgunEvent { EventType = type, Id = $"{type}-{at:yyyyMMdd}-{i}", Timestamp = at, Recipient = $"r{i}@example.net" }, kind, CancellationToken.None);
        }
    }

    [Test]
    public async Task Stats_shows_each_day_with_its_rates_and_a_chart_and_the_same_as_json()
    {
        var today = DateTimeOffset.UtcNow;
        await RecordAsync("delivered", RateKind.Delivered, 1000, today);
        await RecordAsync("failed", RateKind.HardBounce, 60, today);
        await RecordAsync("complained", RateKind.Complaint, 2, today);
        await RecordAsync("delivered", RateKind.Delivered, 10, today.AddDays(-1));

        var json = await RunAsync(["stats", "--tenant", Tenant, "--days", "3", "--json"]);
        var text = await RunAsync(["stats", "--domain", Domain, "--days", "3"]);
        var bad = await RunAsync(["stats", "--tenant", Tenant, "--days", "0"]);

        Assert.Multiple(() =>
        {
            Assert.That(json.ExitCode, Is.EqualTo(0), json.ToString());
            var days = json.Json["days"]!;
            Assert.That(days.Select(d => (string?)d["day"]), Is.EqualTo(new[] { today.AddDays(-2), today.AddDays(-1), today }.Select(d => d.ToString("yyyy-MM-dd"))));
            Assert.That((long?)days[2]!["sent"], Is.EqualTo(1060));
            Assert.That((long?)days[2]!["complaints"], Is.EqualTo(2));
            Assert.That((double?)days[2]!["hardBounceRate"], Is.EqualTo(60 / 1060d).Within(1e-9));
            Assert.That((double?)days[2]!["complaintRate"], Is.EqualTo(2 / 1000d).Within(1e-9));
            // The CLI's JSON leaves out nulls: a rate below the minimum volume is absent.
            Assert.That(days[1]!["hardBounceRate"], Is.Null, "10 messages: below the minimum volume");
            Assert.That((long?)days[1]!["delivered"], Is.EqualTo(10));
            Assert.That(text.ExitCode, Is.EqualTo(0), text.ToString());
            Assert.That(text.Stdout, Does.Contain("5.66%").And.Contain("0.200%").And.Contain("##########|#"), "60 of 1060 is past the 5% critical line");
            Assert.That(bad.ExitCode, Is.EqualTo(ExitCodes.Usage), bad.ToString());
            Assert.That(bad.Stderr, Does.Contain("--days"));
        });
    }

    [TestCase(null, "")]
    [TestCase(0.0, "          |")]
    [TestCase(0.025, "#####     |")]
    [TestCase(0.05, "##########|")]
    [TestCase(0.1, "##########|##########")]
    [TestCase(0.5, "##########|##########")]
    public void The_bar_puts_the_critical_threshold_in_the_middle(double? rate, string bar) =>
        Assert.That(StatsCommand.Bar(rate, 0.05), Is.EqualTo(bar));
}
