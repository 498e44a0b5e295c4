using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Queues.Models;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.Processing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static MailgunFunctions.Tests.Dnd.DndTestEvents;

namespace MailgunFunctions.Tests.ChangeFeed;

/// <summary>
/// The change feed end to end on a real Azurite and a real receiver (Kestrel, verifying signatures): every DND change is
/// recorded with its version and change rows in the entry's own transaction, reaches the dnd-changes queue and the
/// platform signed; a platform that is down, failing or hanging gets everything later through the retry queue, the
/// dead-letter table and a replay; temporary DNDs end through the expiry index.
/// </summary>
[NonParallelizable]
public class ChangeNotificationTests
{
    private const string Other = "other.person@example.org";
    private static readonly string Secret = "receiver-secret-" + new string('s', 32);

    private ProcessingHarness _harness = null!;
    private NotificationReceiver _receiver = null!;
    private string _tenant = null!;

    [SetUp]
    public async Task SetUp()
    {
        _harness = await ProcessingHarness.CreateAsync();
        _receiver = await NotificationReceiver.StartAsync(() => _harness.Time.GetUtcNow());
        _tenant = TestTenants.NewId("cf");
        _receiver.SetSecret(_tenant, Secret);
        await TestTenants.RegisterAsync(_harness.Services, _tenant, TestTenants.NewSigningKey(), [_tenant + ".example.com"],
            notifications: new TenantNotifications(_receiver.Url, Secret));
        // Azurite hides messages on the wall clock; these tests drive the retries on the fake clock (DueAt still holds them).
        Retries.UseVisibilityDelay = false;
    }

    [TearDown]
    public async Task TearDown()
    {
        await _harness.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private DndStore Store => _harness.Store;
    private NotificationRetryQueue Retries => _harness.Services.GetRequiredService<NotificationRetryQueue>();
    private NotificationPump Pump => _harness.Services.GetRequiredService<NotificationPump>();
    private NotificationDelivery Delivery => _harness.Services.GetRequiredService<NotificationDelivery>();
    private NotificationDeadLetters DeadLetters => _harness.Services.GetRequiredService<NotificationDeadLetters>();
    private TableClient Entries => _harness.Clients.Tables.GetTableClient(StorageNames.DndEntriesTable);

    private static DndChange HardFor(string address, DateTimeOffset at) => Change(HardData(at, address: address));

    private async Task<List<TableEntity>> LogRowsAsync(string prefix)
    {
        var rows = new List<TableEntity>();
        string partition = DndKeys.TenantKey(_tenant);
        await foreach (var e in Entries.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {prefix} and RowKey lt {prefix + "~"}")))
        {
            rows.Add(e);
        }

        return rows;
    }

    /// <summary>Every notice of this test's tenant on the dnd-changes queue (shared by the tests on Azurite: every message read is deleted; no other test reads this queue's messages back).</summary>
    private async Task<List<DndNotice>> ChangesQueueAsync()
    {
        var queue = _harness.Clients.Queues.GetQueueClient(StorageNames.DndChangesQueue);
        var found = new List<DndNotice>();
        // A receive takes at most 32: the queue is drained in passes until it is empty. The whole suite's notices land on
        // this queue, so it may hold thousands when this runs: a fixed number of passes would stop before ours.
        for (int pass = 0; pass < 2000; pass++)
        {
            QueueMessage[] messages = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30))).Value;
            if (messages.Length == 0)
            {
                break;
            }

            foreach (var m in messages)
            {
                var notice = DndNotice.FromJson(m.MessageText);
                if (notice.Tenant == _tenant)
                {
                    found.Add(notice);
                }

                await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            }
        }

