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

    /// <summary>
    /// How many events are processed at once by default: what one Functions instance runs from the queue (host.json's
    /// batchSize 16 plus newBatchThreshold 8 = 24), so a replay loads storage like the live pipeline, not more.
    /// </summary>
    public const int DefaultConcurrency = 24;

    /// <summary>More would only queue up in the storage client's connection pool and load the account beyond what the app does.</summary>
    public const int MaxConcurrency = 256;

    internal static Option<int> Concurrency() => new("--concurrency")
    {
        Description = $"Events processed at once (1 to {MaxConcurrency}; default {DefaultConcurrency}, like the queue trigger: batch 16 + threshold 8). The order does not matter: the DND merge is order-independent.",
        DefaultValueFactory = _ => DefaultConcurrency,
    };

    private static int ConcurrencyOf(ParseResult parse, Option<int> option) => parse.GetValue(option) is var n and >= 1 and <= MaxConcurrency
        ? n
        : throw new OpsException(ExitCodes.Usage, $"--concurrency must be between 1 and {MaxConcurrency} (got {parse.GetValue(option)})");

    private static Command Replay(OpsRuntime runtime)
    {
        var file = new Option<FileInfo>("--file") { Description = "Mailgun event-data objects, one per line (JSON Lines).", Required = true };
        var tenant = OpsCommands.Tenant("The tenant every event is applied to; without it (and --domain), each event's sending domain names its tenant.");
        var domain = OpsCommands.Domain(false);
        var concurrency = Concurrency();
        var command = new Command("replay", "Feed event-data lines through the queue function's processing into the configured storage; prints a summary.") { file, tenant, domain, concurrency };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var input = parse.GetValue(file)!;
            int parallel = ConcurrencyOf(parse, concurrency);
            if (!input.Exists)
            {
                throw new OpsException(ExitCodes.NotFound, $"file '{input.FullName}' does not exist");
            }

            string? owner = parse.GetValue(tenant) is { Length: > 0 } || parse.GetValue(domain) is { Length: > 0 }
                ? (await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), null, token).ConfigureAwait(false)).Id
                : null;
            var summary = new ReplaySummary();
            // The named tenant's shard; without one, each event's (by its sending domain's tenant).
            var processor = owner is null ? null : (await ctx.ForTenantChangeAsync(owner, token).ConfigureAwait(false)).Get<EventProcessor>();
            // A first pass counts the lines, so the progress has a total (reading a file is cheap next to processing it).
            long total = File.ReadLines(input.FullName).LongCount(l => !string.IsNullOrWhiteSpace(l));
            var progress = ctx.Progress("replay", "events", total);
            var lines = File.ReadLines(input.FullName).Select((text, index) => (Text: text, Number: index + 1)).Where(l => !string.IsNullOrWhiteSpace(l.Text));
            await Parallel.ForEachAsync(lines, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = token }, async (line, lineToken) =>
            {
                JObject data;
                try
                {
                    data = EventData(JObject.Parse(line.Text));
                }
                catch (JsonException ex)
                {
                    summary.Fail(line.Number, $"line {line.Number}: not a JSON object ({ex.Message})");
                    progress.Add();
                    return;
                }

                await ProcessAsync(ctx, processor, owner, data, input.FullName, line.Number, summary, lineToken).ConfigureAwait(false);
                progress.Add();
            }).ConfigureAwait(false);
            progress.Finish();
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
        var concurrency = Concurrency();
        var command = new Command("backfill", "Page through Mailgun's Events API (failed, complained, unsubscribed) and replay the events.") { tenant, domain, region, since, concurrency };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            int parallel = ConcurrencyOf(parse, concurrency);
            var owner = await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), parse.GetValue(region), token).ConfigureAwait(false);
            var begin = ctx.Time.GetUtcNow() - parse.GetValue(since);
            var summary = new ReplaySummary();
            var processor = (await ctx.ForTenantChangeAsync(owner.Id, token).ConfigureAwait(false)).Get<EventProcessor>();
            // Mailgun does not say how many events a search will page through: the progress counts without a total.
            var progress = ctx.Progress("backfill", "events", null);
            // Every domain of the tenant (or the one named): the DND is the tenant's.
            var domains = parse.GetValue(domain) is { Length: > 0 } named ? [OpsContext.MailgunDomainOf(owner, named)] : owner.Tenant.Domains.Select(owner.Tenant.MailgunDomain).ToList();
            foreach (var d in domains)
            {
                // Pages are read one after another (each names the next); their events are processed while the next page loads.
                var events = ctx.Get<MailgunApiClient>().StreamEventsAsync(d, begin, cancellationToken: token);
                await Parallel.ForEachAsync(events, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = token }, async (data, eventToken) =>
                {
                    await ProcessAsync(ctx, processor, owner.Id, data, $"backfill of {d.Name}", null, summary, eventToken).ConfigureAwait(false);
                    progress.Add();
                }).ConfigureAwait(false);
            }

            progress.Finish();
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

    private static async Task ProcessAsync(OpsContext ctx, EventProcessor? processor, string? tenant, JObject data, string source, int? line, ReplaySummary summary,
        CancellationToken token)
    {
        processor ??= await ProcessorOfEventAsync(ctx, data, token).ConfigureAwait(false);
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
        var result = await processor.ProcessAsync(EnvelopeCodec.Serialize(envelope), 1, ReplaySource.For(source, line, tenant, compact), token).ConfigureAwait(false);
        summary.Add(result);
    }

    /// <summary>
    /// The processor of the shard holding the event's tenant when no tenant is named: the tenant that registered the event's
    /// sending domain (as the processor itself finds it), else home (the single-account tenant, or an event it will reject).
    /// </summary>
    private static async Task<EventProcessor> ProcessorOfEventAsync(OpsContext ctx, JObject data, CancellationToken token)
    {
        if (ctx.Shards.Count == 1)
        {
            return ctx.Get<EventProcessor>();
        }

        string? domain;
        try
        {
            domain = MailgunFunctions.Events.MailgunEventParser.Parse(data).SendingDomain;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException or InvalidOperationException)
        {
            domain = null;
        }

        var owner = domain is { Length: > 0 } ? await ctx.Get<MailgunFunctions.Tenants.TenantDirectory>().FindByDomainAsync(domain, token).ConfigureAwait(false) : null;
        return owner is null ? ctx.Get<EventProcessor>() : (await ctx.ForTenantChangeAsync(owner.Id, token).ConfigureAwait(false)).Get<EventProcessor>();
    }

    /// <summary>The counts of a replay; events finish in any order on several threads, so every change is under one lock.</summary>
    private sealed class ReplaySummary
    {
        private readonly Lock _gate = new();
        private readonly SortedDictionary<string, long> _outcomes = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, long> _categories = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, long> _changes = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, long> _poisonReasons = new(StringComparer.Ordinal);
        private readonly List<(int Line, string Text)> _failures = [];
        private long _total;
        private long _poisonedEarlier;

        public void Add(EventProcessingResult result)
        {
            lock (_gate)
            {
                _total++;
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

                if (result.PoisonedEarlier is not null)
                {
                    _poisonedEarlier++;
                }
            }
        }

        public void Fail(int line, string why)
        {
            lock (_gate)
            {
                _total++;
                Count(_outcomes, "unreadable");
                _failures.Add((line, why));
            }
        }

        public int Print(Output output)
        {
            // In file order, whatever order the lines finished in.
            var failures = _failures.OrderBy(f => f.Line).Select(f => f.Text).ToList();
            var view = new { events = _total, outcomes = _outcomes, categories = _categories, stateChanges = _changes, poisoned = _poisonReasons, poisonedEarlier = _poisonedEarlier, failures };
            if (output.Json)
            {
                output.Document(view);
            }
            else
            {
                output.Text($"{_total} events: " + string.Join(", ", _outcomes.Select(p => $"{p.Value} {p.Key}")));
                output.Table(["CATEGORY", "EVENTS"], _categories.Select(p => new[] { p.Key, p.Value.ToString(CultureInfo.InvariantCulture) }));
                output.Table(["STATE CHANGE", "ENTRIES"], _changes.Select(p => new[] { p.Key, p.Value.ToString(CultureInfo.InvariantCulture) }));
                foreach (var (reason, count) in _poisonReasons)
                {
                    output.Text($"poisoned ({reason}): {count}, see 'mailgun-ops poison list'");
                }

                if (_poisonedEarlier > 0)
                {
                    output.Text($"{_poisonedEarlier} of the poisoned events were poisoned by an earlier replay: not sent to the poison queue again");
                }

                foreach (string failure in failures)
                {
                    output.Text(failure);
                }
            }

            return failures.Count == 0 && _poisonReasons.Count == 0 ? ExitCodes.Ok : ExitCodes.Problems;
        }

        private static void Count(SortedDictionary<string, long> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;
    }
}
