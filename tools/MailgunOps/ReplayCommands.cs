using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;
using MailgunFunctions.Ingestion;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Processing;
using MailgunFunctions.Queueing;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunOps;

/// <summary>
/// <c>replay</c> and <c>backfill</c>: each event goes through <see cref="EventProcessor"/> exactly as a queue message
/// would (envelope, parse, classify, DND, sender-issue counters, poison), so no rule is repeated here.
/// </summary>
public static class ReplayCommands
{
    public static IEnumerable<Command> Build(OpsRuntime runtime)
    {
        yield return Replay(runtime);
        yield return Backfill(runtime);
    }

    /// <summary>A line is an event-data object, or a whole webhook body holding one under "event-data".</summary>
    public static JObject EventData(JObject line) => line["event-data"] as JObject ?? line;

    private static Command Replay(OpsRuntime runtime)
    {
        var file = new Option<FileInfo>("--file") { Description = "Mailgun event-data objects, one per line (JSON Lines).", Required = true };
        var tenant = OpsCommands.Tenant("The tenant every event is applied to; without it (and --domain), each event's sending domain names its tenant.");
        var domain = OpsCommands.Domain(false);
        var command = new Command("replay", "Feed event-data lines through the queue function's processing into the configured storage; prints a summary.") { file, tenant, domain };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var input = parse.GetValue(file)!;
            if (!input.Exists)
            {
                throw new OpsException(ExitCodes.NotFound, $"file '{input.FullName}' does not exist");
            }

            string? owner = parse.GetValue(tenant) is { Length: > 0 } || parse.GetValue(domain) is { Length: > 0 }
                ? (await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), null, token).ConfigureAwait(false)).Id
                : null;
            var summary = new ReplaySummary();
            var processor = ctx.Get<EventProcessor>();
            int lineNumber = 0;
            foreach (string line in File.ReadLines(input.FullName))
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                JObject data;
                try
                {
                    data = EventData(JObject.Parse(line));
                }
                catch (JsonException ex)
                {
                    summary.Fail($"line {lineNumber}: not a JSON object ({ex.Message})");
                    continue;
                }

                await ProcessAsync(ctx, processor, owner, data, summary, token).ConfigureAwait(false);
            }

            return summary.Print(ctx.Output);
        }, ct));
        return command;
    }

    private static Command Backfill(OpsRuntime runtime)
    {
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(false, "The sending domain whose events to read (one of the tenant's; names the tenant when --tenant is not given).");
        var region = OpsCommands.Region();
        var since = new Option<TimeSpan>("--since")
        {
            Description = "How far back: 3d, 12h, 90m (Mailgun keeps events 3 to 30 days depending on the plan).",
            Required = true,
            CustomParser = r => ParseSince(r.Tokens.Count > 0 ? r.Tokens[0].Value : "", r),
        };
        var command = new Command("backfill", "Page through Mailgun's Events API (failed, complained, unsubscribed) and replay the events.") { tenant, domain, region, since };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var owner = await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), parse.GetValue(region), token).ConfigureAwait(false);
            var begin = ctx.Time.GetUtcNow() - parse.GetValue(since);
            var summary = new ReplaySummary();
            var processor = ctx.Get<EventProcessor>();
            // Every domain of the tenant (or the one named): the DND is the tenant's.
            var domains = parse.GetValue(domain) is { Length: > 0 } named ? [OpsContext.MailgunDomainOf(owner, named)] : owner.Tenant.Domains.Select(owner.Tenant.MailgunDomain).ToList();
            foreach (var d in domains)
            {
                await foreach (var data in ctx.Get<MailgunApiClient>().StreamEventsAsync(d, begin, cancellationToken: token).ConfigureAwait(false))
                {
                    await ProcessAsync(ctx, processor, owner.Id, data, summary, token).ConfigureAwait(false);
                }
            }

            return summary.Print(ctx.Output);
        }, ct));
        return command;
    }

    /// <summary>"3d", "12h", "90m" (also for <c>dnd list --since</c>).</summary>
    /// <summary>A duration as operators write it: <c>3d</c>, <c>12h</c>, <c>90m</c>, <c>120s</c>; an error naming <paramref name="option"/> otherwise.</summary>
    internal static TimeSpan ParseSince(string text, System.CommandLine.Parsing.ArgumentResult result, string option = "--since")
    {
        string t = text.Trim().ToLowerInvariant();
        if (t.Length >= 2 && double.TryParse(t[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double n) && n > 0)
        {
            switch (t[^1])
            {
                case 'd': return TimeSpan.FromDays(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 's': return TimeSpan.FromSeconds(n);
            }
        }

        result.AddError($"{option} must be a duration like 3d, 12h, 90m or 120s (got '{text}').");
        return TimeSpan.Zero;
    }

    private static async Task ProcessAsync(OpsContext ctx, EventProcessor processor, string? tenant, JObject data, ReplaySummary summary, CancellationToken token)
    {
        string compact = data.ToString(Formatting.None);
        var envelope = new EventEnvelope
        {
            ReceivedAt = ctx.Time.GetUtcNow(),
            // Not a webhook delivery: no token or signing key; the marker says where the event came from.
            Token = "replay",
            SigningKeyId = "replay",
            BodySha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(compact))),
            EventType = (string?)data["event"] ?? "",
            EventId = (string?)data["id"] ?? "",
            Tenant = tenant,
            EventData = data,
        };
        var result = await processor.ProcessAsync(EnvelopeCodec.Serialize(envelope), 1, token).ConfigureAwait(false);
        summary.Add(result);
        if (summary.Total % 500 == 0)
        {
            ctx.Output.Progress($"{summary.Total} events...");
        }
    }

    private sealed class ReplaySummary
    {
        private readonly SortedDictionary<string, long> _outcomes = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, long> _categories = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, long> _changes = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, long> _poisonReasons = new(StringComparer.Ordinal);
        private readonly List<string> _failures = [];

        public long Total { get; private set; }

        public void Add(EventProcessingResult result)
        {
            Total++;
            Count(_outcomes, DndNames.Of(result.Outcome));
            if (result.Classification is { } c)
            {
                Count(_categories, c.Category.ToProductName());
            }

            if (result.Dnd is { } dnd && dnd.Previous.State != dnd.Current.State)
            {
                Count(_changes, $"{dnd.Previous.State.ToProductName()}->{dnd.Current.State.ToProductName()}");
            }

            if (result.PoisonReason is { } reason)
            {
                Count(_poisonReasons, reason);
            }
        }

        public void Fail(string why)
        {
            Total++;
            Count(_outcomes, "unreadable");
            _failures.Add(why);
        }

        public int Print(Output output)
        {
            var view = new { events = Total, outcomes = _outcomes, categories = _categories, stateChanges = _changes, poisoned = _poisonReasons, failures = _failures };
            if (output.Json)
            {
                output.Document(view);
            }
            else
            {
                output.Text($"{Total} events: " + string.Join(", ", _outcomes.Select(p => $"{p.Value} {p.Key}")));
                output.Table(["CATEGORY", "EVENTS"], _categories.Select(p => new[] { p.Key, p.Value.ToString(CultureInfo.InvariantCulture) }));
                output.Table(["STATE CHANGE", "ENTRIES"], _changes.Select(p => new[] { p.Key, p.Value.ToString(CultureInfo.InvariantCulture) }));
                foreach (var (reason, count) in _poisonReasons)
                {
                    output.Text($"poisoned ({reason}): {count}, see 'mailgun-ops poison list'");
                }

                foreach (string failure in _failures)
                {
                    output.Text(failure);
                }
            }

            return _failures.Count == 0 && _poisonReasons.Count == 0 ? ExitCodes.Ok : ExitCodes.Problems;
        }

        private static void Count(SortedDictionary<string, long> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;
    }
}