        return found;
    }

    /// <summary>Runs the retry queue function over this tenant's waiting messages (others' are left for their own tests).</summary>
    private async Task<List<DeliveryOutcome>> RunRetriesAsync()
    {
        var outcomes = new List<DeliveryOutcome>();
        var queue = Retries.Client;
        for (int pass = 0; pass < 20; pass++)
        {
            QueueMessage[] messages = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(2))).Value;
            var mine = messages.Where(m => NotificationAttempt.FromJson(m.MessageText).Notice.Tenant == _tenant).ToList();
            if (mine.Count == 0)
            {
                break;
            }

            foreach (var m in mine)
            {
                outcomes.Add(await Delivery.DeliverAsync(m.MessageText, default));
                // As the host does after the function returns.
                await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            }
        }

        return outcomes;
    }

    [Test]
    public async Task Every_change_gets_the_next_version_its_change_rows_and_reaches_the_receiver_signed_in_order()
    {
        var first = await Store.ApplyAsync(_tenant, Address, Hard(T0), default);
        var complaint = Complaint(T0.AddMinutes(1));
        var second = await Store.ApplyAsync(_tenant, Address, complaint, default);
        // The same event again (a redelivery): not a change.
        var duplicate = await Store.ApplyAsync(_tenant, Address, complaint, default);
        // The override must come after the complaint it lifts.
        _harness.Time.Advance(TimeSpan.FromMinutes(5));
        var third = await Store.ReenableAsync(_tenant, Address, "cli:ann", "renewed consent by phone", adminOverride: true, default);
        var other = await Store.ApplyAsync(_tenant, Other, HardFor(Other, T0), default);
        await Pump.DrainAsync(TimeSpan.FromSeconds(20));

        var row = (await Entries.GetEntityAsync<TableEntity>(DndKeys.TenantKey(_tenant), DndKeys.AddressKey(Address))).Value;
        var changeRows = await LogRowsAsync(DndChangeLog.ChangePrefix);
        var queued = await ChangesQueueAsync();
        var received = _receiver.Accepted;
        string hash = DndNotice.HashOf(Address);
        Assert.Multiple(() =>
        {
            Assert.That(new[] { first.Version, second.Version, duplicate.Version, third.Version }, Is.EqualTo(new long[] { 1, 2, 2, 3 }));
            Assert.That(duplicate.Notices, Is.Empty, "a redelivered change announces nothing new");
            Assert.That(other.Version, Is.EqualTo(1), "versions are per address");
            Assert.That(row.GetInt64(DndChangeLog.VersionColumn), Is.EqualTo(3));
            Assert.That(changeRows.Select(r => (r.GetString("AddressHash"), r.GetInt64("Version"))),
                Is.EquivalentTo(new[] { (hash, 1L), (hash, 2L), (hash, 3L), (DndNotice.HashOf(Other), 1L) }));
            Assert.That(queued.Where(n => n.AddressHash == hash).Select(n => n.Version), Is.EqualTo(new long[] { 1, 2, 3 }), "the dnd-changes queue");
            Assert.That(received.Where(r => r.AddressHash == hash).Select(r => r.Version), Is.EqualTo(new long[] { 1, 2, 3 }), "the platform, in version order");
            Assert.That(received, Has.Count.EqualTo(4));
            Assert.That(_receiver.Rejected, Is.Zero, "every POST carries a valid signature");
        });
        var notices = received.Where(r => r.AddressHash == hash).Select(r => r.Notice).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(notices.Select(n => n.Current.State), Is.EqualTo(new[] { "permanent", "locked", "none" }));
            Assert.That(notices.Select(n => n.Previous.State), Is.EqualTo(new[] { "none", "permanent", "locked" }));
            Assert.That(notices[0].Address, Is.EqualTo(DndKeys.NormalizeAddress(Address)));
            Assert.That(notices[0].Source.Type, Is.EqualTo("webhook-event"));
            Assert.That(notices[0].Change.Code, Is.EqualTo(550));
            Assert.That(notices[1].Current.Locked, Is.True);
            Assert.That(notices[2].Source.Type, Is.EqualTo("cli"));
            Assert.That(notices[2].Source.Operator, Is.EqualTo("ann"));
            Assert.That(notices[2].Source.Note, Is.EqualTo("renewed consent by phone"));
            Assert.That(notices.Select(n => n.Id).Distinct().Count(), Is.EqualTo(3));
        });
        Assert.That(await LogRowsAsync(DndChangeLog.PendingPrefix), Is.Empty, "every outbox row is confirmed once dispatched");
    }

    [Test]
    public async Task A_change_stored_but_not_dispatched_is_sent_by_the_redelivered_message_or_the_sweeper()
    {
        // The crash between the entry's transaction and its dispatch: the outbox row stays. A store without a dispatcher
        // writes exactly what the real one writes and stops there.
        var undispatched = new DndStore(_harness.Clients, _harness.Time, _harness.Services.GetRequiredService<IOptions<DndOptions>>(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<DndStore>.Instance, dispatcher: null);
        await undispatched.ApplyAsync(_tenant, Address, Hard(T0), default);
        await undispatched.ApplyAsync(_tenant, Other, HardFor(Other, T0), default);
        Assert.That(await LogRowsAsync(DndChangeLog.PendingPrefix), Has.Count.EqualTo(2));
        Assert.That(_receiver.Accepted, Is.Empty);

        var sweeper = _harness.Services.GetRequiredService<DndChangeSweeper>();
        int redispatched = await sweeper.RedispatchAsync(_tenant, Address, default);
        await Pump.DrainAsync(TimeSpan.FromSeconds(20));
        Assert.That(redispatched, Is.EqualTo(1));
        Assert.That(_receiver.Accepted.Select(r => r.AddressHash), Is.EqualTo(new[] { DndNotice.HashOf(Address) }));

        // Young outbox rows are left alone (a dispatch may be under way); past ChangeFeed:SweepAfter they are sent.
        Assert.That(await sweeper.SweepAsync(default), Is.Zero);
        _harness.Time.Advance(TimeSpan.FromMinutes(3));
        Assert.That(await sweeper.SweepAsync(default), Is.GreaterThanOrEqualTo(1));
        await Pump.DrainAsync(TimeSpan.FromSeconds(20));
        Assert.Multiple(async () =>
        {
            Assert.That(_receiver.Accepted.Select(r => r.AddressHash), Is.EquivalentTo(new[] { DndNotice.HashOf(Address), DndNotice.HashOf(Other) }));
            Assert.That(await LogRowsAsync(DndChangeLog.PendingPrefix), Is.Empty);
        });
    }

    [Test]
    public async Task A_receiver_down_for_a_while_then_up_gets_everything_in_version_order_per_address()
    {
        _receiver.Mode = ReceiverMode.Fail;
        var addresses = new[] { Address, Other, "third@example.com" };
        for (int i = 0; i < 3; i++)
        {
            foreach (var a in addresses)
            {
                // permanent, then locked, then re-enabled: three versions per address.
                _ = i switch
                {
                    0 => await Store.ApplyAsync(_tenant, a, HardFor(a, T0), default),
                    1 => await Store.ApplyAsync(_tenant, a, Change(SimpleData("complained", T0.AddMinutes(1), address: a)), default),
                    _ => await Store.ReenableAsync(_tenant, a, "api:platform", "consent", adminOverride: true, default),
                };
            }
        }

        await Pump.DrainAsync(TimeSpan.FromSeconds(20));
        Assert.That(_receiver.Accepted, Is.Empty);
        Assert.That(_receiver.FailedOrHung, Is.GreaterThanOrEqualTo(1));
        Assert.That(await LogRowsAsync(DndChangeLog.PendingPrefix), Is.Empty, "a failed POST is handed to the retry queue, never lost");

        // Down for a few hours: every retry fails.
        for (int hour = 0; hour < 3; hour++)
        {
            _harness.Time.Advance(TimeSpan.FromHours(1));
            var outcomes = await RunRetriesAsync();
            Assert.That(outcomes, Is.Not.Empty.And.All.Not.EqualTo(DeliveryOutcome.Delivered));
        }

        _receiver.Mode = ReceiverMode.Accept;
        for (int round = 0; round < 6 && _receiver.Applied.Count < 9; round++)
        {
            _harness.Time.Advance(TimeSpan.FromHours(1));
            await RunRetriesAsync();
        }

        var byAddress = _receiver.AppliedVersionsByAddress();
        Assert.Multiple(() =>
        {
            Assert.That(byAddress, Has.Count.EqualTo(3));
            Assert.That(byAddress.Values, Has.All.EqualTo(new long[] { 1, 2, 3 }), "every version, in order, for each address");
            Assert.That(_receiver.Accepted.GroupBy(r => r.AddressHash).Select(g => g.Select(r => r.Version)), Has.All.Ordered, "arrivals in version order");
            Assert.That(_receiver.Rejected, Is.Zero);
        });
    }

    [Test]
    public async Task Failing_and_hanging_receiver_is_retried_with_backoff_then_dead_lettered_and_replay_delivers()
    {
        var options = _harness.Services.GetRequiredService<IOptions<NotificationOptions>>().Value;
        _receiver.Mode = ReceiverMode.Hang;
        var applied = await Store.ApplyAsync(_tenant, Address, Hard(T0), default);
        // The first POST hangs until Notifications:Timeout passes on the (fake) clock.
        for (int i = 0; i < 200 && _receiver.FailedOrHung == 0; i++)
        {
            await Task.Delay(50);
        }

        Assert.That(_receiver.FailedOrHung, Is.EqualTo(1), "the receiver got the first POST");
        _harness.Time.Advance(options.Timeout + TimeSpan.FromSeconds(1));
        await Pump.DrainAsync(TimeSpan.FromSeconds(20));
        Assert.That(Pump.Waiting, Is.Zero, "a hanging receiver holds a POST no longer than the timeout");

        _receiver.Mode = ReceiverMode.Fail;
        var start = _harness.Time.GetUtcNow();
        var dues = new List<DateTimeOffset>();
        DeliveryOutcome last = DeliveryOutcome.Rescheduled;
        for (int step = 0; step < 200 && last != DeliveryOutcome.DeadLettered; step++)
        {
            var queue = Retries.Client;
            QueueMessage[] messages = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(2))).Value;
            var mine = messages.Where(m => NotificationAttempt.FromJson(m.MessageText).Notice.Tenant == _tenant).ToList();
            Assert.That(mine, Has.Count.EqualTo(1), "one message carries the notice through its retries");
            var attempt = NotificationAttempt.FromJson(mine[0].MessageText);
            dues.Add(attempt.DueAt);
            // Straight to the due time (earlier runs would only put it back, as NotDue).
            if (attempt.DueAt > _harness.Time.GetUtcNow())
            {
                _harness.Time.SetUtcNow(attempt.DueAt);
            }

            last = await Delivery.DeliverAsync(mine[0].MessageText, default);
            await queue.DeleteMessageAsync(mine[0].MessageId, mine[0].PopReceipt);
        }

        var gaps = dues.Zip(dues.Skip(1), (a, b) => b - a).ToList();
        var letters = await DeadLetters.ListAsync(_tenant, default).ToListAsync();
        Assert.Multiple(() =>
        {
            Assert.That(last, Is.EqualTo(DeliveryOutcome.DeadLettered));
            Assert.That(_harness.Time.GetUtcNow() - start, Is.GreaterThanOrEqualTo(options.RetryFor - options.MaxRetryDelay), "retried for about a day");
            Assert.That(_harness.Time.GetUtcNow() - start, Is.LessThanOrEqualTo(options.RetryFor + options.Timeout * 2));
            Assert.That(gaps.Take(4).Zip(gaps.Skip(1).Take(4), (a, b) => b >= a), Has.All.True, "the waits grow");
            Assert.That(gaps.Max(), Is.LessThanOrEqualTo((options.MaxRetryDelay * 1.1) + TimeSpan.FromSeconds(1)), "capped (plus the 10 % jitter)");
            Assert.That(letters, Has.Count.EqualTo(1));
            Assert.That(letters[0].Notice.Id, Is.EqualTo(applied.Notices[0].Id));
            Assert.That(letters[0].LastError, Is.EqualTo("HTTP 500"));
            Assert.That(_receiver.Accepted, Is.Empty);
        });

        _receiver.Mode = ReceiverMode.Accept;
        var replayed = await DeadLetters.ReplayAsync(_tenant, null, default);
        // This instance still remembers the endpoint failing: the replayed notice waits that out (at most MaxRetryDelay).
        _harness.Time.Advance((options.MaxRetryDelay * 1.1) + TimeSpan.FromMinutes(1));
        var outcomes = await RunRetriesAsync();
        Assert.Multiple(async () =>
        {
            Assert.That(replayed, Has.Count.EqualTo(1));
            Assert.That(outcomes, Is.EqualTo(new[] { DeliveryOutcome.Delivered }));
            Assert.That(_receiver.Applied.Select(r => r.Id), Is.EqualTo(new[] { applied.Notices[0].Id }));
            Assert.That(await DeadLetters.ListAsync(_tenant, default).ToListAsync(), Is.Empty);
        });
    }

    [Test]
    public async Task A_forged_tampered_stale_or_repeated_notification_is_detectable_by_the_receiver()
    {
        await Store.ApplyAsync(_tenant, Address, Hard(T0), default);
        await Pump.DrainAsync(TimeSpan.FromSeconds(20));
        var genuine = _receiver.Accepted.Single();
        var now = _harness.Time.GetUtcNow();
        long ts = now.ToUnixTimeSeconds();
        byte[] body = Encoding.UTF8.GetBytes(genuine.Body);
        byte[] tampered = Encoding.UTF8.GetBytes(genuine.Body.Replace("\"permanent\"", "\"none\"", StringComparison.Ordinal));
        Assert.That(tampered, Is.Not.EqualTo(body));

        using var http = new HttpClient();
        async Task<int> PostAsync(byte[] content, long timestamp, string signature)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _receiver.Url) { Content = new ByteArrayContent(content) };
            request.Headers.Add(NotificationSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add(NotificationSignature.SignatureHeader, signature);
            request.Headers.Add(NotificationSignature.TenantHeader, _tenant);
            using var response = await http.SendAsync(request);
            return (int)response.StatusCode;
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await PostAsync(tampered, ts, NotificationSignature.Sign(Secret, ts, body)), Is.EqualTo(401), "body changed after signing");
            Assert.That(await PostAsync(body, ts, NotificationSignature.Sign("not-the-tenant's-secret-" + new string('x', 20), ts, body)), Is.EqualTo(401), "forged with another key");
            long old = ts - (long)TimeSpan.FromMinutes(10).TotalSeconds;
            Assert.That(await PostAsync(body, old, NotificationSignature.Sign(Secret, old, body)), Is.EqualTo(401), "a captured request resent later");
            Assert.That(await PostAsync(body, ts + 60, NotificationSignature.Sign(Secret, ts, body)), Is.EqualTo(401), "a fresh timestamp on an old signature");
            // A repeat inside the window verifies, and the version check drops it.
            Assert.That(await PostAsync(body, ts, NotificationSignature.Sign(Secret, ts, body)), Is.EqualTo(204));
        });
        Assert.Multiple(() =>
        {
            Assert.That(_receiver.Rejected, Is.EqualTo(4));
            Assert.That(_receiver.Accepted, Has.Count.EqualTo(2));
            Assert.That(_receiver.Applied, Has.Count.EqualTo(1), "the repeat carries a version already applied");
            Assert.That(NotificationSignature.Verify(Secret, ts.ToString(System.Globalization.CultureInfo.InvariantCulture), NotificationSignature.Sign(Secret, ts, body), body, now, NotificationSignature.RecommendedTolerance), Is.True);
        });
    }

    [Test]
    public async Task A_temporary_dnd_ends_on_time_through_the_expiry_index_and_is_announced()
    {
        var options = _harness.Services.GetRequiredService<IOptions<DndOptions>>().Value;
        var expiry = _harness.Services.GetRequiredService<DndExpiry>();
        var soft = await Store.ApplyAsync(_tenant, Address, Soft(T0, "msg-1@example.com"), default);
        Assert.That(soft.Current.State, Is.EqualTo(DndState.Temporary));
        await Pump.DrainAsync(TimeSpan.FromSeconds(20));

        _harness.Time.Advance(options.TemporaryDuration - TimeSpan.FromMinutes(5));
        var early = await expiry.RunAsync(default);
        Assert.That(_receiver.Applied, Has.Count.EqualTo(1), "nothing ends before its time");

        _harness.Time.Advance(TimeSpan.FromMinutes(7));
        var run = await expiry.RunAsync(default);
        await Pump.DrainAsync(TimeSpan.FromSeconds(20));
        var again = await expiry.RunAsync(default);
        var (_, status) = await Store.GetStatusAsync(_tenant, Address, default);
        var row = (await Entries.GetEntityAsync<TableEntity>(DndKeys.TenantKey(_tenant), DndKeys.AddressKey(Address))).Value;
        var notices = _receiver.Applied.Select(r => r.Notice).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(early.Expired, Is.Zero);
            Assert.That(run.Expired, Is.EqualTo(1));
            Assert.That(again.Checked, Is.Zero, "the handled index row is gone");
            Assert.That(status.State, Is.EqualTo(DndState.None));
            Assert.That(row.GetString("State"), Is.EqualTo("none"), "the entry row itself says the DND ended");
            Assert.That(notices.Select(n => n.Version), Is.EqualTo(new long[] { 1, 2 }));
            Assert.That(notices[1].Change.Kind, Is.EqualTo("expiry"));
            Assert.That(notices[1].Source.Type, Is.EqualTo("expiry"));
            Assert.That(notices[1].Previous.State, Is.EqualTo("temporary"));
            Assert.That(notices[1].Current.State, Is.EqualTo("none"));
            Assert.That(notices[1].At, Is.EqualTo(soft.Current.Until));
        });
    }
}
