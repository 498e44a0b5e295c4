using MailgunFunctions;
using MailgunFunctions.Testing;

namespace MailgunOps.Tests;

/// <summary><c>dnd list</c> as an operator pages through a tenant: blocked entries by default, --all, --since, --limit with --continue, --csv.</summary>
[NonParallelizable]
public sealed class DndListCommandTests : OpsHarness
{
    [Test]
    public async Task Lists_blocked_entries_by_default_and_everything_with_all()
    {
        await ReplayAsync(
            SignedWebhook.Failed("hard@example.org", Recent(), domain: Domain),
            SignedWebhook.Simple("delivered", "fine@example.org", Recent(), domain: Domain));

        var blocked = await RunAsync("dnd", "list", "--tenant", Tenant, "--json");
        var everything = await RunAsync("dnd", "list", "--tenant", Tenant, "--all", "--json");

        Assert.That(blocked.JsonLines.Select(l => (string?)l["address"]), Is.EqualTo(new[] { "hard@example.org" }));
        Assert.That(everything.JsonLines.Select(l => (string?)l["address"]), Is.EquivalentTo(new[] { "hard@example.org", "fine@example.org" }));
    }

    [Test]
    public async Task Limit_stops_with_a_token_and_continue_goes_on_without_repeating_or_missing_an_entry()
    {
        var addresses = Enumerable.Range(0, 7).Select(i => $"p{i}@example.org").ToArray();
        await ReplayAsync(addresses.Select(a => SignedWebhook.Failed(a, Recent(), domain: Domain)).ToArray());

        var seen = new List<string>();
        string? next = null;
        int pages = 0;
        do
        {
            string[] args = ["dnd", "list", "--tenant", Tenant, "--limit", "3", "--json", .. (next is null ? Array.Empty<string>() : ["--continue", next])];
            var page = await RunAsync(args);
            Assert.That(page.ExitCode, Is.EqualTo(ExitCodes.Ok), page.ToString());
            Assert.That(page.JsonLines, Has.Count.LessThanOrEqualTo(3));
            seen.AddRange(page.JsonLines.Select(l => (string)l["address"]!));
            var match = System.Text.RegularExpressions.Regex.Match(page.Stderr, "--continue (\\S+)");
            next = match.Success ? match.Groups[1].Value : null;
            pages++;
        }
        while (next is not null && pages < 10);

        Assert.That(pages, Is.EqualTo(3));
        Assert.That(seen, Is.EquivalentTo(addresses), "every entry once");
        var bad = await RunAsync("dnd", "list", "--tenant", Tenant, "--continue", "%%%");
        Assert.That(bad.ExitCode, Is.EqualTo(ExitCodes.Usage), bad.ToString());
    }

    [Test]
    public async Task Since_keeps_recent_dnd_and_csv_is_formula_safe()
    {
        await ReplayAsync(
            SignedWebhook.Failed("old@example.org", Recent(60 * 24 * 5), domain: Domain),
            SignedWebhook.Failed("=cmd@example.org", Recent(30), domain: Domain));

        var recent = await RunAsync("dnd", "list", "--tenant", Tenant, "--since", "2d", "--json");
        var csv = await RunAsync("dnd", "list", "--tenant", Tenant, "--csv");
        var both = await RunAsync("dnd", "list", "--tenant", Tenant, "--csv", "--json");

        Assert.That(recent.JsonLines.Select(l => (string?)l["address"]), Is.EqualTo(new[] { "=cmd@example.org" }));
        var lines = csv.Stdout.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("\"address\",\"state\",\"reason\",\"since\",\"until\",\"contact_id\""));
        Assert.That(lines, Has.Length.EqualTo(3));
        Assert.That(lines.Skip(1), Has.Some.StartWith("\"'=cmd@example.org\",\"permanent\","), "a cell a spreadsheet would run is neutralised");
        Assert.That(both.ExitCode, Is.EqualTo(ExitCodes.Usage));
    }
}
