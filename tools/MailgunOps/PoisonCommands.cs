using System.CommandLine;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using MailgunFunctions.Storage;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunOps;

/// <summary>
/// <c>poison list|show|requeue|discard</c> over <c>mailgun-events-poison</c> and <c>mailgun-inbound-poison</c>.
/// A poison message is either the product's record (JSON with reason, detail, poisonedAt and the original in
/// <c>message</c> or, for a large event, in the blob <c>messageBlob</c>), or a message the Functions host moved
/// after maxDequeueCount failures (the original text as is). Requeue sends the original back to its queue; the
/// storage clients encode it as base64, as the host's queue trigger expects.
/// </summary>
public static class PoisonCommands
{
    private static readonly (string Name, string Poison, string Target)[] Queues =
    [
        ("events", StorageNames.EventsPoisonQueue, StorageNames.EventsQueue),
        ("inbound", StorageNames.InboundPoisonQueue, StorageNames.InboundQueue),
    ];

    /// <summary>Messages stay hidden from other readers while a command looks at them; every one not acted on is made visible again at once.</summary>
    private static readonly TimeSpan LookTimeout = TimeSpan.FromMinutes(2);

    public static Command Build(OpsRuntime runtime)
    {
        var poison = new Command("poison", "Inspect the poison queues and move messages back after a fix.");
        poison.Subcommands.Add(ListCommand(runtime));
        poison.Subcommands.Add(Act(runtime, "show", "Show one poison message: why it failed and the original message."));
        poison.Subcommands.Add(Act(runtime, "requeue", "Put the original message(s) back on their queue and remove them from the poison queue."));
        poison.Subcommands.Add(Act(runtime, "discard", "Delete poison message(s) for good."));
        return poison;
    }

    private static Option<string?> QueueOption()
    {
        var option = new Option<string?>("--queue") { Description = "events or inbound (default: both)." };
        option.AcceptOnlyFromAmong("events", "inbound");
        return option;
    }

    /// <summary>Poison queues are per storage account: every shard's by default, or one.</summary>
    private static Option<int?> ShardOption() => new("--shard") { Description = "Only the poison queues of this storage shard (0: the home account; default: every shard)." };

    private static IEnumerable<(int Shard, StorageClients Clients)> Shards(OpsContext ctx, int? only)
    {
        if (only is { } k)
        {
            return [(k, ctx.Shard(k).Get<StorageClients>())];
        }

        return ctx.Shards.All.Select(s => (s.Shard, Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<StorageClients>(s.Services))).ToList();
    }

