using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using MailgunFunctions.App;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Dnd;
using MailgunFunctions.Processing;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using MailgunFunctions.Webhooks;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Reliability;

/// <summary>
/// The outage case that matters most, made deterministic with a fault on the events queue's send alone: the token is
/// claimed, the send fails, the webhook answers 503; Mailgun's retry of the same delivery (same token, same body) must
/// be queued and answered 200, and the event processed exactly once. Each step is asserted as it happens (the claim row,
/// the failed send, the queue's length), and "exactly once" is asserted on what a second application would raise: the
/// entry's version, its change-log rows, the notices on dnd-changes and the history rows. Two faults: the send never
/// reached storage, or it did and only the answer was lost (then the queue holds the event twice, and processing must
/// still apply it once).
/// </summary>
[Category("Reliability")]
[NonParallelizable]
public class QueueSendOutageTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [TestCase(false, TestName = "Send lost before storage: 503, the retry is queued once and the bounce applied once")]
    [TestCase(true, TestName = "Send carried out but its answer lost: 503, the retry queues a second copy, the bounce applied once")]
    public async Task Token_claimed_then_queue_send_fails_and_mailguns_retry_is_processed_exactly_once(bool answerLost)
    {
        var (app, azurite, results) = await DeliverThroughSendFaultAsync(answerLost, SignedWebhook.Failed("retried@example.com", Now.AddMinutes(-1)));
        await using var ownedStorage = azurite;
        using var ownedApp = app;
        string tenant = TestSettings.SingleAccount(app.Provider).Id, address = "retried@example.com";
        var entries = new TableClient(azurite.ConnectionString, StorageNames.DndEntriesTable);
        var entry = (await entries.GetEntityAsync<TableEntity>(DndKeys.TenantKey(tenant), DndKeys.AddressKey(address))).Value;
        int changeRows = 0;
        await foreach (var _ in entries.QueryAsync<TableEntity>(e => e.PartitionKey == DndKeys.TenantKey(tenant)
            && e.RowKey.CompareTo(DndChangeLog.ChangePrefix) >= 0 && e.RowKey.CompareTo("~change}") < 0))
        {
            changeRows++;
        }

        int historyRows = 0;
        await foreach (var _ in new TableClient(azurite.ConnectionString, StorageNames.DndHistoryTable)
            .QueryAsync<TableEntity>(e => e.PartitionKey == DndKeys.HistoryPartition(tenant, address)))
        {
            historyRows++;
        }

        long notices = await CountAsync(new QueueClient(azurite.ConnectionString, StorageNames.DndChangesQueue));
        Assert.Multiple(() =>
        {
            Assert.That(results.Select(r => r.Dnd!.Outcome), Is.EqualTo(answerLost
                ? new[] { DndApplyOutcome.Applied, DndApplyOutcome.Unchanged } : new[] { DndApplyOutcome.Applied }));
            Assert.That(results[0].Dnd!.Current.State, Is.EqualTo(DndState.Permanent));
            Assert.That(entry.GetInt64(DndChangeLog.VersionColumn), Is.EqualTo(1), "the entry's version: one change applied");
            Assert.That(changeRows, Is.EqualTo(1), "change-log rows");
            Assert.That(notices, Is.EqualTo(1), "notices on dnd-changes");
            Assert.That(historyRows, Is.EqualTo(1), "history rows");
        });
    }

    [TestCase(false, TestName = "Send lost before storage: 503, the sender-side failure is counted once")]
    [TestCase(true, TestName = "Send carried out but its answer lost: 503, two copies queued, the sender-side failure counted once")]
    public async Task A_sender_side_failure_delivered_through_a_failing_send_is_counted_exactly_once(bool answerLost)
    {
        // A counter is what a second application would visibly raise: 5.7.26 (DMARC) is our problem, counted per tenant and bucket.
        var (app, azurite, results) = await DeliverThroughSendFaultAsync(answerLost,
            SignedWebhook.Failed("dmarc@example.com", Now.AddMinutes(-1), 550, "5.7.26 DMARC policy violation"));
        await using var ownedStorage = azurite;
        using var ownedApp = app;
        string tenant = TestSettings.SingleAccount(app.Provider).Id;
        var counters = new List<long>();
        await foreach (var c in app.Get<SenderIssueCounter>().ListCountersAsync(tenant, Now.AddDays(-1), Now.AddDays(1), CancellationToken.None))
        {
            counters.Add(c.Count);
        }

        Assert.Multiple(() =>
        {
            Assert.That(results.Select(r => r.SenderIssue?.Counted), Is.EqualTo(answerLost ? new bool?[] { true, false } : new bool?[] { true }));
            Assert.That(results.Select(r => r.Dnd?.Current.State), Has.All.EqualTo(DndState.None), "no DND for the contact: the failure is the sender's");
            Assert.That(counters, Is.Not.Empty.And.All.EqualTo(1), "every sender-issue counter (total and per rule) counted the event once");
        });
    }

    /// <summary>
    /// Mailgun's first delivery of <paramref name="eventData"/> meets a failing send (503), its retry goes through (200);
    /// then the events queue is drained through the processor. Every step is asserted; the processing results are returned.
    /// </summary>
    private static async Task<(AppServices App, Azurite Azurite, List<EventProcessingResult> Results)> DeliverThroughSendFaultAsync(bool answerLost, JObject eventData)
    {
        var azurite = await Azurite.StartDedicatedAsync(persistent: false);
        var fault = new StorageFault(StorageFault.QueueSend(StorageNames.EventsQueue), afterSend: answerLost);
        var app = new AppServices(azurite.ConnectionString, Now, before: s => s.AddSingleton<HttpPipelinePolicy>(fault));
        var webhook = app.Function<EventsWebhook>();
        string token = SignedWebhook.NewToken();
        var signedAt = Now.AddMinutes(-1);
        string body = SignedWebhook.Body(eventData, signedAt, token);
        var events = new QueueClient(azurite.ConnectionString, StorageNames.EventsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var tokens = new TableClient(azurite.ConnectionString, ReplayGuard.TableFor(signedAt));

        // Mailgun's first delivery: the claim is written, the send fails, the answer is 503 storage_unavailable.
        fault.FailNext(1);
        var first = (ContentResult)await webhook.RunAsync(AppServices.Post(body), CancellationToken.None);
        var claim = (await tokens.GetEntityAsync<TableEntity>(ReplayGuard.KeyOf(token), "")).Value;
        long queuedAfterFirst = await CountAsync(events);
        Assert.Multiple(() =>
        {
            Assert.That(first.StatusCode, Is.EqualTo(503));
            Assert.That((string?)JObject.Parse(first.Content!)["outcome"], Is.EqualTo("storage_unavailable"));
            Assert.That((fault.Seen, fault.Failed), Is.EqualTo((1L, 1L)), "exactly the one send was tried and failed");
            Assert.That(claim.GetString("EventId"), Is.Not.Empty, "the token was claimed before the send");
            Assert.That(queuedAfterFirst, Is.EqualTo(answerLost ? 1 : 0), "what the failed send left on the queue");
        });

        // Mailgun's retry of the same delivery: same token and body, so not a replay; queued again and answered 200.
        var retry = (ContentResult)await webhook.RunAsync(AppServices.Post(body), CancellationToken.None);
        long queuedAfterRetry = await CountAsync(events);
        Assert.Multiple(() =>
        {
            Assert.That(retry.StatusCode, Is.EqualTo(200), retry.Content);
            Assert.That((string?)JObject.Parse(retry.Content!)["outcome"], Is.EqualTo("accepted"));
            Assert.That((fault.Seen, fault.Failed), Is.EqualTo((2L, 1L)), "the retry sent once more, and that send went through");
            Assert.That(queuedAfterRetry, Is.EqualTo(queuedAfterFirst + 1));
        });

        // The queue function drains the queue (delete after success, as the host does).
        var processor = app.Get<EventProcessor>();
        var results = new List<EventProcessingResult>();
        while ((await events.ReceiveMessagesAsync(32)).Value is { Length: > 0 } batch)
        {
            foreach (var m in batch)
            {
                results.Add(await processor.ProcessAsync(m.Body.ToString(), m.DequeueCount, CancellationToken.None));
                await events.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            }
        }

        Assert.That(results, Has.Count.EqualTo(answerLost ? 2 : 1), "queue messages processed");
        Assert.That(results.Select(r => r.Outcome), Has.All.EqualTo(EventOutcome.Processed));
        return (app, azurite, results);
    }

    private static async Task<long> CountAsync(QueueClient queue)
    {
        if (!(await queue.ExistsAsync()).Value)
        {
            return 0;
        }

        // Peek sees only visible messages: nothing is being processed here, so that is all of them.
        return (await queue.PeekMessagesAsync(32)).Value.Length;
    }
}
