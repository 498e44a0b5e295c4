using System.Text;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using MailgunFunctions.App;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Processing;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Reliability;

/// <summary>
/// The processing host dies in the middle of a batch (every storage request after the Nth fails, so what was written
/// stays written and nothing more is), several times; the queue redelivers every message of the batch that was not
/// deleted (at-least-once). The final storage state equals a clean run of the same events on a fresh account, every row
/// and column (only the storage's own Timestamp and ETag differ). Notifications are on (a real receiver per run): after
/// the crashes and one sweep of the change feed's outbox, the crashed run's receiver has every version of every address
/// a clean run's receiver has, keeps (repeats and stale versions dropped) the same sequence per address, and ends at the
/// same notice per address.
/// </summary>
[Category("Reliability")]
[NonParallelizable]
public class ProcessingCrashTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    // host.json's batch size: messages fetched together, deleted one by one once done.
    private static readonly int BatchSize = ShippedHostJson.BatchSize;

    /// <param name="shippedRetries">
    /// False: storage requests are not retried (every other test's setting: a crash fails at once). True: the storage retry
    /// settings that ship (StorageOptions' defaults: retries with backoff), so each crash is also retried before it fails the message.
    /// </param>
    [TestCase(false, TestName = "Crashed_and_restarted_processing_ends_in_the_same_state_as_a_clean_run")]
    [TestCase(true, TestName = "Crashed_and_restarted_processing_ends_in_the_same_state_as_a_clean_run_with_the_shipped_storage_retries")]
    public async Task Crashed_and_restarted_processing_ends_in_the_same_state_as_a_clean_run(bool shippedRetries)
    {
        int count = ReliabilityScale.Of(240);
        int plannedCrashes = ReliabilityScale.Of(8);
        var random = new Random(8);
        string[] envelopes = Envelopes(count, random);

        await using var cleanReceiver = await NotificationReceiver.StartAsync(() => Now);
        await using var crashedReceiver = await NotificationReceiver.StartAsync(() => Now);
        await using var clean = await Azurite.StartDedicatedAsync(persistent: false);
        using (var host = Host(clean.ConnectionString, null, cleanReceiver.Url))
        {
            cleanReceiver.SetSecret(TestSettings.SingleAccount(host).Id, NotificationSecret);
            crashedReceiver.SetSecret(TestSettings.SingleAccount(host).Id, NotificationSecret);
            var processor = host.GetRequiredService<EventProcessor>();
            foreach (string envelope in envelopes)
            {
                await processor.ProcessAsync(envelope, 1, CancellationToken.None);
            }
        }

        await using var crashed = await Azurite.StartDedicatedAsync(persistent: false);
        var crash = new StorageCrash();
        var queue = new List<(string Text, int Deliveries)>(envelopes.Select(e => (e, 0)));
        int crashes = 0, redelivered = 0;
        while (queue.Count > 0)
        {
            // A new host: nothing survives a restart but storage.
            using var host = Host(crashed.ConnectionString, crash, crashedReceiver.Url, retries: shippedRetries ? new StorageOptions().MaxRetries : 0);
            var processor = host.GetRequiredService<EventProcessor>();
            if (crashes < plannedCrashes)
            {
                crash.CrashAfter(random.Next(1, 120));
            }
            else
            {
                crash.Disarm();
            }

            bool died = false;
            while (queue.Count > 0 && !died)
            {
                var batch = queue.Take(BatchSize).ToList();
                int done = 0;
                foreach (var (text, deliveries) in batch)
                {
                    try
                    {
                        await processor.ProcessAsync(text, deliveries + 1, CancellationToken.None);
                        done++;
                    }
                    catch (Exception) when (crash.Crashed)
                    {
                        died = true;
                        break;
                    }
                }

                if (died)
                {
                    // Killed mid-batch: the messages done before the crash may or may not have been deleted; the worst
                    // case is that none was, so the whole batch comes back with its delivery count raised.
                    crashes++;
                    redelivered += batch.Count;
                    for (int i = 0; i < batch.Count; i++)
                    {
                        queue[i] = (batch[i].Text, batch[i].Deliveries + 1);
                    }
                }
                else
                {
                    queue.RemoveRange(0, batch.Count);
                }
            }
        }

        // What a stop left in the outbox (a dispatch or its confirmation that failed on the last step of a message) is sent
        // by the sweeper once older than ChangeFeed:SweepAfter. Disposing a host waits for its POSTs in flight.
        foreach (var (storage, url) in new[] { (clean.ConnectionString, cleanReceiver.Url), (crashed.ConnectionString, crashedReceiver.Url) })
        {
            using var sweeping = Host(storage, null, url, Now.AddMinutes(5));
            await sweeping.GetRequiredService<DndChangeSweeper>().SweepAsync(CancellationToken.None);
        }

        var expected = await Snapshot(clean.ConnectionString);
        var actual = await Snapshot(crashed.ConnectionString);
        TestContext.Out.WriteLine($"{count} events, {crashes} crashes, {redelivered} messages redelivered; tables: "
            + string.Join(", ", expected.Select(t => $"{t.Key} {t.Value.Count}")));
        var cleanVersions = cleanReceiver.AppliedVersionsByAddress();
        var crashedVersions = crashedReceiver.Accepted.GroupBy(r => r.Tenant + "|" + r.AddressHash)
            .ToDictionary(g => g.Key, g => g.Select(r => r.Version).Distinct().Order().ToList());
        var cleanLast = cleanReceiver.Applied.GroupBy(r => r.Tenant + "|" + r.AddressHash).ToDictionary(g => g.Key, g => g.Last().Body);
        var crashedLast = crashedReceiver.Applied.GroupBy(r => r.Tenant + "|" + r.AddressHash).ToDictionary(g => g.Key, g => g.MaxBy(r => r.Version)!.Body);
        TestContext.Out.WriteLine($"notifications: clean {cleanReceiver.Accepted.Count}, crashed {crashedReceiver.Accepted.Count} taken "
            + $"({crashedReceiver.Accepted.Count - crashedReceiver.Applied.Count} repeats or stale ones dropped by version)");
        Assert.Multiple(() =>
        {
            Assert.That(cleanVersions, Is.Not.Empty);
            Assert.That(cleanVersions.Values.Select(v => v.SequenceEqual(Enumerable.Range(1, v.Count).Select(i => (long)i))), Has.All.True,
                "a clean run announces 1, 2, 3... per address, in order");
            Assert.That(crashedVersions, Is.EquivalentTo(cleanVersions), "every version of every address reached the receiver at least once");
            Assert.That(crashedReceiver.AppliedVersionsByAddress(), Is.EquivalentTo(cleanVersions),
                "the sequence the receiver keeps per address (repeats and stale versions dropped) equals the clean run's: no version skipped");
            Assert.That(crashedLast, Is.EquivalentTo(cleanLast), "the receiver ends at the same notice per address");
            Assert.That(cleanReceiver.Rejected + crashedReceiver.Rejected, Is.Zero);
        });
        Assert.Multiple(() =>
        {
            Assert.That(crashes, Is.EqualTo(plannedCrashes));
            Assert.That(crash.Refused, Is.GreaterThanOrEqualTo(crashes * (shippedRetries ? new StorageOptions().MaxRetries + 1 : 1)),
                "each crash met every attempt the settings allow (with the shipped settings, the storage client's retries too)");
            Assert.That(expected[StorageNames.DndEntriesTable], Is.Not.Empty);
            Assert.That(expected[StorageNames.DndHistoryTable], Is.Not.Empty);
            Assert.That(expected[StorageNames.SenderIssuesTable], Is.Not.Empty);
            Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys));
            foreach (var (table, rows) in expected)
            {
                Assert.That(actual.GetValueOrDefault(table), Is.EquivalentTo(rows), table);
            }
        });
    }

    /// <summary>
    /// The crash harness with the host's real concurrency: host.json's batch (16) and new-batch threshold (8) let up to 24
    /// messages run at once, so messages of one address race each other (409/412 and retries inside the store) while the
    /// host is killed. What does not depend on the order of processing must equal a clean run's: every entry's aggregate and
    /// state (not its change-log version and rows, which number the changes in the order they were applied), the history's
    /// records by key with what they record (not the states before and after, which are the order's), the sender-issue counters
    /// and the sent-message log, exactly.
    /// </summary>
    [Test]
    public async Task Crashed_processing_with_the_hosts_concurrency_ends_with_the_same_entries_history_and_counters_as_a_clean_run()
    {
        int count = ReliabilityScale.Of(240);
        int plannedCrashes = ReliabilityScale.Of(8);
        int window = ShippedHostJson.BatchSize + ShippedHostJson.NewBatchThreshold;
        var random = new Random(24);
        string[] envelopes = Envelopes(count, random);

        await using var receiver = await NotificationReceiver.StartAsync(() => Now);
        await using var clean = await Azurite.StartDedicatedAsync(persistent: false);
        using (var host = Host(clean.ConnectionString, null, receiver.Url))
        {
            var processor = host.GetRequiredService<EventProcessor>();
            foreach (string envelope in envelopes)
            {
                await processor.ProcessAsync(envelope, 1, CancellationToken.None);
            }
        }

        await using var crashed = await Azurite.StartDedicatedAsync(persistent: false);
        var crash = new StorageCrash();
        var queue = new List<(string Text, int Deliveries)>(envelopes.Select(e => (e, 0)));
        int crashes = 0, redelivered = 0, inFlight = 0, mostAtOnce = 0, conflicts = 0;
        while (queue.Count > 0)
        {
            using var host = Host(crashed.ConnectionString, crash, receiver.Url);
            var processor = host.GetRequiredService<EventProcessor>();
            if (crashes < plannedCrashes)
            {
                // Well inside the run's storage requests (about 8 per message), so every planned crash happens.
                crash.CrashAfter(random.Next(1, 150));
            }
            else
            {
                crash.Disarm();
            }

            bool died = false;
            while (queue.Count > 0 && !died)
            {
                var batch = queue.Take(window).ToList();
                // 0 done, 1 killed, 2 failed on contention (the store gave up after its attempts): the host retries the message.
                var results = await Task.WhenAll(batch.Select(m => Task.Run(async () =>
                {
                    int now = Interlocked.Increment(ref inFlight);
                    InterlockedMax(ref mostAtOnce, now);
                    try
                    {
                        await processor.ProcessAsync(m.Text, m.Deliveries + 1, CancellationToken.None);
                        return 0;
                    }
                    catch (Exception) when (crash.Crashed)
                    {
                        return 1;
                    }
                    catch (MailgunFunctions.Dnd.DndWriteConflictException)
                    {
                        return 2;
                    }
                    finally
                    {
                        Interlocked.Decrement(ref inFlight);
                    }
                })));
                if (results.Contains(1))
                {
                    died = true;
                    crashes++;
                    redelivered += batch.Count;
                    for (int i = 0; i < batch.Count; i++)
                    {
                        queue[i] = (batch[i].Text, batch[i].Deliveries + 1);
                    }
                }
                else
                {
                    queue.RemoveRange(0, batch.Count);
                    var retried = batch.Where((m, i) => results[i] == 2).Select(m => (m.Text, m.Deliveries + 1)).ToList();
                    conflicts += retried.Count;
                    queue.AddRange(retried);
                }
            }
        }

        var expected = Comparable(await Snapshot(clean.ConnectionString));
        var actual = Comparable(await Snapshot(crashed.ConnectionString));
        TestContext.Out.WriteLine($"{count} events, {window} at once (most seen {mostAtOnce}), {crashes} crashes, {redelivered} messages redelivered, "
            + $"{conflicts} retried after contention; compared: " + string.Join(", ", expected.Select(t => $"{t.Key} {t.Value.Count}")));
        Assert.Multiple(() =>
        {
            Assert.That(crashes, Is.EqualTo(plannedCrashes));
            Assert.That(mostAtOnce, Is.GreaterThan(ShippedHostJson.BatchSize), "more than one batch's worth ran at once");
            Assert.That(expected[StorageNames.DndEntriesTable], Is.Not.Empty);
            Assert.That(expected[StorageNames.SenderIssuesTable], Is.Not.Empty);
            Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys));
            foreach (var (table, rows) in expected)
            {
                // The expiry index is written before the entry holds a temporary DND, so an order in which a soft bounce was
                // applied before the cause that outranked it leaves an index row the timer finds and skips: a superset.
                Assert.That(actual.GetValueOrDefault(table), table == StorageNames.DndExpiriesTable ? Is.SupersetOf(rows) : Is.EquivalentTo(rows), table);
            }
        });
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    /// <summary>
    /// The columns that do not depend on the order the events were applied in: entries without their change-log version and
    /// rows (the change log numbers changes as they were applied), history records without the states before and after and
    /// whether the entry changed (an older event applied after a newer one changes nothing), the change feed's outbox aside.
    /// </summary>
    private static Dictionary<string, List<string>> Comparable(Dictionary<string, List<string>> snapshot)
    {
        static string Without(string row, params string[] columns) =>
            string.Join("; ", row.Split("; ").Where(part => !columns.Any(c => part.StartsWith(c + "=", StringComparison.Ordinal))));
        return snapshot.ToDictionary(t => t.Key, t => t.Key switch
        {
            StorageNames.DndEntriesTable => t.Value.Where(r => !r.Contains("RowKey=~", StringComparison.Ordinal))
                .Select(r => Without(r, MailgunFunctions.Dnd.DndChangeLog.VersionColumn, MailgunFunctions.Dnd.DndChangeLog.LastChangeRowColumn)).ToList(),
            StorageNames.DndHistoryTable => t.Value.Select(r => Without(r, "PreviousState", "NewState", "EntryUnchanged", "RecordedAt")).ToList(),
            _ => t.Value,
        });
    }

    private const string NotificationSecret = "crash-test-notification-secret-0123456789";

    private static ServiceProvider Host(string storage, HttpPipelinePolicy? crash, Uri notificationUrl, DateTimeOffset? now = null, int retries = 0) =>
        TestSettings.Services(TestSettings.Configuration(storage, new Dictionary<string, string?>
            {
                ["Notifications:DefaultUrl"] = notificationUrl.AbsoluteUri,
                ["Notifications:DefaultSecret"] = NotificationSecret,
                ["Storage:MaxRetries"] = retries.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }), (s, c) => s.AddMailgunFunctions(c), new FakeTimeProvider(now ?? Now),
            before: crash is null ? null : s => s.AddSingleton(crash));

    /// <summary>
    /// A mix that exercises every write of processing: hard and soft bounces, sender-side failures (counted), complaints,
    /// unsubscribes, deliveries (sent-message log) and opens, several per address so entries merge.
    /// </summary>
    private static string[] Envelopes(int count, Random random)
    {
        using var services = TestSettings.Services(TestSettings.Configuration(Azurite.Unreachable()), (s, c) => s.AddMailgunFunctions(c), new FakeTimeProvider(Now));
        var intake = services.GetRequiredService<EventWebhookIntake>();
        var envelopes = new string[count];
        for (int i = 0; i < count; i++)
        {
            string recipient = $"contact{random.Next(count / 4)}@example.com";
            var at = Now.AddMinutes(-random.Next(1, 60 * 24 * 10));
            JObject data = random.Next(8) switch
            {
                0 => SignedWebhook.Failed(recipient, at),
                1 or 2 => SignedWebhook.Failed(recipient, at, 452, "4.2.2 The email account that you tried to reach is over quota.", severity: "temporary"),
                3 => SignedWebhook.Failed(recipient, at, 550, "5.7.26 DMARC policy violation"),
                4 => SignedWebhook.Simple("complained", recipient, at),
                5 => SignedWebhook.Simple("unsubscribed", recipient, at),
                6 => SignedWebhook.Simple("delivered", recipient, at),
                _ => SignedWebhook.Simple("opened", recipient, at),
            };
            using var prepared = intake.Prepare(TestSettings.SingleAccount(services), Encoding.UTF8.GetBytes(SignedWebhook.Body(data, Now.AddMinutes(-1))));
            envelopes[i] = Encoding.UTF8.GetString(prepared.EnvelopeJson.Span);
        }

        return envelopes;
    }

    /// <summary>Every row of every table, as text without the storage's own Timestamp and ETag.</summary>
    private static async Task<Dictionary<string, List<string>>> Snapshot(string storage)
    {
        var service = new TableServiceClient(storage);
        var tables = new Dictionary<string, List<string>>();
        await foreach (var table in service.QueryAsync())
        {
            var rows = new List<string>();
            await foreach (var e in service.GetTableClient(table.Name).QueryAsync<TableEntity>())
            {
                rows.Add(string.Join("; ", e.Keys.Where(k => k is not ("Timestamp" or "odata.etag")).Order(StringComparer.Ordinal).Select(k => $"{k}={Text(e[k])}")));
            }

            tables[table.Name] = rows;
        }

        return tables;
    }

    private static string Text(object? value) => value switch
    {
        byte[] bytes => Convert.ToBase64String(bytes),
        DateTimeOffset d => d.ToString("O"),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "null",
    };
}