    private static Command ListCommand(OpsRuntime runtime)
    {
        var queue = QueueOption();
        var shard = ShardOption();
        var command = new Command("list", "List the messages of the poison queues with their reason, in every storage shard.") { queue, shard };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var rows = new List<PoisonView>();
            foreach (var ((k, clients), q) in Shards(ctx, parse.GetValue(shard)).SelectMany(s => Selected(parse.GetValue(queue)).Select(q => (s, q))))
            {
                var client = clients.Queues.GetQueueClient(q.Poison);
                var messages = await ReceiveAllAsync(client, token).ConfigureAwait(false);
                try
                {
                    rows.AddRange(messages.Select(m => PoisonView.Of(q.Name, m) with { Shard = k }));
                }
                finally
                {
                    await ReleaseAsync(client, messages, token).ConfigureAwait(false);
                }
            }

            if (ctx.Output.Json)
            {
                foreach (var row in rows)
                {
                    ctx.Output.Line(row with { Original = null });
                }
            }
            else
            {
                ctx.Output.Table(["SHARD", "QUEUE", "ID", "INSERTED", "REASON", "DETAIL"], rows.Select(r => new[] { r.Shard.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Queue, r.Id, Output.Time(r.InsertedAt), r.Reason, Cut(r.Detail, 80) }));
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static Command Act(OpsRuntime runtime, string verb, string description)
    {
        var id = new Argument<string?>("id") { Description = "The message id (from 'poison list').", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Every message of the selected queue(s)." };
        var queue = QueueOption();
        var shard = ShardOption();
        var yes = new Option<bool>("--yes") { Description = "Confirms --all: every poison message of the selected queue(s) is deleted for good." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Lists what would be discarded; changes nothing." };
        var command = new Command(verb, description) { id, queue, shard };
        if (verb != "show")
        {
            command.Options.Add(all);
        }

        if (verb == "discard")
        {
            command.Options.Add(yes);
            command.Options.Add(dryRun);
        }

        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            string? wanted = parse.GetValue(id);
            bool every = verb != "show" && parse.GetValue(all);
            if (wanted is null == !every)
            {
                throw new OpsException(ExitCodes.Usage, verb == "show" ? "give the message id" : "give a message id or --all (not both)");
            }

            // Discarding a whole queue cannot be undone: it is asked for twice, or looked at first.
            bool dry = verb == "discard" && parse.GetValue(dryRun);
            if (verb == "discard" && every && !dry && !parse.GetValue(yes))
            {
                throw new OpsException(ExitCodes.Usage,
                    $"poison discard --all deletes every message of {string.Join(" and ", Selected(parse.GetValue(queue)).Select(q => q.Poison))} for good: add --yes to confirm, or see what it would delete with --dry-run");
            }

            int done = 0;
            // A message goes back to its own shard's queue: the shard whose poison queue holds it.
            foreach (var ((k, clients), q) in Shards(ctx, parse.GetValue(shard)).SelectMany(s => Selected(parse.GetValue(queue)).Select(q => (s, q))))
            {
                var poisonQueue = clients.Queues.GetQueueClient(q.Poison);
                var messages = await ReceiveAllAsync(poisonQueue, token).ConfigureAwait(false);
                var chosen = messages.Where(m => every || m.MessageId == wanted).ToList();
                try
                {
                    foreach (var message in chosen)
                    {
                        var view = PoisonView.Of(q.Name, message) with { Shard = k };
                        if (dry)
                        {
                            Report(ctx.Output, "would-discard", view);
                        }
                        else if (verb == "show")
                        {
                            string original = await OriginalAsync(clients, view, token).ConfigureAwait(false);
                            Show(ctx.Output, view with { Original = original });
                        }
                        else
                        {
                            if (verb == "requeue")
                            {
                                string original = await OriginalAsync(clients, view, token).ConfigureAwait(false);
                                var target = clients.Queues.GetQueueClient(q.Target);
                                await target.CreateIfNotExistsAsync(cancellationToken: token).ConfigureAwait(false);
                                await target.SendMessageAsync(original, token).ConfigureAwait(false);
                            }

                            // Deleted only after the original is back on its queue: a failure in between leaves a copy, never nothing.
                            await poisonQueue.DeleteMessageAsync(message.MessageId, message.PopReceipt, token).ConfigureAwait(false);
                            Report(ctx.Output, verb, view);
                        }

                        done++;
                    }
                }
                finally
                {
                    await ReleaseAsync(poisonQueue, verb == "show" || dry ? messages : messages.Except(chosen).ToList(), token).ConfigureAwait(false);
                }
            }

            if (done == 0 && !every)
            {
                throw new OpsException(ExitCodes.NotFound, $"no poison message with id '{wanted}'");
            }

            if (!ctx.Output.Json && verb != "show")
            {
                ctx.Output.Progress($"{done} message(s) {(dry ? "would be discarded (dry run: nothing changed)" : verb == "requeue" ? "requeued" : "discarded")}");
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    /// <summary>How many messages of a poison queue name <paramref name="tenant"/> in their envelope (tenant move refuses to move past them).</summary>
    internal static async Task<int> CountOfTenantAsync(StorageClients clients, string poison, string tenant, CancellationToken token)
    {
        var client = clients.Queues.GetQueueClient(poison);
        var messages = await ReceiveAllAsync(client, token).ConfigureAwait(false);
        try
        {
            return messages.Count(m => PoisonView.Of(poison, m).Original is { } original && TenantOf(original) == tenant);
        }
        finally
        {
            await ReleaseAsync(client, messages, token).ConfigureAwait(false);
        }
    }

    private static string? TenantOf(string envelope)
    {
        try
        {
            return JObject.Parse(envelope)["tenant"] is JValue { Type: JTokenType.String } t ? (string?)t : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IEnumerable<(string Name, string Poison, string Target)> Selected(string? name) => Queues.Where(q => name is null || q.Name == name);

    private static async Task<List<QueueMessage>> ReceiveAllAsync(QueueClient queue, CancellationToken token)
    {
        var all = new List<QueueMessage>();
        if (!(await queue.ExistsAsync(token).ConfigureAwait(false)).Value)
        {
            return all;
        }

        while (true)
        {
            var batch = (await queue.ReceiveMessagesAsync(32, LookTimeout, token).ConfigureAwait(false)).Value;
            if (batch.Length == 0)
            {
                return all;
            }

            all.AddRange(batch);
        }
    }

    private static async Task ReleaseAsync(QueueClient queue, IReadOnlyList<QueueMessage> messages, CancellationToken token)
    {
        foreach (var m in messages)
        {
            await queue.UpdateMessageAsync(m.MessageId, m.PopReceipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: token).ConfigureAwait(false);
        }
    }

    private static async Task<string> OriginalAsync(StorageClients clients, PoisonView view, CancellationToken token)
    {
        if (view.Original is { } inline)
        {
            return inline;
        }

        if (view.OriginalBlob is { } blob)
        {
            var download = await clients.Blobs.GetBlobContainerClient(StorageNames.EventPayloadsContainer).GetBlobClient(blob).DownloadContentAsync(token).ConfigureAwait(false);
            return download.Value.Content.ToString();
        }

        return view.Text;
    }

    private static void Show(Output output, PoisonView view)
    {
        if (output.Json)
        {
            output.Document(view);
            return;
        }

        output.Text($"shard:    {view.Shard}");
        output.Text($"queue:    {view.Queue}");
        output.Text($"id:       {view.Id}");
        output.Text($"inserted: {Output.Time(view.InsertedAt)}");
        output.Text($"reason:   {view.Reason}");
        output.Text($"detail:   {view.Detail}");
        if (view.ReplayFile is not null)
        {
            output.Text($"replayed: {view.ReplayFile}" + (view.ReplayLine is { } line ? $" line {line}" : ""));
        }

        output.Text("original:");
        output.Text(view.Original ?? "");
    }

    private static void Report(Output output, string verb, PoisonView view)
    {
        if (output.Json)
        {
            output.Line(new { action = verb, shard = view.Shard, queue = view.Queue, id = view.Id });
        }
        else
        {
            output.Text($"{verb} shard {view.Shard} {view.Queue} {view.Id}");
        }
    }

    private static string Cut(string? s, int max) => s is null ? "" : s.Length <= max ? s : s[..(max - 1)] + "…";

    private sealed record PoisonView(string Queue, string Id, DateTimeOffset? InsertedAt, long DequeueCount, string Reason, string? Detail, DateTimeOffset? PoisonedAt,
        [property: JsonIgnore] string Text, string? Original, string? OriginalBlob)
    {
        /// <summary>Where a CLI replay read the event (its file, or "backfill of" a domain), for messages it poisoned.</summary>
        public string? ReplayFile { get; init; }

        public int? ReplayLine { get; init; }

        /// <summary>The storage shard whose poison queue holds the message (0: the home account).</summary>
        public int Shard { get; init; }

        public static PoisonView Of(string queue, QueueMessage m)
        {
            string text = m.MessageText ?? m.Body?.ToString() ?? "";
            JObject? record = null;
            try
            {
                record = JObject.Parse(text);
            }
            catch (JsonException)
            {
                // Not JSON: a message the host moved as is.
            }

            if (record is not null && record["reason"]?.Type == JTokenType.String && (record["message"] is JValue || record["messageBlob"] is JValue))
            {
                return new PoisonView(queue, m.MessageId, m.InsertedOn, m.DequeueCount, (string)record["reason"]!, (string?)record["detail"],
                    record["poisonedAt"] is JValue at && at.Value is DateTime or DateTimeOffset ? at.ToObject<DateTimeOffset>() : null, text, (string?)record["message"], (string?)record["messageBlob"])
                {
                    ReplayFile = (string?)record["replayFile"],
                    ReplayLine = (int?)record["replayLine"],
                };
            }

            // The host moved it after maxDequeueCount failed attempts: the function threw (storage down, a bug).
            return new PoisonView(queue, m.MessageId, m.InsertedOn, m.DequeueCount, "retries_exhausted", "moved by the Functions host after maxDequeueCount attempts", null, text, text, null);
        }
    }
}
