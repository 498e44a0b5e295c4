using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunOps;

/// <summary>
/// What <c>--help</c> and a wrong command line print: System.CommandLine's help, named <c>mailgun-ops</c> (the tool's
/// command, whatever the process is called), followed by examples of the command and the exit codes; for a wrong command
/// line, the error first and then that command's help, on stderr (a JSON object under <c>--json</c>).
/// </summary>
public static class OpsHelp
{
    public const string ToolName = "mailgun-ops";

    /// <summary>Examples for every command, by its path below the root ("" is the root). A test checks none is missing.</summary>
    public static IReadOnlyDictionary<string, string[]> Examples { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [""] = ["mailgun-ops dnd get ann@example.org --tenant loc123", "mailgun-ops tenant list", "mailgun-ops dnd enable --help"],
        ["dnd"] = ["mailgun-ops dnd get ann@example.org --tenant loc123", "mailgun-ops dnd list --domain mg.example.com --state locked"],
        ["dnd get"] = ["mailgun-ops dnd get ann@example.org --tenant loc123", "mailgun-ops dnd get ann@example.org --json    # every tenant with an entry"],
        ["dnd list"] =
        [
            "mailgun-ops dnd list --tenant loc123 --state permanent", "mailgun-ops dnd list --domain mg.example.com --reason complaint --json",
            "mailgun-ops dnd list --all-tenants --state locked --csv > locked.csv", "mailgun-ops dnd list --tenant loc123 --sort since --limit 50",
        ],
        ["dnd find"] =
        [
            "mailgun-ops dnd find --tenant loc123 --prefix jo", "mailgun-ops dnd find --tenant loc123 --contact-id c-123 --json",
            "mailgun-ops dnd find --all-tenants --prefix ann@example.org",
        ],
        ["dnd enable"] =
        [
            "mailgun-ops dnd enable ann@example.org --tenant loc123 --note \"mailbox restored, ticket 4711\"",
            "mailgun-ops dnd enable cat@example.org --tenant loc123 --override-unsubscribe --note \"asked to rejoin by phone 2026-11-20\"",
            "mailgun-ops dnd enable --file restored.txt --tenant loc123 --note \"mailboxes restored\"",
        ],
        ["dnd block"] = ["mailgun-ops dnd block dan@example.org --tenant loc123 --note \"asked by phone 2026-11-25, ticket 90\""],
        ["dnd forget"] = ["mailgun-ops dnd forget ann@example.org --tenant loc123 --note \"erasure request 2026-117\""],
        ["dnd stats"] = ["mailgun-ops dnd stats --tenant loc123", "mailgun-ops dnd stats --domain mg.example.com --json"],
        ["classify"] = ["mailgun-ops classify --code 550 --enhanced 5.1.1 --message \"user unknown\"", "mailgun-ops classify --file events.jsonl"],
        ["replay"] = ["mailgun-ops replay --file events.jsonl", "mailgun-ops replay --file events.jsonl --tenant loc123", "mailgun-ops replay --file events.jsonl --tenant loc123 --concurrency 8"],
        ["backfill"] = ["mailgun-ops backfill --domain mg.example.com --since 3d", "mailgun-ops backfill --tenant loc123 --since 12h --concurrency 4"],
        ["poison"] = ["mailgun-ops poison list", "mailgun-ops poison requeue <id>"],
        ["poison list"] = ["mailgun-ops poison list --queue events", "mailgun-ops poison list --shard 1 --json"],
        ["poison show"] = ["mailgun-ops poison show <id>"],
        ["poison requeue"] = ["mailgun-ops poison requeue <id>", "mailgun-ops poison requeue --all --queue inbound"],
        ["poison discard"] = ["mailgun-ops poison discard <id>", "mailgun-ops poison discard --all --queue events --dry-run", "mailgun-ops poison discard --all --queue events --yes"],
        ["notifications"] = ["mailgun-ops notifications list --tenant loc123"],
        ["notifications list"] = ["mailgun-ops notifications list --tenant loc123 --json"],
        ["notifications replay"] = ["mailgun-ops notifications replay <id> --tenant loc123", "mailgun-ops notifications replay --all --tenant loc123"],
        ["export"] = ["mailgun-ops export --tenant loc123 --out ./exports", "mailgun-ops export --domain mg.example.com"],
        ["export status"] = ["mailgun-ops export status", "mailgun-ops export status --date 2026-11-25 --failed"],
        ["stats"] = ["mailgun-ops stats --tenant loc123 --days 30", "mailgun-ops stats --domain mg.example.com --days 7 --json"],
        ["setup"] = ["mailgun-ops setup webhooks --domain mg.example.com --url \"https://app.example.net/api/mailgun/events?code=<key>\""],
        ["setup webhooks"] = ["mailgun-ops setup webhooks --domain mg.example.com --url \"https://app.example.net/api/mailgun/events?code=<key>\""],
        ["setup route"] = ["mailgun-ops setup route --domain mg.example.com --url \"https://app.example.net/api/mailgun/inbound?code=<key>\""],
        ["setup check-dns"] = ["mailgun-ops setup check-dns --domain mg.example.com"],
        ["setup test-route"] = ["mailgun-ops setup test-route --tenant loc123", "mailgun-ops setup test-route --tenant loc123 --domain mg.example.com --timeout 5m --json"],
        ["setup check"] = ["mailgun-ops setup check --tenant loc123", "mailgun-ops setup check --tenant loc123 --domain mg.example.com --verify --json"],
        ["webhook"] = ["mailgun-ops webhook send-sample --event failed --severity permanent"],
        ["webhook send-sample"] = ["mailgun-ops webhook send-sample", "mailgun-ops webhook send-sample --url https://app.example.net/api/mailgun/loc123/events --event complained"],
        ["tenant"] = ["mailgun-ops tenant list", "mailgun-ops tenant show --tenant loc123"],
        ["tenant connect"] = ["mailgun-ops tenant connect --tenant loc123 --domain mg.shop.example --app-url https://app.example.net --function-key-file key.txt < api-key.txt"],
        ["tenant list"] = ["mailgun-ops tenant list", "mailgun-ops tenant list --json"],
        ["tenant show"] = ["mailgun-ops tenant show --tenant loc123"],
        ["tenant set"] = ["mailgun-ops tenant set --tenant loc123 --name \"Shop Berlin\"", "mailgun-ops tenant set --tenant loc123 --brand-name \"Bäckerei Nord\" --brand-logo-url https://cdn.example.com/nord.png"],
        ["tenant add-domain"] = ["mailgun-ops tenant add-domain --tenant loc123 --domain mg2.shop.example"],
        ["tenant remove-domain"] = ["mailgun-ops tenant remove-domain --tenant loc123 --domain mg2.shop.example"],
        ["tenant rotate-signing-key"] = ["mailgun-ops tenant rotate-signing-key --tenant loc123", "mailgun-ops tenant rotate-signing-key --tenant loc123 --fetch"],
        ["tenant disconnect"] = ["mailgun-ops tenant disconnect --tenant loc123"],
        ["tenant rewrap"] = ["mailgun-ops tenant rewrap"],
        ["tenant audit"] = ["mailgun-ops tenant audit --tenant loc123"],
        ["tenant move"] = ["mailgun-ops tenant move --tenant loc123 --to 2 --dry-run", "mailgun-ops tenant move --tenant loc123 --to 2 --yes"],
        ["tenant parent"] = ["mailgun-ops tenant parent show --id acct-primary"],
        ["tenant parent add"] = ["mailgun-ops tenant parent add --id acct-primary < parent-api-key.txt"],
        ["tenant parent show"] = ["mailgun-ops tenant parent show --id acct-primary"],
        ["migrate"] = ["mailgun-ops migrate --dry-run", "mailgun-ops migrate"],
    };

