using System.CommandLine;
using MailgunFunctions.Migration;
using MailgunFunctions.Tenants;

namespace MailgunOps;

/// <summary>
/// <c>migrate</c>: moves data written before tenants existed (partitioned by sending domain) to the tenant that owns each
/// domain, through the Core's <see cref="LegacyDataMigration"/>. Resumable and idempotent; <c>--dry-run</c> only counts.
/// </summary>
public static class MigrateCommand
{
    public static Command Build(OpsRuntime runtime)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Count what would move, and to which tenant; write nothing." };
        var command = new Command("migrate",
            "Move DND entries, history, sent messages, replies, sender-issue counters and erasure records written per sending domain (before tenants) to the tenant that owns the domain. Safe to stop and run again.")
        {
            dryRun,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            bool dry = parse.GetValue(dryRun);
            var report = await ctx.Get<LegacyDataMigration>().RunAsync(dry, token).ConfigureAwait(false);
            if (ctx.Output.Json)
            {
                ctx.Output.Document(new
                {
                    dryRun = dry,
                    rows = report.Domains.Where(d => d.Tenant is not null).Sum(d => d.Rows),
                    domains = report.Domains.Select(d => new
                    {
                        domain = d.Domain,
                        tenant = d.Tenant,
                        owner = OwnerName(d.Owner),
                        rows = d.Rows,
                        tables = d.Tables.ToDictionary(t => t.Table, t => new { rows = t.Rows, merged = t.Merged }),
                    }),
                });
            }
            else
            {
                var rows = report.Domains.SelectMany(d => d.Tables.Select(t => new[]
                {
                    d.Domain, d.Tenant ?? "(none)", OwnerName(d.Owner), t.Table, t.Rows.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    t.Merged.ToString(System.Globalization.CultureInfo.InvariantCulture),
                })).ToList();
                if (rows.Count == 0)
                {
                    ctx.Output.Text("nothing written before tenants is left: nothing to move");
                }
                else
                {
                    ctx.Output.Table(["DOMAIN", "TENANT", "CHOSEN BY", "TABLE", dry ? "ROWS TO MOVE" : "ROWS MOVED", "MERGED"], rows);
                }

                if (dry && rows.Count > 0)
                {
                    ctx.Output.Progress("dry run: nothing was written; connect any tenant that should own a domain before the real run");
                }
            }

            foreach (var unowned in report.Unowned)
            {
                ctx.Output.Progress($"domain {unowned.Domain}: {unowned.Rows} row(s) stay: no tenant owns it and there is no single-account tenant. Connect its tenant (mailgun-ops tenant connect), then run migrate again.");
            }

            return report.Unowned.Any() ? ExitCodes.Problems : ExitCodes.Ok;
        }, ct));
        return command;
    }

    /// <summary>How the tenant was chosen, in the words of the docs.</summary>
    private static string OwnerName(LegacyOwner owner) => owner switch
    {
        LegacyOwner.Registry => "registry",
        LegacyOwner.Settings => "settings",
        LegacyOwner.SingleAccount => "single-account",
        _ => "none",
    };
}
