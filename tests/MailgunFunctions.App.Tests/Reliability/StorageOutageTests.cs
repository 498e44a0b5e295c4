using System.Collections.Concurrent;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using MailgunFunctions.App;
using MailgunFunctions.Processing;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.AspNetCore.Mvc;

namespace MailgunFunctions.Tests.Reliability;

/// <summary>
/// Storage goes down in the middle of a webhook burst and comes back. Mailgun resends every answer that is not 200
/// (for hours); the harness does the same with bounded rounds. Then the queue is drained through EventProcessor:
/// every event is processed, none is missing, none is in the history twice.
/// </summary>
[Category("Reliability")]
[NonParallelizable]
public class StorageOutageTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private const int Senders = 8;
    private const int MaxRounds = 6;

    /// <summary>The storage retry settings of a run: none (every other test's, so a fault fails at once) or the ones that ship.</summary>
    private static Dictionary<string, string?> Retries(bool shipped) => new()
    {
        ["Storage:MaxRetries"] = (shipped ? new StorageOptions().MaxRetries : 0).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Storage:NetworkTimeout"] = shipped ? new StorageOptions().NetworkTimeout.ToString() : "00:00:30",
    };

    [TestCase(false, TestName = "Webhooks_sent_through_a_storage_outage_are_all_processed_exactly_once")]
    [TestCase(true, TestName = "Webhooks_sent_through_a_storage_outage_are_all_processed_exactly_once_with_the_shipped_storage_retries")]
    public async Task Webhooks_sent_through_a_storage_outage_are_all_processed_exactly_once(bool shippedRetries)
    {
        int k = ReliabilityScale.Of(300);
        await using var azurite = await Azurite.StartDedicatedAsync(persistent: true);
        using var app = new AppServices(azurite.ConnectionString, Now, Retries(shippedRetries));
        var webhook = app.Function<EventsWebhook>();

        var ids = new string[k];
        var bodies = new string[k];
        for (int i = 0; i < k; i++)
        {
            var data = SignedWebhook.Failed($"outage{i}@example.com", Now.AddMinutes(-1));
            ids[i] = (string)data["id"]!;
            bodies[i] = SignedWebhook.Body(data, Now.AddMinutes(-1));
        }

        var statuses = new ConcurrentBag<(int Status, string Reason)>();
        int sent = 0;
        var pending = Enumerable.Range(0, k).ToList();
        int rounds = 0;
        for (; pending.Count > 0 && rounds < MaxRounds; rounds++)
        {
            var work = new ConcurrentQueue<int>(pending);
            var failed = new ConcurrentBag<int>();
            Task? outage = null;
            var workers = Enumerable.Range(0, Senders).Select(_ => Task.Run(async () =>
            {
                while (work.TryDequeue(out int i))
                {
                    var result = (ContentResult)await webhook.RunAsync(AppServices.Post(bodies[i]), CancellationToken.None);
                    string reason = (string)Newtonsoft.Json.Linq.JObject.Parse(result.Content!)["outcome"]!;
                    statuses.Add((result.StatusCode!.Value, reason));
                    if (result.StatusCode != 200)
                    {
                        failed.Add(i);
                    }

                    // First round: storage dies a third of the way in (requests in flight included) and is back after two thirds.
                    int n = Interlocked.Increment(ref sent);
                    if (rounds == 0 && n == k / 3)
                    {
                        outage = Task.Run(async () =>
                        {
                            azurite.Stop();
                            while (Volatile.Read(ref sent) < 2 * k / 3)
                            {
                                await Task.Delay(10);
                            }

                            await azurite.RestartAsync();
                        });
                    }
                }
            })).ToArray();
            await Task.WhenAll(workers);
            if (outage is not null)
            {
                await outage;
            }

            pending = failed.Order().ToList();
        }

        var answers = statuses.ToArray();
        int faults = answers.Count(a => a.Status != 200);
        TestContext.Out.WriteLine($"{k} events, {answers.Length} deliveries, {faults} non-200 answers (storage down), {rounds} rounds");

        // Drain the queue as the queue trigger would: process, delete; a failure leaves the message for redelivery.
        var queue = new QueueClient(azurite.ConnectionString, StorageNames.EventsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var processor = app.Get<EventProcessor>();
        var processed = new List<string>();
        int messages = 0;
        while (true)
        {
            var batch = (await queue.ReceiveMessagesAsync(32)).Value;
            if (batch.Length == 0)
            {
                break;
            }

            foreach (var m in batch)
            {
                messages++;
                var result = await processor.ProcessAsync(m.Body.ToString(), m.DequeueCount, CancellationToken.None);
                Assert.That(result.Outcome, Is.EqualTo(EventOutcome.Processed), result.PoisonReason);
                processed.Add(result.Dnd!.Entry.Address);
                await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            }
        }

        var history = new TableClient(azurite.ConnectionString, StorageNames.DndHistoryTable);
        var recorded = new List<string>();
        await foreach (var e in history.QueryAsync<TableEntity>(select: ["EventId"]))
        {
            recorded.Add(e.GetString("EventId"));
        }

        Assert.Multiple(() =>
        {
            Assert.That(pending, Is.Empty, $"still not accepted after {MaxRounds} rounds");
            Assert.That(faults, Is.GreaterThan(0), "the outage must have been seen by the webhook");
            Assert.That(answers.Where(a => a.Status != 200).Select(a => a.Reason).Distinct(), Is.EquivalentTo(new[] { "storage_unavailable" }));
            Assert.That(processed.Distinct().Count(), Is.EqualTo(k), "distinct events processed");
            Assert.That(recorded, Is.EquivalentTo(ids), "each event exactly once in the history");
        });
        TestContext.Out.WriteLine($"{messages} queue messages for {k} events; history records {recorded.Count}");
    }

    /// <summary>
    /// Storage goes down while the queue is being processed (not while webhooks arrive), with the storage retry settings that
    /// ship. The harness drains the queue as the host does: a message is deleted only after its processing succeeded; one
    /// whose processing (or delete) failed comes back when its visibility ends, its dequeue count raised. Every event ends
    /// applied once: one history record each, its entry permanent.
    /// </summary>
    [Test]
    public async Task Processing_through_a_storage_outage_with_the_shipped_retries_applies_every_event_once()
    {
        int k = ReliabilityScale.Of(120);
        await using var azurite = await Azurite.StartDedicatedAsync(persistent: true);
        using var app = new AppServices(azurite.ConnectionString, Now, Retries(shipped: true));
        var webhook = app.Function<EventsWebhook>();
        var ids = new List<string>();
        for (int i = 0; i < k; i++)
        {
            var data = SignedWebhook.Failed($"drain{i}@example.com", Now.AddMinutes(-1));
            ids.Add((string)data["id"]!);
            var answer = (ContentResult)await webhook.RunAsync(AppServices.Post(SignedWebhook.Body(data, Now.AddMinutes(-1))), CancellationToken.None);
            Assert.That(answer.StatusCode, Is.EqualTo(200), answer.Content);
        }

        var queue = new QueueClient(azurite.ConnectionString, StorageNames.EventsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var processor = app.Get<EventProcessor>();
        int attempts = 0, failures = 0, redelivered = 0;
        bool stopped = false, restarted = false;
        while (true)
        {
            var batch = (await queue.ReceiveMessagesAsync(16, TimeSpan.FromSeconds(3))).Value;
            if (batch.Length == 0)
            {
                // Messages whose processing failed are invisible until their visibility ends: wait for them.
                if ((await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0)
                {
                    break;
                }

                await Task.Delay(500);
                continue;
            }

            foreach (var m in batch)
            {
                redelivered += m.DequeueCount > 1 ? 1 : 0;
                // Storage dies a third of the way through, in the middle of a batch, and is back before the next batch is fetched.
                if (++attempts == k / 3)
                {
                    azurite.Stop();
                    stopped = true;
                }

                try
                {
                    var result = await processor.ProcessAsync(m.Body.ToString(), m.DequeueCount, CancellationToken.None);
                    Assert.That(result.Outcome, Is.EqualTo(EventOutcome.Processed), result.PoisonReason);
                    await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
                }
                catch (Exception ex) when (stopped && !restarted && ex is not AssertionException)
                {
                    // The host's answer to a failed run: the message stays and comes back.
                    failures++;
                }
            }

            if (stopped && !restarted)
            {
                await azurite.RestartAsync();
                restarted = true;
            }
        }

        var history = new TableClient(azurite.ConnectionString, StorageNames.DndHistoryTable);
        var recorded = new List<string>();
        await foreach (var e in history.QueryAsync<TableEntity>(select: ["EventId"]))
        {
            recorded.Add(e.GetString("EventId"));
        }

        TestContext.Out.WriteLine($"{k} events, {attempts} processing runs, {failures} failed with storage down, {redelivered} redelivered");
        Assert.Multiple(() =>
        {
            Assert.That((stopped, restarted), Is.EqualTo((true, true)));
            Assert.That(failures, Is.GreaterThanOrEqualTo(5), "processing met the outage");
            Assert.That(redelivered, Is.GreaterThanOrEqualTo(failures), "every failed message came back");
            Assert.That(recorded, Is.EquivalentTo(ids), "each event exactly once in the history");
        });
    }
}
