using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using MailgunFunctions.Dnd;
using MailgunFunctions.Export;
using MailgunFunctions.Inbound;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using Microsoft.Extensions.Options;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunOps;

/// <summary>
/// <c>tenant move --tenant T --to K</c>: moves a tenant's tables from its shard to shard K without losing or doubling an
/// event (docs/scaling.md "Moving a tenant"). Every step is recorded in the registry or recomputed from storage, so a move
/// that stopped anywhere goes on when the same command is run again: mark the tenant moving (its webhooks answer 503 and
/// Mailgun retries), wait until no instance routes it to the source any more and the source's queues hold none of its
/// messages, copy its rows (upserts, and rows of it the target has that the source has not are deleted), verify every row
/// by hash, switch its shard, delete its rows at the source.
/// </summary>
public static class TenantMove
{
    /// <summary>The tables of a tenant in its shard (docs/scaling.md "What lives where") and how its rows are found in each.</summary>
    public static IReadOnlyList<(string Table, string Filter)> TablesOf(string tenant)
    {
        string t = DndKeys.TenantKey(tenant);
        string replies = ReplyStore.TenantPartition(tenant);
        // A tenant key never holds '|' (it is encoded), so "key|" to "key}" is exactly the partitions "key|...".
        static string Partitions(string prefix) => TableClient.CreateQueryFilter($"PartitionKey gt {prefix + "|"} and PartitionKey lt {prefix + "}"}");
        static string Partition(string key) => TableClient.CreateQueryFilter($"PartitionKey eq {key}");
        return
        [
            (StorageNames.DndEntriesTable, Partition(t)),
            (StorageNames.DndHistoryTable, Partitions(t)),
            // Partitioned by the minute a temporary DND ends: the tenant is in the RowKey (a scan of a small table).
            (StorageNames.DndExpiriesTable, TableClient.CreateQueryFilter($"RowKey gt {t + "|"} and RowKey lt {t + "}"}")),
            (StorageNames.SenderIssuesTable, Partitions(t)),
            (StorageNames.TenantRatesTable, Partitions(t)),
            (StorageNames.MailgunAllowlistTable, Partition(t)),
            (StorageNames.SentMessagesTable, Partition(t)),
            (StorageNames.RepliesTable, Partition(replies)),
            (StorageNames.ContactRepliesTable, Partitions(replies)),
            (StorageNames.DndErasuresTable, Partition(t)),
        ];
    }

    /// <summary>How often the source's queues are looked at while waiting for them to drain.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);

    public static Command Build(OpsRuntime runtime)
    {
        var tenant = new Option<string>("--tenant") { Description = "The tenant to move.", Required = true };
        var to = new Option<int>("--to") { Description = "The storage shard to move it to (0: the home account).", Required = true };
        var yes = new Option<bool>("--yes") { Description = "Confirms the move: the tenant's webhooks answer 503 (Mailgun retries) until it is done." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Counts the tenant's rows on both shards and says what would be done; changes nothing." };
        var keepSource = new Option<bool>("--keep-source") { Description = "Leave the tenant's rows on the source shard after the switch (they are then unused)." };
        var settle = new Option<TimeSpan>("--settle")
        {
            Description = "On a busy source shard whose queues never empty: how long their oldest messages must stay newer than the move and none of the tenant's before they count as drained (default 10m, longer than a queue message's processing).",
            DefaultValueFactory = _ => TimeSpan.FromMinutes(10),
            CustomParser = r => r.Tokens.Count == 0 ? TimeSpan.FromMinutes(10) : ReplayCommands.ParseSince(r.Tokens[0].Value, r, "--settle"),
        };
        var actor = OpsCommands.Actor();
        var command = new Command("move", "Move a tenant's data to another storage shard: its webhooks answer 503 meanwhile, every row is copied, verified by hash, then its shard is switched. Run again to resume.")
        {
            tenant, to, yes, dryRun, keepSource, settle, actor,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            string id = TenantId.Parse(parse.GetValue(tenant)) ?? throw new OpsException(ExitCodes.Usage, "--tenant: " + TenantId.Problem(parse.GetValue(tenant)));
            var registry = ctx.Get<TenantRegistry>();
            if (!registry.Enabled)
            {
                throw new OpsException(ExitCodes.Configuration, $"the tenant registry is off: set '{TenantsOptions.Section}__KeyEncryptionKeys__k1' (the key-encryption key, from Key Vault) in the environment");
            }

            int target = parse.GetValue(to);
            int count = ctx.Shards.Count;
            if (target < 0 || target >= count)
            {
                throw new OpsException(ExitCodes.Usage, $"--to {target}: this deployment has storage shards 0 to {count - 1} (Storage__Shards is {count}; set it and StorageShard{{k}} as the app has them)");
            }

            var t = await registry.GetAsync(id, token).ConfigureAwait(false) ?? throw new OpsException(ExitCodes.NotFound, $"no tenant '{id}': see mailgun-ops tenant list");
            var move = new Mover(ctx, registry, id, OpsCommands.ActorOf(parse.GetValue(actor)), parse.GetValue(settle));
            bool dry = parse.GetValue(dryRun);
            if (dry)
            {
                return await move.DryRunAsync(t, target, token).ConfigureAwait(false);
            }

            if (!parse.GetValue(yes))
            {
                throw new OpsException(ExitCodes.Usage, $"tenant move answers 503 to tenant '{id}''s webhooks until it is done (Mailgun retries them): add --yes to move it, or see what it would do with --dry-run");
            }

            return await move.RunAsync(t, target, parse.GetValue(keepSource), token).ConfigureAwait(false);
        }, ct));
        return command;
    }

    /// <summary>One table's rows of the tenant on one shard: how many, and a SHA-256 over every row (keys and properties).</summary>
    public sealed record TableDigest(string Table, int Rows, string Sha256, IReadOnlyDictionary<string, string> RowHashes);

    /// <summary>The rows of a tenant in one table, with each row's hash, keyed by PartitionKey and RowKey.</summary>
    public static async Task<(List<TableEntity> Rows, TableDigest Digest)> ReadAsync(TableServiceClient tables, string table, string filter, CancellationToken token)
    {
        var rows = new List<TableEntity>();
        try
        {
            await foreach (var row in tables.GetTableClient(table).QueryAsync<TableEntity>(filter, cancellationToken: token).ConfigureAwait(false))
            {
                rows.Add(row);
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // The table was never created on this shard: no rows.
        }

        var hashes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            hashes[KeyOf(row)] = RowHash(row);
        }

        var all = new StringBuilder();
        foreach (var (key, hash) in hashes)
        {
            all.Append(key).Append('\t').Append(hash).Append('\n');
        }

        return (rows, new TableDigest(table, rows.Count, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(all.ToString()))), hashes));
    }

    private static string KeyOf(ITableEntity row) => row.PartitionKey + "\n" + row.RowKey;

    /// <summary>
    /// A row's properties in a canonical form (sorted names, invariant values; the service's Timestamp and ETag left out,
    /// since a copy gets its own): equal for a row and its faithful copy, different if any value differs.
    /// </summary>
    public static string RowHash(TableEntity row)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in row.Where(p => p.Key is not ("PartitionKey" or "RowKey" or "Timestamp" or "odata.etag")).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            string canonical = value switch
            {
                null => "null",
                DateTimeOffset at => at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                DateTime at => at.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
                byte[] bytes => Convert.ToBase64String(bytes),
                BinaryData data => Convert.ToBase64String(data.ToArray()),
                double d => d.ToString("R", CultureInfo.InvariantCulture),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString() ?? "",
            };
            text.Append(name).Append('=').Append(canonical.Length).Append(':').Append(canonical).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static TableEntity Copy(TableEntity row)
    {
        var copy = new TableEntity(row.PartitionKey, row.RowKey);
        foreach (var (name, value) in row.Where(p => p.Key is not ("PartitionKey" or "RowKey" or "Timestamp" or "odata.etag")))
        {
            copy[name] = value;
        }

        return copy;
    }

    /// <summary>Upserts (or deletes) rows in transactions of one partition, 100 rows at most (Table Storage's limits).</summary>
    private static async Task SubmitAsync(TableClient table, IEnumerable<TableEntity> rows, TableTransactionActionType action, CancellationToken token)
    {
        foreach (var batch in rows.GroupBy(r => r.PartitionKey, StringComparer.Ordinal).SelectMany(g => g.Chunk(100)))
        {
            var actions = batch.Select(r => action == TableTransactionActionType.Delete
                ? new TableTransactionAction(action, new TableEntity(r.PartitionKey, r.RowKey), ETag.All)
                : new TableTransactionAction(action, Copy(r))).ToList();
            try
            {
                await table.SubmitTransactionAsync(actions, token).ConfigureAwait(false);
            }
            catch (TableTransactionFailedException ex) when (action == TableTransactionActionType.Delete && ex.Status == 404)
            {
                // A row already gone (a rerun after a stop): delete the others one by one.
                foreach (var a in actions)
                {
                    try
                    {
                        await table.DeleteEntityAsync(a.Entity.PartitionKey, a.Entity.RowKey, ETag.All, token).ConfigureAwait(false);
                    }
                    catch (RequestFailedException gone) when (gone.Status == 404)
                    {
                        // Already deleted.
                    }
                }
            }
        }
    }

    private sealed class Mover(OpsContext ctx, TenantRegistry registry, string id, string actor, TimeSpan settle)
    {
        private TableServiceClient Tables(int shard) => ctx.Shard(shard).Get<StorageClients>().Tables;

        public async Task<int> DryRunAsync(Tenant t, int target, CancellationToken token)
        {
            int source = t.Shard;
            var rows = new List<object>();
            foreach (var (table, filter) in TablesOf(id))
            {
                var (_, from) = await ReadAsync(Tables(source), table, filter, token).ConfigureAwait(false);
                var (_, there) = target == source ? (null!, from) : await ReadAsync(Tables(target), table, filter, token).ConfigureAwait(false);
                rows.Add(new { table, sourceRows = from.Rows, targetRows = there.Rows });
            }

            string plan = t.MovingTo is { } moving && moving != target && target != source ? $"refused: the tenant is being moved to shard {moving}"
                : t.MovingTo is not null && target == source ? $"cancel the move to shard {t.MovingTo}: its webhooks are answered again from shard {source}"
                : target == source && t.MovedFrom is { } left ? $"delete the tenant's rows left on shard {left}"
                : target == source ? "nothing: the tenant is on that shard"
                : $"move from shard {source} to shard {target}";
            if (ctx.Output.Json)
            {
                ctx.Output.Document(new { tenant = id, dryRun = true, shard = source, movingTo = t.MovingTo, to = target, plan, tables = rows });
            }
            else
            {
                ctx.Output.Text($"tenant {id}: shard {source}{(t.MovingTo is { } m ? $", being moved to {m}" : "")}; would {plan} (dry run: nothing changed)");
                ctx.Output.Table(["TABLE", "SOURCE ROWS", "TARGET ROWS"], rows.Select(r => JObject.FromObject(r)).Select(r => new[] { (string?)r["table"], (string?)r["sourceRows"], (string?)r["targetRows"] }));
            }

            return ExitCodes.Ok;
        }

        public async Task<int> RunAsync(Tenant t, int target, bool keepSource, CancellationToken token)
        {
            if (t.MovingTo is { } moving && moving != target)
            {
                if (target != t.Shard)
                {
                    throw new OpsException(ExitCodes.Refused, $"tenant '{id}' is being moved to shard {moving}: finish it (tenant move --tenant {id} --to {moving} --yes) or cancel it (--to {t.Shard})");
                }

                // Cancelled before the switch: the source is whole (nothing was deleted there); rows copied to the target are unused
                // and a later move there replaces them all.
                await registry.SaveAsync(t with { MovingTo = null }, actor, "tenant-move-cancelled", token).ConfigureAwait(false);
                ctx.Output.Progress($"move of tenant {id} to shard {moving} cancelled: it stays on shard {t.Shard}");
                Report(t.Shard, t.Shard, [], sourceDeleted: false, note: "cancelled");
                return ExitCodes.Ok;
            }

            if (t.MovingTo is null && t.Shard == target)
            {
                if (t.MovedFrom is { } left)
                {
                    // Switched by an earlier run that stopped before deleting its rows at the source.
                    await DeleteSourceAsync(t, left, keepSource, token).ConfigureAwait(false);
                    Report(left, target, [], sourceDeleted: !keepSource, note: "finished");
                    return ExitCodes.Ok;
                }

                ctx.Output.Progress($"tenant {id} is on shard {target} already: nothing to move");
                Report(target, target, [], sourceDeleted: false, note: "nothing to move");
                return ExitCodes.Ok;
            }

            if (t.MovedFrom is { } earlier)
            {
                throw new OpsException(ExitCodes.Refused, $"tenant '{id}''s rows on shard {earlier} from its last move are not deleted yet: finish that first (tenant move --tenant {id} --to {t.Shard} --yes)");
            }

            int source = t.Shard;
            // (a) From now on the tenant's webhooks answer 503 and the API refuses its writes, as soon as an instance reads the registry again.
            if (t.MovingTo is null)
            {
                t = await registry.SaveAsync(t with { MovingTo = target }, actor, "tenant-move-started", token).ConfigureAwait(false);
                ctx.Output.Progress($"tenant {id}: moving from shard {source} to shard {target}; its webhooks answer 503 (Mailgun retries) until the switch");
            }
            else
            {
                ctx.Output.Progress($"tenant {id}: resuming its move from shard {source} to shard {target}");
            }

            // (b) Instances cache a tenant for Tenants:CacheLifetime: until then one may still queue its events on the source.
            var lifetime = ctx.Get<IOptions<TenantsOptions>>().Value.CacheLifetime;
            var routedUntil = t.UpdatedAt + lifetime;
            if (routedUntil > ctx.Time.GetUtcNow())
            {
                ctx.Output.Progress($"waiting {(routedUntil - ctx.Time.GetUtcNow()).TotalSeconds:F0}s for every instance's registry cache (Tenants:CacheLifetime {lifetime})");
                await Task.Delay(routedUntil - ctx.Time.GetUtcNow(), ctx.Time, token).ConfigureAwait(false);
            }

            // An export job that started before every instance saw the mark may reconcile the tenant's DND on the source for up
            // to its time budget; a job starting later waits for the move (ExportJobRunner.MoveDeferral).
            if (await ctx.Get<ExportRunStore>().AnyRunningAsync(id, token).ConfigureAwait(false))
            {
                var exportsEnd = routedUntil + ctx.Get<IOptions<SuppressionExportOptions>>().Value.JobTimeBudget;
                var wait = exportsEnd - ctx.Time.GetUtcNow();
                ctx.Output.Progress(wait > TimeSpan.Zero
                    ? $"an export of the tenant is running: waiting {wait.TotalSeconds:F0}s for its time budget (SuppressionExport:JobTimeBudget) to end"
                    : $"an export of the tenant is running: its time budget (SuppressionExport:JobTimeBudget) ended at {Output.Time(exportsEnd)}, after the move's mark");
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, ctx.Time, token).ConfigureAwait(false);
                }
            }

            await DrainAsync(source, routedUntil, token).ConfigureAwait(false);

            // (c) Copy every row, then drop rows of the tenant the target has and the source has not (left by an earlier,
            // cancelled move or an old stay there), so the target ends equal to the source.
            var digests = new List<TableDigest>();
            var sourceTables = Tables(source);
            var targetTables = Tables(target);
            foreach (var (table, filter) in TablesOf(id))
            {
                var (rows, digest) = await ReadAsync(sourceTables, table, filter, token).ConfigureAwait(false);
                var client = targetTables.GetTableClient(table);
                await client.CreateIfNotExistsAsync(token).ConfigureAwait(false);
                await SubmitAsync(client, rows, TableTransactionActionType.UpsertReplace, token).ConfigureAwait(false);
                var (there, _) = await ReadAsync(targetTables, table, filter, token).ConfigureAwait(false);
                var stale = there.Where(r => !digest.RowHashes.ContainsKey(KeyOf(r))).ToList();
                await SubmitAsync(client, stale, TableTransactionActionType.Delete, token).ConfigureAwait(false);
                ctx.Output.Progress($"copied {table}: {rows.Count} row(s){(stale.Count > 0 ? $", {stale.Count} stale row(s) of the tenant removed from the target" : "")}");
                digests.Add(digest);
            }

            // (d) Verify: both shards read again, every row compared by hash. Nothing is switched unless all are equal.
            var verified = await VerifyAsync(source, target, token).ConfigureAwait(false);

            // (e) Switch. Deliveries Mailgun retries from now on are queued, and processed, on the target.
            t = await registry.SaveAsync(t with { Shard = target, MovingTo = null, MovedFrom = keepSource ? null : source }, actor, "tenant-move-switched", token).ConfigureAwait(false);
            ctx.Output.Progress($"tenant {id} switched to shard {target}");

            // (f) The source's rows are unused from now on.
            await DeleteSourceAsync(t, source, keepSource, token).ConfigureAwait(false);
            Report(source, target, verified, sourceDeleted: !keepSource, note: "moved");
            return ExitCodes.Ok;
        }

        /// <summary>
        /// Waits until the source's events and inbound queues hold no message of the tenant: either a queue is empty (its
        /// approximate count includes messages being processed, which are invisible to a peek), or, on a busy shard, its
        /// oldest visible messages were all put after every instance stopped routing the tenant there and none is the tenant's,
        /// and that holds for <c>--settle</c> (so a message of the tenant being processed meanwhile either finished or became
        /// visible again). Poison messages of the tenant on the source are refused: they would be requeued to the source.
        /// </summary>
        private async Task DrainAsync(int source, DateTimeOffset routedUntil, CancellationToken token)
        {
            var clients = ctx.Shard(source).Get<StorageClients>();
            foreach (string poison in new[] { StorageNames.EventsPoisonQueue, StorageNames.InboundPoisonQueue })
            {
                int theirs = await PoisonCommands.CountOfTenantAsync(clients, poison, id, token).ConfigureAwait(false);
                if (theirs > 0)
                {
                    throw new OpsException(ExitCodes.Refused,
                        $"{theirs} message(s) of tenant '{id}' are in {poison} on shard {source}: requeue them (processed there before the copy) or discard them (mailgun-ops poison list --shard {source}), then run tenant move again");
                }
            }

            foreach (string name in new[] { StorageNames.EventsQueue, StorageNames.InboundQueue })
            {
                var queue = clients.Queues.GetQueueClient(name);
                DateTimeOffset? clearSince = null;
                while (true)
                {
                    var state = await QueueStateAsync(queue, routedUntil, token).ConfigureAwait(false);
                    var now = ctx.Time.GetUtcNow();
                    if (state == Drain.Empty || (state == Drain.PastTheMove && clearSince is { } since && now - since >= settle))
                    {
                        break;
                    }

                    clearSince = state == Drain.PastTheMove ? clearSince ?? now : null;
                    ctx.Output.Progress(state == Drain.PastTheMove
                        ? $"{name} on shard {source}: none of the tenant's messages in sight; settling until {Output.Time(clearSince!.Value + settle)}"
                        : $"{name} on shard {source}: waiting for the tenant's messages to be processed");
                    await Task.Delay(Poll, ctx.Time, token).ConfigureAwait(false);
                }
            }
        }

        private enum Drain
        {
            Empty,
            PastTheMove,
            Waiting,
        }

        private async Task<Drain> QueueStateAsync(QueueClient queue, DateTimeOffset routedUntil, CancellationToken token)
        {
            if (!(await queue.ExistsAsync(token).ConfigureAwait(false)).Value
                || (await queue.GetPropertiesAsync(token).ConfigureAwait(false)).Value.ApproximateMessagesCount == 0)
            {
                return Drain.Empty;
            }

            var peeked = (await queue.PeekMessagesAsync(32, token).ConfigureAwait(false)).Value;
            bool theirs = peeked.Any(m => TenantOf(m.MessageText) == id);
            bool older = peeked.Any(m => m.InsertedOn is { } at && at <= routedUntil);
            return theirs || older || peeked.Length == 0 ? Drain.Waiting : Drain.PastTheMove;
        }

        private async Task<List<TableDigest>> VerifyAsync(int source, int target, CancellationToken token)
        {
            var verified = new List<TableDigest>();
            var problems = new List<string>();
            foreach (var (table, filter) in TablesOf(id))
            {
                var (_, from) = await ReadAsync(Tables(source), table, filter, token).ConfigureAwait(false);
                var (_, to) = await ReadAsync(Tables(target), table, filter, token).ConfigureAwait(false);
                if (from.Rows != to.Rows || from.Sha256 != to.Sha256)
                {
                    string? first = from.RowHashes.Keys.Union(to.RowHashes.Keys).FirstOrDefault(k => from.RowHashes.GetValueOrDefault(k) != to.RowHashes.GetValueOrDefault(k));
                    problems.Add($"{table}: shard {source} has {from.Rows} row(s) (sha256 {from.Sha256[..16]}), shard {target} {to.Rows} (sha256 {to.Sha256[..16]})" +
                        (first is null ? "" : $"; first differing row: {first.Replace("\n", " / ", StringComparison.Ordinal)}"));
                }

                verified.Add(from);
            }

            if (problems.Count > 0)
            {
                throw new OpsException(ExitCodes.Storage,
                    $"verify failed, tenant '{id}' NOT switched (it stays on shard {source}, marked moving): " + string.Join("; ", problems) +
                    ". Run tenant move again to copy and verify again");
            }

            ctx.Output.Progress($"verified {verified.Sum(d => d.Rows)} row(s) in {verified.Count} tables: equal on shards {source} and {target}");
            return verified;
        }

        private async Task DeleteSourceAsync(Tenant t, int source, bool keepSource, CancellationToken token)
        {
            if (keepSource)
            {
                ctx.Output.Progress($"the tenant's rows on shard {source} are kept (--keep-source); they are unused");
                if (t.MovedFrom is not null)
                {
                    await registry.SaveAsync(t with { MovedFrom = null }, actor, "tenant-move-finished", token).ConfigureAwait(false);
                }

                return;
            }

            var tables = Tables(source);
            int deleted = 0;
            foreach (var (table, filter) in TablesOf(id))
            {
                var (rows, _) = await ReadAsync(tables, table, filter, token).ConfigureAwait(false);
                await SubmitAsync(tables.GetTableClient(table), rows, TableTransactionActionType.Delete, token).ConfigureAwait(false);
                deleted += rows.Count;
            }

            await registry.SaveAsync(t with { MovedFrom = null }, actor, "tenant-move-finished", token).ConfigureAwait(false);
            ctx.Output.Progress($"deleted {deleted} row(s) of tenant {id} on shard {source}");
        }

        private void Report(int from, int to, IReadOnlyList<TableDigest> tables, bool sourceDeleted, string note)
        {
            if (ctx.Output.Json)
            {
                ctx.Output.Document(new { tenant = id, result = note, from, to, sourceDeleted, tables = tables.Select(d => new { table = d.Table, rows = d.Rows, sha256 = d.Sha256 }) });
                return;
            }

            ctx.Output.Text($"tenant {id}: {note} (shard {from} -> {to}{(sourceDeleted ? ", source rows deleted" : "")})");
            if (tables.Count > 0)
            {
                ctx.Output.Table(["TABLE", "ROWS", "SHA256"], tables.Select(d => new[] { d.Table, d.Rows.ToString(CultureInfo.InvariantCulture), d.Sha256 }));
            }
        }

        private static string? TenantOf(string? text)
        {
            try
            {
                return text is { Length: > 0 } && JObject.Parse(text)["tenant"] is JValue { Type: JTokenType.String } tenant ? (string?)tenant : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }
}
