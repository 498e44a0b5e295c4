using System.CommandLine;
using MailgunFunctions.ChangeFeed;
using Newtonsoft.Json.Linq;

namespace MailgunOps;

/// <summary>
/// <c>notifications list|replay</c>: the platform notifications of one tenant that were retried for
/// Notifications:RetryFor without being delivered (table <c>DndNotificationDeadLetters</c>). Replay puts them back on the
/// retry queue with a fresh day of retries, then removes them from the table.
/// </summary>
public static class NotificationCommands
{
    public static Command Build(OpsRuntime runtime)
    {
        var command = new Command("notifications", "Platform notifications (signed POSTs of DND changes) that could not be delivered.");
        command.Subcommands.Add(List(runtime));
        command.Subcommands.Add(Replay(runtime));
        return command;
    }

    private static Command List(OpsRuntime runtime)
    {
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(false);
        var command = new Command("list", "List a tenant's dead-lettered notifications, newest first (JSON Lines with --json).") { tenant, domain };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var t = await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), null, token).ConfigureAwait(false);
            var rows = new List<DeadLetter>();
            await foreach (var letter in ctx.Get<NotificationDeadLetters>().ListAsync(t.Id, token).ConfigureAwait(false))
            {
                rows.Add(letter);
            }

            if (ctx.Output.Json)
            {
                rows.ForEach(r => ctx.Output.Line(View(r)));
            }
            else
            {
                ctx.Output.Table(["ID", "PARKED", "ADDRESS", "VERSION", "CHANGE", "ATTEMPTS", "LAST ERROR"], rows.Select(r => new[]
                {
                    r.Id, Output.Time(r.ParkedAt), r.Notice.Address ?? "(erased)", r.Notice.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    $"{r.Notice.Previous.State}->{r.Notice.Current.State} ({r.Notice.Change.Kind})", r.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture), r.LastError,
                }));
                ctx.Output.Progress($"{rows.Count} dead-lettered notifications of tenant {t.Id}");
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static Command Replay(OpsRuntime runtime)
    {
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(false);
        var id = new Argument<string?>("id") { Description = "The dead letter's ID (from list) or the notice id; or --all.", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Replay every dead-lettered notification of the tenant." };
        var command = new Command("replay", "Send a tenant's dead-lettered notifications again (a fresh day of retries each), then remove them from the table.") { id, tenant, domain, all };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            string? one = parse.GetValue(id);
            bool every = parse.GetValue(all);
            if ((one is null) == !every)
            {
                throw new OpsException(ExitCodes.Usage, "name one dead letter (its ID from 'notifications list') or give --all");
            }

            var t = await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), null, token).ConfigureAwait(false);
            var replayed = await ctx.Get<NotificationDeadLetters>().ReplayAsync(t.Id, one, token).ConfigureAwait(false);
            if (one is not null && replayed.Count == 0)
            {
                throw new OpsException(ExitCodes.NotFound, $"no dead-lettered notification '{one}' in tenant '{t.Id}'");
            }

            if (ctx.Output.Json)
            {
                ctx.Output.Document(new { tenant = t.Id, replayed = replayed.Select(r => r.Id).ToList() });
            }
            else
            {
                ctx.Output.Text($"{replayed.Count} notifications of tenant {t.Id} are back on the retry queue");
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static object View(DeadLetter r) => new
    {
        id = r.Id,
        tenant = r.Tenant,
        parkedAt = r.ParkedAt,
        firstAttemptAt = r.FirstAttemptAt,
        attempts = r.Attempts,
        lastError = r.LastError,
        notice = JObject.Parse(r.Notice.ToJson()),
    };
}
