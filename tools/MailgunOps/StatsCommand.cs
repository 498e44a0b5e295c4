using System.CommandLine;
using System.Globalization;
using MailgunFunctions.Rates;
using Microsoft.Extensions.Options;

namespace MailgunOps;

/// <summary>
/// <c>stats --tenant T [--days 30]</c>: a tenant's daily sends, deliveries, hard bounces, complaints and unsubscribes
/// (<see cref="TenantDailyRates"/>), the rates the platform judges, and a bar of each day's hard-bounce rate against the
/// critical threshold; <c>--json</c> gives the same as one document.
/// </summary>
public static class StatsCommand
{
    private const int BarWidth = 20;

    public static Command Build(OpsRuntime runtime)
    {
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(false);
        var days = new Option<int>("--days") { Description = "Days back from today (UTC), today included: 1 to 400 (default 30).", DefaultValueFactory = _ => 30 };
        var command = new Command("stats", "A tenant's daily deliveries, hard bounces, complaints and unsubscribes, with the rates the platform judges.")
        {
            tenant, domain, days,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            int count = parse.GetValue(days);
            if (count is < 1 or > 400)
            {
                throw new OpsException(ExitCodes.Usage, $"--days must be between 1 and 400 (got {count})");
            }

            var owner = await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), null, token).ConfigureAwait(false);
            var options = ctx.Get<IOptions<RateOptions>>().Value;
            var today = DateOnly.FromDateTime(ctx.Time.GetUtcNow().UtcDateTime);
            var list = await (await ctx.ForTenantAsync(owner.Id, token).ConfigureAwait(false)).Get<TenantDailyRates>().ListAsync(owner.Id, today.AddDays(1 - count), today, token).ConfigureAwait(false);
            var rows = list.Select(d => new
            {
                day = d.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                sent = d.Sent,
                accepted = d.Accepted,
                delivered = d.Delivered,
                hardBounces = d.HardBounces,
                complaints = d.Complaints,
                unsubscribes = d.Unsubscribes,
                hardBounceRate = d.HardBounceRate(options.MinimumVolume),
                complaintRate = d.ComplaintRate(options.MinimumVolume),
            }).ToList();
            if (ctx.Output.Json)
            {
                ctx.Output.Document(new
                {
                    tenant = owner.Id,
                    thresholds = new
                    {
                        options.HardBounceWarning, options.HardBounceCritical, options.ComplaintWarning, options.ComplaintCritical, options.MinimumVolume,
                    },
                    days = rows,
                });
                return ExitCodes.Ok;
            }

            ctx.Output.Text($"tenant {owner.Id}: hard bounces per message sent (warning {Percent(options.HardBounceWarning, 2)}, critical {Percent(options.HardBounceCritical, 2)}), " +
                $"complaints per message delivered (warning {Percent(options.ComplaintWarning, 3)}, critical {Percent(options.ComplaintCritical, 3)}); '-' below {Number(options.MinimumVolume)} messages");
            ctx.Output.Table(["DAY", "SENT", "DELIVERED", "HARD", "COMPLAINTS", "UNSUBS", "HARD %", "COMPL %", "HARD BOUNCES (| = critical)"],
                rows.Select(r => new[]
                {
                    r.day, Number(r.sent), Number(r.delivered), Number(r.hardBounces), Number(r.complaints), Number(r.unsubscribes),
                    Percent(r.hardBounceRate, 2), Percent(r.complaintRate, 3), Bar(r.hardBounceRate, options.HardBounceCritical),
                }));
            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    /// <summary>
    /// A bar of the rate on a scale where the critical threshold sits at the middle ('|'), so a day past it is visibly
    /// longer; '#' from the warning on would need a third symbol for no more information.
    /// </summary>
    public static string Bar(double? rate, double critical)
    {
        if (rate is not { } r || critical <= 0)
        {
            return "";
        }

        int half = BarWidth / 2;
        int filled = (int)Math.Min(BarWidth, Math.Round(r / critical * half, MidpointRounding.AwayFromZero));
        var bar = new char[BarWidth + 1];
        for (int i = 0; i <= BarWidth; i++)
        {
            bar[i] = i == half ? '|' : i < filled || (i > half && i <= filled) ? '#' : ' ';
        }

        return new string(bar).TrimEnd();
    }

    private static string Number(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Percent(double? rate, int decimals) =>
        rate is { } r ? (r * 100).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) + "%" : "-";
}
