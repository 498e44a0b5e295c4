using Microsoft.Extensions.Time.Testing;

namespace MailgunOps.Tests;

/// <summary>The progress text (percent, rate, ETA) and when each mode prints, on a fake clock.</summary>
public sealed class ProgressLineTests
{
    [Test]
    public void Text_with_a_total_has_percent_rate_and_eta()
    {
        string text = ProgressLine.Format("replay", "events", 1_200, 5_000, TimeSpan.FromSeconds(4));

        Assert.That(text, Is.EqualTo("replay: 1,200 of 5,000 events (24.0%), 300/s, ETA 0:13"));
    }

    [Test]
    public void Text_without_a_total_has_count_and_rate_only()
    {
        Assert.That(ProgressLine.Format("backfill", "events", 45, null, TimeSpan.FromSeconds(10)), Is.EqualTo("backfill: 45 events, 4.5/s"));
        Assert.That(ProgressLine.Format("backfill", "events", 3, null, TimeSpan.Zero), Is.EqualTo("backfill: 3 events"), "no rate from no time");
        Assert.That(ProgressLine.Format("export", "records", 10, 10, TimeSpan.FromSeconds(2)), Is.EqualTo("export: 10 of 10 records (100.0%), 5.0/s"), "no ETA when done");
    }

    [TestCase(7, "0:07")]
    [TestCase(750, "12:30")]
    [TestCase(7500, "2:05:00")]
    [TestCase(0.2, "0:01")]
    public void Durations_read_as_minutes_and_seconds(double seconds, string expected) =>
        Assert.That(ProgressLine.Duration(TimeSpan.FromSeconds(seconds)), Is.EqualTo(expected));

    [Test]
    public void Redirected_it_prints_a_plain_line_every_thousand_items_and_a_last_one()
    {
        var time = new FakeTimeProvider();
        var error = new StringWriter();
        var progress = new ProgressLine(error, terminal: false, "replay", "events", 2_500, time);

        for (int i = 0; i < 2_500; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(1));
            progress.Add();
        }

        progress.Finish();

        var lines = error.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(3), error.ToString());
        Assert.That(lines[0], Does.StartWith("replay: 1,000 of 2,500 events (40.0%), 1,000/s, ETA 0:02"));
        Assert.That(lines[2], Does.StartWith("replay: 2,500 of 2,500 events (100.0%)"));
        Assert.That(error.ToString(), Does.Not.Contain("\u001b"));
    }

    [Test]
    public void Redirected_it_also_prints_when_items_come_slowly()
    {
        var time = new FakeTimeProvider();
        var error = new StringWriter();
        var progress = new ProgressLine(error, terminal: false, "backfill", "events", null, time);

        progress.Add();
        time.Advance(ProgressLine.PlainInterval);
        progress.Add();

        Assert.That(error.ToString().Trim(), Is.EqualTo("backfill: 2 events, 0.2/s"));
    }

    [Test]
    public void On_a_terminal_it_rewrites_one_line_at_most_four_times_a_second()
    {
        var time = new FakeTimeProvider();
        var error = new StringWriter();
        var progress = new ProgressLine(error, terminal: true, "replay", "events", 100, time);

        for (int i = 0; i < 100; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            progress.Add();
        }

        progress.Finish();

        string text = error.ToString();
        Assert.That(text.Split('\r', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(21), "every 250 ms of 5 s, and the last");
        Assert.That(text, Does.Contain("\u001b[K"));
        Assert.That(text, Does.EndWith("replay: 100 of 100 events (100.0%), 20/s\u001b[K" + Environment.NewLine));
    }

    [Test]
    public void Nothing_counted_prints_nothing()
    {
        var error = new StringWriter();
        new ProgressLine(error, terminal: false, "replay", "events", 0, new FakeTimeProvider()).Finish();

        Assert.That(error.ToString(), Is.Empty);
    }
}