    /// <summary>The path of a command below the root, e.g. "dnd enable".</summary>
    public static string PathOf(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is CommandResult c && c.Parent is not null; r = r.Parent)
        {
            names.Add(c.Command.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>The help of the command at <paramref name="path"/>: System.CommandLine's text, the tool's name, examples and exit codes.</summary>
    public static async Task<string> ForAsync(RootCommand root, string path)
    {
        var text = new StringWriter();
        string[] args = [.. path.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"];
        await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = text, Error = TextWriter.Null }).ConfigureAwait(false);
        // The usage names the process (MailgunOps, dotnet's testhost...); operators type the tool's command.
        string help = text.ToString().Replace("  " + root.Name + " ", "  " + ToolName + " ", StringComparison.Ordinal)
            .Replace("  " + root.Name + Environment.NewLine, "  " + ToolName + Environment.NewLine, StringComparison.Ordinal);
        var all = new System.Text.StringBuilder(help.TrimEnd()).AppendLine().AppendLine();
        if (Examples.TryGetValue(path, out var examples))
        {
            all.AppendLine("Examples:");
            foreach (string example in examples)
            {
                all.Append("  ").AppendLine(example);
            }

            all.AppendLine();
        }

        all.AppendLine("Exit codes:");
        foreach (var (code, meaning) in ExitCodes.Meanings)
        {
            all.Append("  ").Append(code).Append("  ").AppendLine(meaning);
        }

        return all.ToString();
    }

    /// <summary>
    /// Runs one parsed command line: help goes to stdout with examples and exit codes; a wrong command line prints its
    /// errors first, then the command's help, on stderr (exit 1); anything else runs the command.
    /// </summary>
    public static async Task<int> InvokeAsync(RootCommand root, ParseResult parsed, bool json, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (parsed.Errors.Count > 0)
        {
            string path = PathOf(parsed.CommandResult);
            if (json)
            {
                stderr.WriteLine(new JObject
                {
                    ["error"] = string.Join(" ", parsed.Errors.Select(e => e.Message)),
                    ["exitCode"] = ExitCodes.Usage,
                    ["help"] = $"{ToolName} {path} --help".Replace("  ", " ", StringComparison.Ordinal),
                }.ToString(Formatting.None));
                return ExitCodes.Usage;
            }

            foreach (var error in parsed.Errors)
            {
                stderr.WriteLine("error: " + error.Message);
            }

            stderr.WriteLine();
            stderr.Write(await ForAsync(root, path).ConfigureAwait(false));
            return ExitCodes.Usage;
        }

        if (parsed.Action is HelpAction)
        {
            stdout.Write(await ForAsync(root, PathOf(parsed.CommandResult)).ConfigureAwait(false));
            return ExitCodes.Ok;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, cancellationToken).ConfigureAwait(false);
    }
}
