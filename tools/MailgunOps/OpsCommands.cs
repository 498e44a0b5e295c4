using System.CommandLine;
using MailgunFunctions.MailgunApi;

namespace MailgunOps;

/// <summary>The command tree: names and options exactly as docs/cli.md lists them, so scripts can rely on them.</summary>
public static class OpsCommands
{
    public static RootCommand Build(OpsRuntime runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        var root = new RootCommand("mailgun-ops: query and fix DND state, replay events and set Mailgun up, with the same code as the functions.");
        root.Options.Add(runtime.Storage);
        root.Options.Add(runtime.ApiKey);
        root.Options.Add(runtime.Json);
        root.Options.Add(runtime.DnsServer);
        root.Options.Add(runtime.Verbose);
        root.Options.Add(runtime.SettingsFile);
        root.Options.Add(runtime.MailgunBaseUrl);
        root.Subcommands.Add(DndCommands.Build(runtime));
        root.Subcommands.Add(ClassifyCommand.Build(runtime));
        foreach (var command in ReplayCommands.Build(runtime))
        {
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(PoisonCommands.Build(runtime));
        root.Subcommands.Add(NotificationCommands.Build(runtime));
        root.Subcommands.Add(ExportCommand.Build(runtime));
        root.Subcommands.Add(StatsCommand.Build(runtime));
        root.Subcommands.Add(SetupCommands.Build(runtime));
        root.Subcommands.Add(WebhookCommands.Build(runtime));
        root.Subcommands.Add(TenantCommands.Build(runtime));
        root.Subcommands.Add(MigrateCommand.Build(runtime));
        return root;
    }

    public static Option<string> Domain(bool required, string description = "One of the tenant's sending domains (names the tenant when --tenant is not given).") =>
        new("--domain") { Description = description, Required = required };

    public static Option<string> Tenant(string description = "The tenant (the platform's location id); or name it by one of its domains with --domain.") =>
        new("--tenant") { Description = description };

    /// <summary>Who makes a change, for the DND history and the tenant audit.</summary>
    public static Option<string?> Actor() => new("--actor") { Description = "Who does it, for the history and the audit (default: the OS user name)." };

    /// <summary>The recorded actor: <c>cli:</c> and <c>--actor</c>, else the OS user name.</summary>
    public static string ActorOf(string? actor) => "cli:" + (actor is { Length: > 0 } given ? given.Trim() : Environment.UserName);

    public static Option<MailgunRegion?> Region() =>
        new("--region") { Description = "Mailgun region of --domain: us or eu (default: as configured in MailgunApi__Domains, else us).", CustomParser = ParseRegion };

    private static MailgunRegion? ParseRegion(System.CommandLine.Parsing.ArgumentResult result)
    {
        string? token = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
        switch (token?.Trim().ToLowerInvariant())
        {
            case "us":
                return MailgunRegion.Us;
            case "eu":
                return MailgunRegion.Eu;
            default:
                result.AddError($"--region must be us or eu (got '{token}').");
                return null;
        }
    }
}
