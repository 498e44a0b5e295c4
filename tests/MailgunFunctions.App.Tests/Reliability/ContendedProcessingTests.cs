using System.Text;
using Azure.Core.Pipeline;
using MailgunFunctions.Dnd;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Processing;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Reliability;

/// <summary>
/// Two processor instances (each the app's own container, as two hosts scaled out) on the same address at once, with the
/// race forced by <see cref="StorageRace"/>: both read before either writes, one named instance writes first, and the
/// other's write meets the changed row. Each test asserts that the contention happened (the storage's 409 or 412 answer to
/// the loser, and its retry) and that the result is exact: no change lost, none applied twice.
/// </summary>
[Category("Reliability")]
[NonParallelizable]
public class ContendedProcessingTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A DND entry's write: a transaction with its change-log rows, or the entity alone when it announces nothing.</summary>
    private static readonly Func<Azure.Core.Request, bool> EntryWrite = r => StorageRace.BatchOf(StorageNames.DndEntriesTable)(r) || StorageRace.EntityWrite(StorageNames.DndEntriesTable)(r);

    private static string Envelope(AppServices app, JObject data)
    {
        using var prepared = app.Get<EventWebhookIntake>().Prepare(TestSettings.SingleAccount(app.Provider), Encoding.UTF8.GetBytes(SignedWebhook.Body(data, Now.AddMinutes(-1))));
        return Encoding.UTF8.GetString(prepared.EnvelopeJson.Span);
    }

    private static async Task<((string A, string B) Outcomes, Dictionary<string, List<string>> Conflicts)> RaceAsync(StorageRace race, string storage, Func<AppServices, string> envelopeA, Func<AppServices, string> envelopeB,
        Func<AppServices, Task>? before = null)
    {
        if (before is not null)
        {
            // Outside the race: a third instance without the gate.
            using var setUp = new AppServices(storage, Now);
            await before(setUp);
        }

        using var a = new AppServices(storage, Now, before: s => s.AddSingleton<HttpPipelinePolicy>(race.For("A")));
        using var b = new AppServices(storage, Now, before: s => s.AddSingleton<HttpPipelinePolicy>(race.For("B")));

        var results = await Task.WhenAll(
            Task.Run(() => a.Get<EventProcessor>().ProcessAsync(envelopeA(a), 1, CancellationToken.None)),
            Task.Run(() => b.Get<EventProcessor>().ProcessAsync(envelopeB(b), 1, CancellationToken.None)));
        Assert.That(race.TimedOut, Is.False, "the race was forced: each hold ended by the other instance's read or write, not by waiting");
        Assert.That(a.Logs.Entries.Concat(b.Logs.Entries).Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error), Is.Empty);
        // The DND store's own record of a write that met a changed row (event 3002, with the storage's status), per instance.
        var conflicts = new Dictionary<string, List<string>>
        {
            ["A"] = a.Logs.Events.Where(e => e.EventId == 3002).Select(e => e.Text).ToList(),
            ["B"] = b.Logs.Events.Where(e => e.EventId == 3002).Select(e => e.Text).ToList(),
        };
        return ((results[0].Outcome.ToString(), results[1].Outcome.ToString()), conflicts);
    }

    private static async Task<(DndState State, List<DndHistoryRecord> History, DndEntry? Entry)> DndAsync(string storage, string address)
    {
        using var app = new AppServices(storage, Now);
        var store = app.Get<DndStore>();
        string tenant = TestSettings.SingleAccount(app.Provider).Id;
        var (entry, status) = await store.GetStatusAsync(tenant, address, CancellationToken.None);
        var history = new List<DndHistoryRecord>();
        await foreach (var record in store.HistoryAsync(tenant, address, CancellationToken.None))
        {
            history.Add(record);
        }

        return (status.State, history, entry);
    }

    [Test]
    public async Task Two_processors_inserting_a_never_seen_address_both_apply_after_a_409()
    {
        string storage = await Azurite.SharedConnectionStringAsync();
        string address = $"race.{Guid.NewGuid():N}@example.com";
        var race = new StorageRace(StorageRace.PointRead(StorageNames.DndEntriesTable), EntryWrite, "A", "A", "B");

        var (outcomes, conflicts) = await RaceAsync(race, storage,
            a => Envelope(a, SignedWebhook.Failed(address, Now.AddMinutes(-30))),
            b => Envelope(b, SignedWebhook.Simple("unsubscribed", address, Now.AddMinutes(-20))));

        var (state, history, entry) = await DndAsync(storage, address);
        TestContext.Out.WriteLine("writes: " + string.Join(", ", race.Writes) + "; conflicts: " + string.Join(" | ", conflicts.SelectMany(c => c.Value)));
        Assert.Multiple(() =>
        {
            Assert.That(outcomes, Is.EqualTo(("Processed", "Processed")));
            Assert.That(race.Writes.Select(w => w.Instance), Is.EqualTo(new[] { "A", "B", "B" }), "A wrote first; B wrote, then once more");
            Assert.That(conflicts["B"], Has.One.Contains("HTTP 409"), "B's insert met A's row, and B read again, merged and wrote");
            Assert.That(conflicts["A"], Is.Empty);
            Assert.That(state, Is.EqualTo(DndState.Permanent));
            Assert.That(history, Has.Count.EqualTo(2), "one record per change, neither lost nor doubled");
            Assert.That(history.Select(h => h.Category).Distinct().Count(), Is.EqualTo(2), string.Join(", ", history.Select(h => h.Category)));
            Assert.That(entry, Is.Not.Null);
        });
    }

    [TestCase("A", TestName = "A soft bounce racing a complaint ends locked: the complaint writes first")]
    [TestCase("B", TestName = "A soft bounce racing a complaint ends locked: the soft bounce writes first")]
    public async Task A_soft_bounce_racing_a_complaint_ends_locked(string first)
    {
        string storage = await Azurite.SharedConnectionStringAsync();
        string address = $"race.{Guid.NewGuid():N}@example.com";
        var race = new StorageRace(StorageRace.PointRead(StorageNames.DndEntriesTable), EntryWrite, first, "A", "B");

        // The address is known (a delivery), so both update an existing row under its ETag: the loser's write is a 412.
        var (outcomes, conflicts) = await RaceAsync(race, storage,
            a => Envelope(a, SignedWebhook.Simple("complained", address, Now.AddMinutes(-10))),
            b => Envelope(b, SignedWebhook.Failed(address, Now.AddMinutes(-5), 452, "4.2.2 The email account that you tried to reach is over quota.", severity: "temporary")),
            before: async a => Assert.That((await a.Get<EventProcessor>().ProcessAsync(Envelope(a, SignedWebhook.Simple("delivered", address, Now.AddHours(-2))), 1, CancellationToken.None)).Outcome.ToString(), Is.EqualTo("Processed")));

        var (state, history, _) = await DndAsync(storage, address);
        string second = first == "A" ? "B" : "A";
        TestContext.Out.WriteLine("writes: " + string.Join(", ", race.Writes));
        Assert.Multiple(() =>
        {
            Assert.That(outcomes, Is.EqualTo(("Processed", "Processed")));
            Assert.That(race.Writes.Select(w => w.Instance), Is.EqualTo(new[] { first, second, second }), "the winner wrote first; the loser wrote, then once more");
            Assert.That(conflicts[second], Has.One.Contains("HTTP 412"), "the loser's update met the winner's ETag, and it merged again and wrote");
            Assert.That(conflicts[first], Is.Empty);
            Assert.That(state, Is.EqualTo(DndState.Locked), "the complaint wins whatever the order");
            Assert.That(history, Has.Count.EqualTo(2), "one record per change (the delivery has none)");
        });
    }

    [Test]
    public async Task Two_sender_side_failures_counted_at_once_make_the_counter_exactly_two()
    {
        string storage = await Azurite.SharedConnectionStringAsync();
        var race = new StorageRace(StorageRace.PointRead(StorageNames.SenderIssuesTable), StorageRace.BatchOf(StorageNames.SenderIssuesTable), "A", "A", "B");
        using var reader = new AppServices(storage, Now);
        // A bucket of its own: a minute of the day no other test uses (the counters are per tenant and bucket).
        var at = Now.AddDays(-Random.Shared.Next(2, 300)).AddMinutes(-Random.Shared.Next(0, 1440));
        string tenant = TestSettings.SingleAccount(reader.Provider).Id;
        async Task<long> TotalAsync()
        {
            long total = 0;
            await foreach (var c in reader.Get<SenderIssueCounter>().ListCountersAsync(tenant, at.AddHours(-1), at.AddHours(1), CancellationToken.None))
            {
                total += c.Rule == "" ? c.Count : 0;
            }

            return total;
        }

        long before = await TotalAsync();
        var (outcomes, _) = await RaceAsync(race, storage,
            a => Envelope(a, SignedWebhook.Failed($"s1.{Guid.NewGuid():N}@example.com", at, 550, "5.7.26 Unauthenticated email is not accepted due to domain's DMARC policy")),
            b => Envelope(b, SignedWebhook.Failed($"s2.{Guid.NewGuid():N}@example.com", at, 550, "5.7.26 Unauthenticated email is not accepted due to domain's DMARC policy")));

        TestContext.Out.WriteLine("writes: " + string.Join(", ", race.Writes));
        Assert.Multiple(async () =>
        {
            Assert.That(outcomes, Is.EqualTo(("Processed", "Processed")));
            Assert.That(race.Writes.Select(w => w.Instance), Is.EqualTo(new[] { "A", "B", "B" }), "B's first transaction met A's counter and was tried again");
            Assert.That(await TotalAsync() - before, Is.EqualTo(2), "both counted, once each");
        });
    }
}
