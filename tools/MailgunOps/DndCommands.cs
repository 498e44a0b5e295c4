using System.CommandLine;
using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;
using MailgunFunctions.Export;
using MailgunFunctions.MailgunApi;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection;

namespace MailgunOps;

/// <summary><c>dnd get|list|find|enable|block|forget|stats</c>: the DND store through <see cref="DndStore"/> and <see cref="DndPolicy"/> only.</summary>
public static class DndCommands
{
    public static Command Build(OpsRuntime runtime)
    {
        var dnd = new Command("dnd", "Look at and change the Do-Not-Disturb state of addresses.");
        dnd.Subcommands.Add(Get(runtime));
        dnd.Subcommands.Add(List(runtime));
        dnd.Subcommands.Add(Find(runtime));
        dnd.Subcommands.Add(Enable(runtime));
        dnd.Subcommands.Add(Block(runtime));
        dnd.Subcommands.Add(DndForget.Build(runtime));
        dnd.Subcommands.Add(Stats(runtime));
        return dnd;
    }

    private static Command Get(OpsRuntime runtime)
    {
        var address = new Argument<string>("address") { Description = "The contact's email address." };
        var tenant = OpsCommands.Tenant("The tenant; without it and --domain, every tenant that has an entry for the address (a table scan).");
        var domain = OpsCommands.Domain(false);
        var command = new Command("get", "Show the DND entry of an address and its history, newest first.") { address, tenant, domain };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var options = ctx.Get<IOptions<DndOptions>>().Value;
            var now = ctx.Time.GetUtcNow();
            string a = parse.GetValue(address)!;
            // Each entry with the store of its shard, where its history is too.
            var entries = new List<(DndEntry Entry, DndStore Store)>();
            bool named = parse.GetValue(tenant) is { Length: > 0 } || parse.GetValue(domain) is { Length: > 0 };
            string? t = null;
            if (named)
            {
                t = (await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), null, token).ConfigureAwait(false)).Id;
                var store = (await ctx.ForTenantAsync(t, token).ConfigureAwait(false)).Get<DndStore>();
                if (await store.GetAsync(t, a, token).ConfigureAwait(false) is { } entry)
                {
                    entries.Add((entry, store));
                }
            }
            else
            {
                foreach (var (_, services) in ctx.Shards.All)
                {
                    var store = services.GetRequiredService<DndStore>();
                    await foreach (var entry in store.FindByAddressAsync(a, token).ConfigureAwait(false))
                    {
                        entries.Add((entry, store));
                    }
                }
            }

            if (entries.Count == 0)
            {
                throw new OpsException(ExitCodes.NotFound, $"no DND entry for '{a}'" + (t is not null ? $" in tenant '{t}'" : " in any tenant"));
            }

            var views = new List<object>();
            foreach (var (entry, store) in entries)
            {
                var history = new List<DndHistoryRecord>();
                await foreach (var record in store.HistoryAsync(entry.Tenant, entry.Address, token).ConfigureAwait(false))
                {
                    history.Add(record);
                }

                views.Add(new { entry = View(entry, DndPolicy.Evaluate(entry, now, options)), history = history.Select(HistoryView).ToList() });
                if (!ctx.Output.Json)
                {
                    PrintEntry(ctx.Output, entry, DndPolicy.Evaluate(entry, now, options), history);
                }
            }

            if (ctx.Output.Json)
            {
                // With a tenant one document {entry, history}; without, always {entries: [...]}, however many were found.
                ctx.Output.Document(named ? views[0] : new { entries = views });
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    /// <summary>
    /// Most entries <c>dnd list --sort</c> holds in memory: sorting needs the whole result first (a few hundred bytes per entry
    /// in memory, so about 50 MB here); more is refused with what to narrow, rather than growing without bound.
    /// </summary>
    public const int MaxSortedEntries = 100_000;

    private static Command List(OpsRuntime runtime)
    {
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(false);
        var allTenants = AllTenants("Every tenant's entries, tenant by tenant, with a TENANT column (a scan of the whole table; for operators).");
        var state = new Option<string?>("--state") { Description = "Only entries in this state now." };
        state.AcceptOnlyFromAmong("temporary", "permanent", "locked");
        var reason = new Option<string?>("--reason") { Description = "Only entries whose state has this reason (complaint, soft-bounce, soft-bounce-escalation, or the rule of a permanent cause)." };
        var all = new Option<bool>("--all") { Description = "Also entries not in DND now (re-enabled, a temporary DND that ended, activity only)." };
        var since = new Option<TimeSpan?>("--since")
        {
            Description = "Only entries whose DND began this recently: 3d, 12h, 90m.",
            CustomParser = r => ReplayCommands.ParseSince(r.Tokens.Count > 0 ? r.Tokens[0].Value : "", r),
        };
        var limit = new Option<int?>("--limit") { Description = "Print at most this many entries, then how to continue (--continue)." };
        var from = new Option<string?>("--continue") { Description = "Go on after the last entry of an earlier run (the token it printed)." };
        var csv = new Option<bool>("--csv") { Description = "CSV (RFC 4180, formula-safe like the exports) instead of the table." };
        var sort = new Option<string?>("--sort")
        {
            Description = $"Sort by address, since (newest DND first) or state (locked, permanent, temporary, none). Holds the whole result in memory: at most {MaxSortedEntries:N0} entries, printed once all are read; without it, entries stream in key order.",
        };
        sort.AcceptOnlyFromAmong("address", "since", "state");
        var command = new Command("list", "Stream the tenant's entries in DND with their state now (JSON Lines with --json, CSV with --csv).")
        {
            tenant, domain, allTenants, state, reason, all, since, limit, from, csv, sort,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var options = ctx.Get<IOptions<DndOptions>>().Value;
            var now = ctx.Time.GetUtcNow();
            string? wanted = parse.GetValue(state);
            string? wantedReason = parse.GetValue(reason);
            bool everything = parse.GetValue(all);
            DateTimeOffset? begin = parse.GetValue(since) is { } window ? now - window : null;
            int? max = parse.GetValue(limit);
            if (max is <= 0)
            {
                throw new OpsException(ExitCodes.Usage, "--limit must be at least 1");
            }

            string? after = parse.GetValue(from) is { Length: > 0 } continuation ? Position(continuation) : null;
            bool asCsv = parse.GetValue(csv);
            if (asCsv && ctx.Output.Json)
            {
                throw new OpsException(ExitCodes.Usage, "--csv and --json: choose one");
            }

            string? order = parse.GetValue(sort);
            if (order is not null && after is not null)
            {
                throw new OpsException(ExitCodes.Usage, "--sort and --continue: a token is a position in key order; list sorted with --limit alone, or page in key order without --sort");
            }

            string? t = await TenantOrAllAsync(ctx, parse, tenant, domain, allTenants, token).ConfigureAwait(false);
            var rows = new EntryRows(ctx.Output, asCsv, withTenant: t is null);
            int count = 0;
            string? last = null, more = null;
            // The reasons the entries have now: a --reason none of them has is a typo, not an empty answer.
            var reasons = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
            var sorted = order is null ? null : new List<(DndEntry Entry, DndStatus Status)>();
            var source = t is null ? ListAllShardsAsync(ctx, after, token) : (await ctx.ForTenantAsync(t, token).ConfigureAwait(false)).Get<DndStore>().ListAfterAsync(t, after, token);
            await foreach (var (entry, position) in source.ConfigureAwait(false))
            {
                // The stored State column is the state when last written; a temporary DND may have ended since.
                var status = DndPolicy.Evaluate(entry, now, options);
                if (status.State != DndState.None)
                {
                    reasons.Add(status.Reason);
                }

                if ((!everything && status.State == DndState.None)
                    || (wanted is not null && status.State.ToProductName() != wanted)
                    || (wantedReason is not null && !string.Equals(status.Reason, wantedReason, StringComparison.OrdinalIgnoreCase))
                    || (begin is not null && !(status.Since >= begin)))
                {
                    continue;
                }

                if (sorted is not null)
                {
                    if (sorted.Count == MaxSortedEntries)
                    {
                        throw new OpsException(ExitCodes.Usage,
                            $"--sort holds at most {MaxSortedEntries:N0} entries in memory and more match: narrow the listing (--state, --reason, --since, one tenant) or list in key order without --sort");
                    }

                    sorted.Add((entry, status));
                    continue;
                }

                if (count == max)
                {
                    // One more would print: the listing stops here and says how to go on.
                    more = last;
                    break;
                }

                count++;
                last = position;
                rows.Write(entry, status);
            }

            if (sorted is not null)
            {
                foreach (var (entry, status) in Sort(sorted, order!).Take(max ?? int.MaxValue))
                {
                    count++;
                    rows.Write(entry, status);
                }
            }

            if (wantedReason is not null && more is null && !reasons.Contains(wantedReason))
            {
                throw new OpsException(ExitCodes.NotFound,
                    $"no entry of {(t is null ? "any tenant" : $"tenant '{t}'")} has reason '{wantedReason}' now; reasons {(t is null ? "they have" : "it has")}: {(reasons.Count == 0 ? "none (no entry is in DND)" : string.Join(", ", reasons))}");
            }

            rows.Header();
            if (more is not null)
            {
                ctx.Output.Progress($"{count} entries; more follow: add --continue {Token(more)}");
            }
            else if (!ctx.Output.Json)
            {
                ctx.Output.Progress(sorted is not null && max < sorted.Count ? $"{count} of {sorted.Count} entries (sorted)" : $"{count} entries");
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static IEnumerable<(DndEntry Entry, DndStatus Status)> Sort(List<(DndEntry Entry, DndStatus Status)> entries, string order) => order switch
    {
        "since" => entries.OrderByDescending(e => e.Status.Since ?? DateTimeOffset.MinValue).ThenBy(e => e.Entry.Address, StringComparer.Ordinal).ThenBy(e => e.Entry.Tenant, StringComparer.Ordinal),
        // Most binding first: what keeps mail away longest.
        "state" => entries.OrderByDescending(e => e.Status.State).ThenBy(e => e.Entry.Address, StringComparer.Ordinal).ThenBy(e => e.Entry.Tenant, StringComparer.Ordinal),
        _ => entries.OrderBy(e => e.Entry.Address, StringComparer.Ordinal).ThenBy(e => e.Entry.Tenant, StringComparer.Ordinal),
    };

    private static Option<bool> AllTenants(string description) => new("--all-tenants") { Description = description };

    /// <summary>
    /// The one tenant a listing or search works in, or null for every tenant. Crossing tenants needs <c>--all-tenants</c>
    /// said explicitly, and it cannot be mixed with naming one.
    /// </summary>
    private static async Task<string?> TenantOrAllAsync(OpsContext ctx, ParseResult parse, Option<string> tenant, Option<string> domain, Option<bool> allTenants, CancellationToken token)
    {
        bool named = parse.GetValue(tenant) is { Length: > 0 } || parse.GetValue(domain) is { Length: > 0 };
        if (parse.GetValue(allTenants))
        {
            return named ? throw new OpsException(ExitCodes.Usage, "--all-tenants and --tenant/--domain: choose one") : null;
        }

        return (await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), null, token).ConfigureAwait(false)).Id;
    }

    /// <summary>Entry rows of <c>dnd list</c> and <c>dnd find</c>: JSON Lines, CSV or a streamed table, with a tenant column across tenants.</summary>
    private sealed class EntryRows(Output output, bool csv, bool withTenant)
    {
        private static readonly int[] Widths = [40, 10, 28, 20, 20];
        private static readonly int[] TenantWidths = [24, 40, 10, 28, 20, 20];
        private bool _header;

        public void Header()
        {
            if (output.Json || _header)
            {
                return;
            }

            _header = true;
            if (csv)
            {
                string[] names = ["address", "state", "reason", "since", "until", "contact_id"];
                output.Out.Write(SuppressionCsv.Line(withTenant ? ["tenant", .. names] : names));
            }
            else
            {
                string[] names = ["ADDRESS", "STATE", "REASON", "SINCE", "UNTIL"];
                output.StreamRow(withTenant ? ["TENANT", .. names] : names, withTenant ? TenantWidths : Widths);
            }
        }

        public void Write(DndEntry entry, DndStatus status)
        {
            if (output.Json)
            {
                output.Line(View(entry, status));
                return;
            }

            Header();
            string?[] cells = [entry.Address, status.State.ToProductName(), status.Reason, Output.Time(status.Since), Output.Time(status.Until)];
            if (csv)
            {
                string?[] line = [.. cells, entry.Context?.ContactId];
                output.Out.Write(SuppressionCsv.Line(withTenant ? [entry.Tenant, .. line] : line));
            }
            else
            {
                output.StreamRow(withTenant ? [entry.Tenant, .. cells] : cells, withTenant ? TenantWidths : Widths);
            }
        }
    }

    private static Command Find(OpsRuntime runtime)
    {
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(false);
        var allTenants = AllTenants("Search every tenant (a scan of the whole table); without it the search stays in the one tenant named.");
        var prefix = new Option<string?>("--prefix") { Description = $"Addresses starting with this (case-insensitive; up to {DndKeys.MaxPrefixLength} characters): a key-range query in the tenant." };
        var contactId = new Option<string?>("--contact-id") { Description = "Entries whose latest event carrying a contact id named this one: a full scan of the tenant's partition (no index holds contact ids), filtered by the service." };
        var limit = new Option<int?>("--limit") { Description = "Print at most this many entries." };
        var csv = new Option<bool>("--csv") { Description = "CSV (RFC 4180, formula-safe like the exports) instead of the table." };
        var command = new Command("find", "Find entries by address prefix or by contact id, in any state, with their state now.")
        {
            tenant, domain, allTenants, prefix, contactId, limit, csv,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            string? p = parse.GetValue(prefix) is { } given ? given.Trim() : null;
            string? c = parse.GetValue(contactId) is { } id ? id.Trim() : null;
            if ((p is null) == (c is null) || p is { Length: 0 } || c is { Length: 0 })
            {
                throw new OpsException(ExitCodes.Usage, "name what to find: --prefix <start of the address> or --contact-id <id> (one of them)");
            }

            if (p is not null && DndKeys.Encode(p.ToLowerInvariant()).Length > DndKeys.MaxPrefixLength)
            {
                throw new OpsException(ExitCodes.Usage, $"--prefix is at most {DndKeys.MaxPrefixLength} characters");
            }

            int? max = parse.GetValue(limit);
            if (max is <= 0)
            {
                throw new OpsException(ExitCodes.Usage, "--limit must be at least 1");
            }

            bool asCsv = parse.GetValue(csv);
            if (asCsv && ctx.Output.Json)
            {
                throw new OpsException(ExitCodes.Usage, "--csv and --json: choose one");
            }

            string? t = await TenantOrAllAsync(ctx, parse, tenant, domain, allTenants, token).ConfigureAwait(false);
            var options = ctx.Get<IOptions<DndOptions>>().Value;
            var now = ctx.Time.GetUtcNow();
            var rows = new EntryRows(ctx.Output, asCsv, withTenant: t is null);
            var stores = t is null ? ctx.Shards.All.Select(s => s.Services.GetRequiredService<DndStore>()).ToList()
                : [(await ctx.ForTenantAsync(t, token).ConfigureAwait(false)).Get<DndStore>()];
            var found = Concat(stores.Select(store => p is not null ? store.FindByPrefixAsync(t, p, token) : store.FindByContactIdAsync(t, c!, token)));
            int count = 0;
            bool more = false;
            await foreach (var entry in found.ConfigureAwait(false))
            {
                if (count == max)
                {
                    more = true;
                    break;
                }

                count++;
                rows.Write(entry, DndPolicy.Evaluate(entry, now, options));
            }

            string where = t is null ? "any tenant" : $"tenant '{t}'";
            if (count == 0)
            {
                throw new OpsException(ExitCodes.NotFound, p is not null ? $"no entry in {where} has an address starting with '{p}'" : $"no entry in {where} has contact id '{c}'");
            }

            if (!ctx.Output.Json)
            {
                ctx.Output.Progress(more ? $"{count} entries; more match (raise --limit)" : $"{count} entries");
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    /// <summary>The --continue token of a position: base64url, so a shell passes it as it is.</summary>
    /// <summary>
    /// Every tenant's entries shard by shard (home first). A position past shard 0 carries its shard before a unit separator,
    /// so a token printed by a deployment of one shard means the same after shards are added.
    /// </summary>
    private static async IAsyncEnumerable<(DndEntry Entry, string Position)> ListAllShardsAsync(OpsContext ctx, string? after,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken token)
    {
        int start = 0;
        string? inner = after;
        if (after is not null && after.IndexOf('\u001f', StringComparison.Ordinal) is var cut and > 0
            && int.TryParse(after[..cut], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int shard))
        {
            (start, inner) = (shard, after[(cut + 1)..]);
        }

        foreach (var (k, services) in ctx.Shards.All.Where(s => s.Shard >= start))
        {
            await foreach (var (entry, position) in services.GetRequiredService<DndStore>().ListAllAfterAsync(k == start ? inner : null, token).ConfigureAwait(false))
            {
                yield return (entry, k == 0 ? position : k.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\u001f" + position);
            }
        }
    }

    private static async IAsyncEnumerable<T> Concat<T>(IEnumerable<IAsyncEnumerable<T>> sources)
    {
        foreach (var source in sources)
        {
            await foreach (var item in source.ConfigureAwait(false))
            {
                yield return item;
            }
        }
    }

    private static string Token(string position) => System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(position));

    private static string Position(string token)
    {
        try
        {
            return System.Text.Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(token.Trim()));
        }
        catch (FormatException)
        {
            throw new OpsException(ExitCodes.Usage, "--continue: not a token printed by dnd list (copy it whole)");
        }
    }

    private static Command Enable(OpsRuntime runtime)
    {
        var address = new Argument<string?>("address") { Description = "The contact's email address (or --file for many).", Arity = ArgumentArity.ZeroOrOne };
        var file = new Option<FileInfo?>("--file") { Description = "Re-enable every address in this file, one a line (blank lines and # comments skipped), with a report per line." };
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(false, "One of the tenant's sending domains; names the tenant when --tenant is not given. Mailgun's lists of every domain of the tenant are cleared.");
        var region = OpsCommands.Region();
        var note = new Option<string>("--note") { Description = "Why (recorded in the history with the operator); with an override, when and how the contact gave consent.", Required = true };
        var overrideComplaint = new Option<bool>("--override-complaint") { Description = "Also clear a complaint lock (an audited admin override)." };
        var overrideUnsubscribe = new Option<bool>("--override-unsubscribe") { Description = "Also clear the contact's own unsubscribe (the contact asked to get emails again; the note records it)." };
        var actor = OpsCommands.Actor();
        var command = new Command("enable", "Re-enable an address: checks it, removes it from Mailgun's bounce, unsubscribe and complaint lists, then clears the DND. An address not in DND is left alone.")
        {
            address, file, tenant, domain, region, note, overrideComplaint, overrideUnsubscribe, actor,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            string? single = parse.GetValue(address);
            var list = parse.GetValue(file);
            if ((single is null) == (list is null))
            {
                throw new OpsException(ExitCodes.Usage, "give one address, or --file with one address a line (not both)");
            }

            string why = parse.GetValue(note)!;
            if (string.IsNullOrWhiteSpace(why))
            {
                throw new OpsException(ExitCodes.Usage, "--note must say why the address is re-enabled");
            }

            var resolved = await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), parse.GetValue(region), token).ConfigureAwait(false);
            var overrides = (parse.GetValue(overrideComplaint) ? ReenableOverrides.Complaint : 0) | (parse.GetValue(overrideUnsubscribe) ? ReenableOverrides.Unsubscribe : 0);
            // The Core's flow (the platform's API runs the same): every refusal comes before any change.
            var flow = new DndReenableFlow((await ctx.ForTenantChangeAsync(resolved.Id, token).ConfigureAwait(false)).Get<DndStore>(), ctx.Get<MailgunApiClient>(), new MailAddressCheck(ctx.DnsServer));
            string who = OpsCommands.ActorOf(parse.GetValue(actor));
            if (single is not null)
            {
                var outcome = await EnableOneAsync(flow, resolved, single, who, why, overrides, token).ConfigureAwait(false);
                if (Refusal(outcome, DndKeys.NormalizeAddress(single), resolved.Id) is { } refused)
                {
                    if (ctx.Output.Json && outcome.Validation is { } validation)
                    {
                        // A validator's refusal: the document says which validator and what it answered (the error on stderr says why in words).
                        ctx.Output.Document(new { address = DndKeys.NormalizeAddress(single), tenant = resolved.Id, outcome = DndNames.Of(outcome.Refusal), problem = outcome.Problem, validation = ValidationView(validation) });
                    }

                    throw refused;
                }

                ReportEnabled(ctx.Output, DndKeys.NormalizeAddress(single), resolved.Id, who, overrides, outcome, line: null);
                return ExitCodes.Ok;
            }

            return await EnableFileAsync(ctx, flow, resolved, list!, who, why, overrides, token).ConfigureAwait(false);
        }, ct));
        return command;
    }

    private static async Task<ReenableOutcome> EnableOneAsync(DndReenableFlow flow, MailgunFunctions.Tenants.ResolvedTenant tenant, string address, string who, string why,
        ReenableOverrides overrides, CancellationToken token)
    {
        try
        {
            return await flow.EnableAsync(tenant.Tenant, address, who, why, overrides, token).ConfigureAwait(false);
        }
        catch (AddressCheckUnavailableException ex)
        {
            throw new OpsException(ExitCodes.Remote, ex.Message);
        }
        catch (AddressValidationUnavailableException ex)
        {
            throw new OpsException(ExitCodes.Remote, ex.Message);
        }
    }

    private static object ValidationView(ReenableValidation v) => new { validator = v.Validator, result = v.Result, risk = v.Risk, reasons = v.Reasons };

    /// <summary>
    /// <c>dnd enable --file</c>: each line through the same flow, a report line for each as it is done (JSON Lines with
    /// --json). A refused or failed line does not stop the others; storage failing does (what is done is reported).
    /// </summary>
    private static async Task<int> EnableFileAsync(OpsContext ctx, DndReenableFlow flow, MailgunFunctions.Tenants.ResolvedTenant tenant, FileInfo file, string who, string why,
        ReenableOverrides overrides, CancellationToken token)
    {
        if (!file.Exists)
        {
            throw new OpsException(ExitCodes.Usage, $"--file '{file.FullName}' does not exist");
        }

        int lineNumber = 0, enabled = 0, clear = 0, problems = 0;
        string[] lines = await File.ReadAllLinesAsync(file.FullName, token).ConfigureAwait(false);
        // Each address is counted as it is taken up (a few requests each); the report lines stream to stdout meanwhile.
        var progress = ctx.Progress("dnd enable", "addresses", lines.Count(l => l.Trim() is { Length: > 0 } t && !t.StartsWith('#')), streamsToStdout: true);
        foreach (string raw in lines)
        {
            lineNumber++;
            string text = raw.Trim();
            if (text.Length == 0 || text.StartsWith('#'))
            {
                continue;
            }

            progress.Add();

            string a = DndKeys.NormalizeAddress(text);
            // A line that is no address says so, rather than "no entry" for it.
            if (MailAddressCheck.SyntaxProblem(text) is { } syntax)
            {
                problems++;
                ReportLine(ctx.Output, lineNumber, a, DndNames.Of(ReenableRefusal.AddressInvalid), syntax);
                continue;
            }

            try
            {
                var outcome = await EnableOneAsync(flow, tenant, text, who, why, overrides, token).ConfigureAwait(false);
                if (Refusal(outcome, a, tenant.Id) is { } refused)
                {
                    problems++;
                    ReportLine(ctx.Output, lineNumber, a, DndNames.Of(outcome.Refusal), refused.Message);
                    continue;
                }

                if (outcome.Refusal == ReenableRefusal.AlreadyClear)
                {
                    clear++;
                }
                else
                {
                    enabled++;
                }

                ReportEnabled(ctx.Output, a, tenant.Id, who, overrides, outcome, lineNumber);
            }
            catch (Exception ex) when (ex is OpsException or MailgunApiException)
            {
                problems++;
                ReportLine(ctx.Output, lineNumber, a, "failed", ex.Message);
            }
        }

        progress.Finish();
        ctx.Output.Progress($"{enabled} re-enabled, {clear} already clear, {problems} refused or failed (of {enabled + clear + problems} addresses in {file.Name})");
        return problems == 0 ? ExitCodes.Ok : ExitCodes.Problems;
    }

    /// <summary>The CLI's words and exit code for a refusal of the flow; null when the flow went ahead (or had nothing to do).</summary>
    private static OpsException? Refusal(ReenableOutcome outcome, string a, string tenant) => outcome.Refusal switch
    {
        ReenableRefusal.NotFound => new OpsException(ExitCodes.NotFound, outcome.Problem ?? $"no DND entry for '{a}' in tenant '{tenant}'"),
        ReenableRefusal.Locked => new OpsException(ExitCodes.Refused,
            (outcome.OnlyAtMailgun ? $"'{a}' is on Mailgun's complaints list (no DND entry here): the contact complained (marked a message as spam)."
                : $"'{a}' is locked: the contact complained (marked a message as spam) on {Output.Time(outcome.Status.Since)}.")
            + " Sending again needs the contact's renewed consent; if you have it, repeat with --override-complaint and a --note naming it."),
        ReenableRefusal.Unsubscribed => new OpsException(ExitCodes.Refused,
            (outcome.OnlyAtMailgun ? $"'{a}' is on Mailgun's unsubscribes list (no DND entry here)." : $"'{a}' unsubscribed on {Output.Time(outcome.Status.Since)}.")
            + " Sending again needs the contact's renewed consent; if you have it, repeat with --override-unsubscribe and a --note saying when and how the contact asked."),
        ReenableRefusal.AddressInvalid or ReenableRefusal.CannotReceiveMail => new OpsException(ExitCodes.Refused,
            $"refusing to re-enable: {outcome.Problem}" + (outcome.Validation is { } v ? $" (validator: {v.Validator})" : "")),
        // A complaint arrived between our check and the write: the store's own rule decides.
        ReenableRefusal.LockedMeanwhile => new OpsException(ExitCodes.Refused, outcome.Problem!),
        _ => null,
    };

    private static void ReportLine(Output output, int line, string address, string outcome, string problem)
    {
        if (output.Json)
        {
            output.Line(new { line, address, outcome, problem });
        }
        else
        {
            output.Text($"line {line}: {address}: {outcome}: {problem}");
        }
    }

    private static void ReportEnabled(Output output, string a, string tenant, string who, ReenableOverrides overrides, ReenableOutcome outcome, int? line)
    {
        bool clear = outcome.Refusal == ReenableRefusal.AlreadyClear;
        // No entry here, cleared at Mailgun only: the DND state was and stays "none".
        bool unchangedHere = clear || outcome.OnlyAtMailgun;
        var view = new
        {
            line,
            address = a,
            tenant,
            outcome = clear ? "already-clear" : outcome.OnlyAtMailgun ? MailgunOnlyOutcome : DndNames.Of(outcome.Result!.Outcome),
            previous = unchangedHere ? outcome.Status.State.ToProductName() : outcome.Result!.Previous.State.ToProductName(),
            current = unchangedHere ? outcome.Status.State.ToProductName() : outcome.Result!.Current.State.ToProductName(),
            mailgunRemoved = outcome.MailgunRemoved,
            validation = outcome.Validation is { } v ? ValidationView(v) : null,
            actor = who,
            overrideComplaint = overrides.HasFlag(ReenableOverrides.Complaint),
            overrideUnsubscribe = overrides.HasFlag(ReenableOverrides.Unsubscribe),
        };
        string prefix = line is { } n ? $"line {n}: " : "";
        if (output.Json)
        {
            // One document for one address; one line per address for a file.
            if (line is null)
            {
                output.Document(view);
            }
            else
            {
                output.Line(view);
            }
        }
        else if (clear)
        {
            output.Text($"{prefix}{a} in {tenant}: already clear ({view.current}): nothing changed, Mailgun not called");
        }
        else
        {
            output.Text(outcome.OnlyAtMailgun
                ? $"{prefix}{a} in {tenant}: no DND entry here (nothing to clear here); cleared from Mailgun's lists"
                : $"{prefix}{a} in {tenant}: {view.previous} -> {view.current} ({view.outcome})");
            output.Text(prefix + "Mailgun lists: " + string.Join(", ", outcome.MailgunRemoved.Select(p => $"{p.Key} {(p.Value ? "removed" : "not listed")}")));
            if (outcome.Validation is { } validation)
            {
                output.Text(prefix + "validated by: " + validation.Validator switch
                {
                    ReenableValidators.Dns => "dns (syntax, MX or A record)",
                    ReenableValidators.Mailgun => $"mailgun (result '{validation.Result}'{(validation.Risk is { Length: > 0 } r ? $", risk '{r}'" : "")})",
                    _ => "mailgun+dns (Mailgun's result 'unknown': the DNS rule decided)",
                });
            }
        }
    }

    /// <summary>The outcome's name when there was no DND entry and the address was cleared from Mailgun's lists only.</summary>
    internal const string MailgunOnlyOutcome = "cleared-at-mailgun";

    private static Command Block(OpsRuntime runtime)
    {
        var address = new Argument<string>("address") { Description = "The contact's email address." };
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(false);
        var note = new Option<string>("--note") { Description = "The contact's request: when and how they asked (recorded in the history with the operator).", Required = true };
        var actor = OpsCommands.Actor();
        var command = new Command("block", "Put an address in DND because the contact asked (permanent, as an unsubscribe: re-enabling it needs --override-unsubscribe).")
        {
            address, tenant, domain, note, actor,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            string given = parse.GetValue(address)!;
            if (MailAddressCheck.SyntaxProblem(given) is { } syntax)
            {
                throw new OpsException(ExitCodes.Refused, $"refusing to block: {syntax}");
            }

            string why = parse.GetValue(note)!;
            if (string.IsNullOrWhiteSpace(why))
            {
                throw new OpsException(ExitCodes.Usage, "--note must say when and how the contact asked");
            }

            string a = DndKeys.NormalizeAddress(given);
            var resolved = await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), null, token).ConfigureAwait(false);
            string who = OpsCommands.ActorOf(parse.GetValue(actor));
            // The store's versioned write: the change is announced to the platform like any other.
            var result = await (await ctx.ForTenantChangeAsync(resolved.Id, token).ConfigureAwait(false)).Get<DndStore>().ApplyAsync(resolved.Id, a, DndChange.ManualBlock(ctx.Time.GetUtcNow(), who, why.Trim()), token).ConfigureAwait(false);
            var view = new
            {
                address = a,
                tenant = resolved.Id,
                outcome = DndNames.Of(result.Outcome),
                previous = result.Previous.State.ToProductName(),
                current = result.Current.State.ToProductName(),
                reason = result.Current.Reason,
                version = result.Version,
                actor = who,
            };
            if (ctx.Output.Json)
            {
                ctx.Output.Document(view);
            }
            else
            {
                ctx.Output.Text($"{a} in {resolved.Id}: {view.previous} -> {view.current} ({view.reason}, {view.outcome})");
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static Command Stats(OpsRuntime runtime)
    {
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(false);
        var command = new Command("stats", "Counts per state and reason, new in the last day and week, and sender-side failure counters of the last day.") { tenant, domain };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            string d = (await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), null, token).ConfigureAwait(false)).Id;
            var shard = await ctx.ForTenantAsync(d, token).ConfigureAwait(false);
            var options = ctx.Get<IOptions<DndOptions>>().Value;
            var now = ctx.Time.GetUtcNow();
            var byState = new SortedDictionary<string, long>(StringComparer.Ordinal);
            var byReason = new SortedDictionary<string, long>(StringComparer.Ordinal);
            long total = 0, newDay = 0, newWeek = 0;
            await foreach (var entry in shard.Get<DndStore>().ListAsync(d, token).ConfigureAwait(false))
            {
                total++;
                var status = DndPolicy.Evaluate(entry, now, options);
                byState[status.State.ToProductName()] = byState.GetValueOrDefault(status.State.ToProductName()) + 1;
                if (status.State != DndState.None)
                {
                    byReason[status.Reason] = byReason.GetValueOrDefault(status.Reason) + 1;
                    newDay += status.Since >= now.AddDays(-1) ? 1 : 0;
                    newWeek += status.Since >= now.AddDays(-7) ? 1 : 0;
                }
            }

            long senderTotal = 0;
            var senderByRule = new SortedDictionary<string, long>(StringComparer.Ordinal);
            var buckets = new SortedDictionary<DateTimeOffset, long>();
            await foreach (var (bucket, rule, code, count) in shard.Get<SenderIssueCounter>().ListCountersAsync(d, now.AddDays(-1), now, token).ConfigureAwait(false))
            {
                if (rule.Length == 0)
                {
                    senderTotal += count;
                    buckets[bucket] = count;
                }
                else
                {
                    senderByRule[rule + ":" + code] = senderByRule.GetValueOrDefault(rule + ":" + code) + count;
                }
            }

            var view = new
            {
                tenant = d,
                at = now,
                entries = total,
                byState,
                byReason,
                newLastDay = newDay,
                newLastWeek = newWeek,
                senderIssuesLastDay = new { total = senderTotal, byRuleAndCode = senderByRule, busiestBucket = buckets.Count == 0 ? null : new { start = buckets.MaxBy(b => b.Value).Key, count = buckets.Values.Max() } },
            };
            if (ctx.Output.Json)
            {
                ctx.Output.Document(view);
                return ExitCodes.Ok;
            }

            ctx.Output.Text($"{d}: {total} entries; new DND in the last day {newDay}, last week {newWeek}");
            ctx.Output.Table(["STATE", "COUNT"], byState.Select(p => new[] { p.Key, p.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
            ctx.Output.Table(["REASON", "COUNT"], byReason.Select(p => new[] { p.Key, p.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
            ctx.Output.Text($"sender-side failures in the last day: {senderTotal}" + (view.senderIssuesLastDay.busiestBucket is { } b ? $" (busiest bucket {Output.Time(b.start)}: {b.count})" : ""));
            ctx.Output.Table(["RULE:CODE", "COUNT"], senderByRule.Select(p => new[] { p.Key, p.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    internal static object View(DndEntry entry, DndStatus status) => new
    {
        tenant = entry.Tenant,
        address = entry.Address,
        state = status.State.ToProductName(),
        reason = status.Reason,
        since = status.Since,
        until = status.Until,
        contactId = entry.Context?.ContactId,
        lastEvent = entry.LastEvent is { } e ? new { type = e.Label, id = e.Detail, at = e.At } : null,
        permanentCause = entry.LatestPermanentCause is { } p ? new { rule = p.Label, category = p.Detail, at = p.At } : null,
        firstComplaintAt = entry.FirstComplaintAt,
        latestComplaintAt = entry.LatestComplaintAt,
        softBounces = entry.SoftBounces.Count,
        lastReenable = entry.LastReenable is { } r ? new { at = r.At, note = r.Detail, actor = r.Actor } : null,
        lastOverride = entry.LastOverride is { } o ? new { at = o.At, note = o.Detail, actor = o.Actor } : null,
    };

    private static object HistoryView(DndHistoryRecord h) => new
    {
        at = h.At,
        source = DndHistoryRecord.SourceName(h.Source),
        kind = DndNames.Of(h.Kind),
        eventType = h.EventType,
        eventId = h.EventId,
        category = h.Category,
        code = h.Code,
        enhancedCode = h.EnhancedCode,
        message = h.Message,
        rule = h.Rule,
        explanation = h.Explanation,
        actor = h.Actor,
        previousState = h.PreviousState.ToProductName(),
        newState = h.NewState.ToProductName(),
    };

    private static void PrintEntry(Output output, DndEntry entry, DndStatus status, IReadOnlyList<DndHistoryRecord> history)
    {
        output.Text($"{entry.Address} in {entry.Tenant}: {status.State.ToProductName()} ({status.Reason})"
            + (status.Since is { } s ? $" since {Output.Time(s)}" : "") + (status.Until is { } u ? $" until {Output.Time(u)}" : ""));
        output.Text($"  contact id: {entry.Context?.ContactId ?? "-"}; last event: " + (entry.LastEvent is { } e ? $"{e.Label} {e.Detail} at {Output.Time(e.At)}" : "-"));
        output.Table(["AT", "KIND", "SOURCE", "RULE", "STATE", "EXPLANATION"], history.Select(h => new[]
        {
            Output.Time(h.At), DndNames.Of(h.Kind), DndHistoryRecord.SourceName(h.Source), h.Rule,
            $"{h.PreviousState.ToProductName()}->{h.NewState.ToProductName()}", h.Explanation,
        }));
    }
}
