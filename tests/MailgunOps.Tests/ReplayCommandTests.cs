using MailgunFunctions;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunOps.Tests;

/// <summary>
/// <c>replay</c> with several events at once: poison messages sent once per bad line and naming it, an exact summary, the
/// same DND state whatever the order of the file, and plain progress lines when stderr is not a terminal.
/// </summary>
[NonParallelizable]
public sealed class ReplayCommandTests : OpsHarness
{
    [Test]
    public async Task Replaying_a_file_with_bad_lines_twice_poisons_each_bad_line_once_naming_file_and_line()
    {
        var (_, poison) = await EmptyEventQueuesAsync();
        var noTimestamp = SignedWebhook.Failed("bad1@example.org", Recent(), domain: Domain);
        noTimestamp.Remove("timestamp");
        var noRecipient = SignedWebhook.Simple("complained", "gone@example.org", Recent(), domain: Domain);
        noRecipient.Remove("recipient");
        string path = WriteLines(
            SignedWebhook.Failed("ok1@example.org", Recent(), domain: Domain),
            noTimestamp,
            SignedWebhook.Failed("ok2@example.org", Recent(), domain: Domain),
            noRecipient);

        var first = await RunAsync("replay", "--file", path, "--tenant", Tenant, "--json");
        var second = await RunAsync("replay", "--file", path, "--tenant", Tenant, "--json");

        Assert.That(first.ExitCode, Is.EqualTo(ExitCodes.Problems), first.ToString());
        Assert.That(second.ExitCode, Is.EqualTo(ExitCodes.Problems), "the lines are still bad: " + second);
        Assert.That((long?)first.Json["poisonedEarlier"], Is.EqualTo(0));
        Assert.That((long?)second.Json["poisonedEarlier"], Is.EqualTo(2), second.ToString());
        var messages = (await poison.PeekMessagesAsync(32)).Value.Select(m => JObject.Parse(m.MessageText)).ToList();
        Assert.That(messages.Select(m => (int?)m["replayLine"]), Is.EquivalentTo(new int?[] { 2, 4 }), "one poison message per bad line, over both runs");
        Assert.That(messages.Select(m => (string?)m["replayFile"]), Is.All.EqualTo(Path.GetFullPath(path)));
        Assert.That(messages.Select(m => (string?)m["reason"]), Is.EquivalentTo(new[] { "event_invalid", "recipient_missing" }));
        var list = await RunAsync("poison", "list", "--queue", "events", "--json");
        string id = (string)list.JsonLines.Single(r => (string?)r["reason"] == "event_invalid")["id"]!;
        var show = await RunAsync("poison", "show", id);
        Assert.That(show.Stdout, Does.Contain($"replayed: {Path.GetFullPath(path)} line 2"), show.ToString());
    }

    [Test]
    public async Task The_summary_stays_exact_with_many_events_at_once()
    {
        var events = Enumerable.Range(0, 120).Select(i => (i % 3) switch
        {
            0 => SignedWebhook.Failed($"h{i}@example.org", Recent(), domain: Domain),
            1 => SignedWebhook.Simple("complained", $"c{i}@example.org", Recent(), domain: Domain),
            _ => SignedWebhook.Simple("delivered", $"d{i}@example.org", Recent(), domain: Domain),
        }).ToArray();

        var run = await RunAsync("replay", "--file", WriteLines(events), "--tenant", Tenant, "--concurrency", "24", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.ToString());
        Assert.That((long?)run.Json["events"], Is.EqualTo(120));
        Assert.That((long?)run.Json["stateChanges"]!["none->permanent"], Is.EqualTo(40));
        Assert.That((long?)run.Json["stateChanges"]!["none->locked"], Is.EqualTo(40));
        Assert.That((long?)run.Json["categories"]!["hard-bounce"], Is.EqualTo(40));
        Assert.That((long?)run.Json["outcomes"]!["processed"], Is.EqualTo(120));
    }

    [Test]
    public async Task Replaying_the_same_events_shuffled_and_at_once_gives_the_same_dnd_entries_as_one_by_one_in_order()
    {
        string shuffledTenant = TestTenants.NewId("shuf");
        await using (var services = TestSettings.Services(TestSettings.Configuration(Storage), (s, c) => s.AddMailgunCore(c), TimeProvider.System))
        {
            await TestTenants.RegisterAsync(services, shuffledTenant, TestSettings.SigningKey, [shuffledTenant + ".example.com"]);
        }

        // Every address gets several events that each change its entry: soft bounces, a delivery, a hard bounce or a
        // complaint, an unsubscribe; in file order the newest comes last, shuffled it may come first.
        var events = new List<JObject>();
        for (int i = 0; i < 12; i++)
        {
            string a = $"o{i}@example.org";
            events.Add(SignedWebhook.Failed(a, Recent(60), code: 452, message: "4.2.2 Mailbox full", severity: "temporary"));
            events.Add(SignedWebhook.Failed(a, Recent(50), code: 452, message: "4.2.2 Mailbox full", severity: "temporary"));
            events.Add(SignedWebhook.Simple("delivered", a, Recent(40)));
            events.Add(i % 3 == 0 ? SignedWebhook.Simple("complained", a, Recent(30)) : SignedWebhook.Failed(a, Recent(30)));
            if (i % 2 == 0)
            {
                events.Add(SignedWebhook.Simple("unsubscribed", a, Recent(20)));
            }
        }

        var shuffled = events.OrderBy(_ => Random.Shared.Next()).ToArray();
        var ordered = await RunAsync("replay", "--file", WriteLines([.. events]), "--tenant", Tenant, "--concurrency", "1", "--json");
        var mixed = await RunAsync("replay", "--file", WriteLines(shuffled), "--tenant", shuffledTenant, "--json");
        Assert.That(ordered.ExitCode, Is.EqualTo(ExitCodes.Ok), ordered.ToString());
        Assert.That(mixed.ExitCode, Is.EqualTo(ExitCodes.Ok), mixed.ToString());

        var one = await RunAsync("dnd", "list", "--tenant", Tenant, "--all", "--json");
        var other = await RunAsync("dnd", "list", "--tenant", shuffledTenant, "--all", "--json");
        static List<string> Entries(OpsRun run) => run.JsonLines.Select(l =>
        {
            l.Remove("tenant");
            return l.ToString(Newtonsoft.Json.Formatting.None);
        }).OrderBy(s => s, StringComparer.Ordinal).ToList();
        Assert.That(Entries(one), Has.Count.EqualTo(12));
        Assert.That(Entries(other), Is.EqualTo(Entries(one)));
    }

    [Test]
    public async Task Concurrency_out_of_range_is_a_usage_error()
    {
        string path = WriteLines(SignedWebhook.Failed("z@example.org", Recent(), domain: Domain));

        var zero = await RunAsync("replay", "--file", path, "--concurrency", "0");
        var huge = await RunAsync("replay", "--file", path, "--concurrency", "100000");

        Assert.That(zero.ExitCode, Is.EqualTo(ExitCodes.Usage), zero.ToString());
        Assert.That(zero.Stderr, Does.Contain("--concurrency must be between 1 and 256"));
        Assert.That(huge.ExitCode, Is.EqualTo(ExitCodes.Usage), huge.ToString());
    }

    [Test]
    public async Task Progress_goes_to_stderr_as_plain_lines_when_it_is_not_a_terminal()
    {
        var run = await RunAsync("replay", "--file", WriteLines(
            SignedWebhook.Failed("p1@example.org", Recent(), domain: Domain),
            SignedWebhook.Failed("p2@example.org", Recent(), domain: Domain)), "--tenant", Tenant, "--json");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.ToString());
        Assert.That(run.Stderr, Does.Contain("replay: 2 of 2 events (100.0%)"));
        Assert.That(run.Stderr, Does.Not.Contain("\u001b").And.Not.Contain("\r"), "no control codes when redirected");
        Assert.That((long?)run.Json["events"], Is.EqualTo(2), "stdout holds the summary only");
    }

    [Test]
    public async Task Backfill_shows_each_mailgun_retry_with_its_wait_and_counts_without_a_total()
    {
        Mailgun.SetEvents(Domain, [SignedWebhook.Failed("rt1@example.org", Recent(60), domain: Domain), SignedWebhook.Failed("rt2@example.org", Recent(30), domain: Domain)]);
        Mailgun.Fail(Domain, "events", afterPages: 0, System.Net.HttpStatusCode.TooManyRequests, retryAfter: "1");

        // A real process with the retry settings that ship, stderr redirected: plain lines.
        var run = await RunProcessAsync(["backfill", "--domain", Domain, "--since", "3d", "--json"]);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.ToString());
        Assert.That(run.Stderr, Does.Match(@"Mailgun API GET /v3/\S+/events\S* answered 429; retry 1 in 1000 ms"), run.ToString());
        Assert.That(run.Stderr, Does.Contain("backfill: 2 events"));
        Assert.That(run.Stderr, Does.Not.Contain("\u001b"));
        Assert.That(run.Stderr, Does.Not.Contain(TestSettings.ApiKey), "the key never shows");
    }

    [Test]
    public async Task Export_and_enable_from_a_file_show_progress_on_stderr()
    {
        Mailgun.SetGeneratedList(Domain, "bounces", 250, i => new JObject { ["address"] = $"b{i}@example.org", ["code"] = "550", ["error"] = "x", ["created_at"] = "Mon, 01 Jan 2024 00:00:00 UTC" });
        Mailgun.SetList(Domain, "complaints", []);
        Mailgun.SetList(Domain, "unsubscribes", []);
        Mailgun.SetList(Domain, "whitelists", []);
        string file = Path.Combine(Work, "enable.txt");
        File.WriteAllLines(file, ["# nobody of these has an entry", "nobody1@example.org", "", "nobody2@example.org"]);

        var export = await RunAsync("export", "--domain", Domain, "--json");
        var enable = await RunAsync("dnd", "enable", "--file", file, "--domain", Domain, "--note", "n", "--json");

        Assert.That(export.ExitCode, Is.EqualTo(ExitCodes.Ok), export.ToString());
        Assert.That(export.Stderr, Does.Contain("export: 250 records"), export.ToString());
        Assert.That(enable.Stderr, Does.Contain("dnd enable: 2 of 2 addresses (100.0%)"), enable.ToString());
    }
}
