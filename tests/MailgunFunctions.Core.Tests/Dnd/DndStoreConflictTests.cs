using Azure.Core;
using Azure.Core.Pipeline;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using MailgunFunctions.Tests.Processing;
using static MailgunFunctions.Tests.Dnd.DndTestEvents;

namespace MailgunFunctions.Tests.Dnd;

/// <summary>
/// The optimistic-concurrency path made deterministic: a pipeline policy lets a competing writer change the entry
/// right before each of our writes is sent, so our ETag is always stale.
/// </summary>
public class DndStoreConflictTests
{
    private ProcessingHarness _harness = null!;

    [SetUp]
    public async Task SetUp() => _harness = await ProcessingHarness.CreateAsync();

    [TearDown]
    public async Task TearDown() => await _harness.DisposeAsync();

    private Task<DndStore> StoreWithCompetitorAsync(Queue<DndChange> competing, int maxWriteAttempts) =>
        _harness.StoreWithAsync(new CompetingWriter(_harness.Store, _harness.Tenant, Address, competing), HttpPipelinePosition.PerCall,
            new DndOptions { MaxWriteAttempts = maxWriteAttempts });

    [Test]
    public async Task ApplyAsync_on_a_stale_etag_merges_again_and_keeps_both_changes()
    {
        DndChange opened = Opened(T0), complaint = Complaint(T0.AddMinutes(1)), soft = Soft(T0.AddMinutes(2), "m1"), hard = Hard(T0.AddMinutes(3));
        await _harness.Store.ApplyAsync(_harness.Tenant, Address, opened, default);
        var competing = new Queue<DndChange>([complaint, soft]);
        var store = await StoreWithCompetitorAsync(competing, maxWriteAttempts: 3);

        var result = await store.ApplyAsync(_harness.Tenant, Address, hard, default);

        var stored = await _harness.Store.GetAsync(_harness.Tenant, Address, default);
        var expected = Fold([opened, complaint, soft, hard]) with { Tenant = _harness.Tenant };
        Assert.Multiple(async () =>
        {
            Assert.That(competing, Is.Empty, "both competing writes happened");
            Assert.That(result.Outcome, Is.EqualTo(DndApplyOutcome.Applied));
            Assert.That(stored, Is.EqualTo(expected));
            Assert.That(await _harness.HistoryAsync(Address), Has.Count.EqualTo(3));
        });
    }

    [Test]
    public async Task ApplyAsync_gives_up_after_the_configured_attempts_so_the_queue_retries()
    {
        await _harness.Store.ApplyAsync(_harness.Tenant, Address, Opened(T0), default);
        var competing = new Queue<DndChange>(Enumerable.Range(1, 5).Select(i => Soft(T0.AddMinutes(i), "m" + i)));
        var store = await StoreWithCompetitorAsync(competing, maxWriteAttempts: 2);

        var hard = Hard(T0.AddMinutes(10));
        Assert.That(async () => await store.ApplyAsync(_harness.Tenant, Address, hard, default), Throws.InstanceOf<DndWriteConflictException>());
        var stored = await _harness.Store.GetAsync(_harness.Tenant, Address, default);
        Assert.That(stored!.LatestPermanentCause, Is.Null, "a write that never won must not reach the entry");

        // The queue's retry applies it; the record written before the failed attempts is the one record of the change.
        var retried = await _harness.Store.ApplyAsync(_harness.Tenant, Address, hard, default);
        var records = (await _harness.HistoryAsync(Address)).Where(r => r.ChangeKey == hard.Key).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(retried.Outcome, Is.EqualTo(DndApplyOutcome.Applied));
            Assert.That(retried.Current.State, Is.EqualTo(DndState.Permanent));
            Assert.That(records, Has.Count.EqualTo(1));
            Assert.That(records[0].EntryUnchanged, Is.False);
        });
    }

    [Test]
    public async Task ApplyAsync_corrects_its_history_record_when_a_conflict_changed_the_state_before_the_change()
    {
        await _harness.Store.ApplyAsync(_harness.Tenant, Address, Opened(T0), default);
        // The record of the hard bounce is written first, computed on the entry as read (no DND); then a complaint
        // lands before our entry write, so the hard bounce actually finds the address locked.
        var store = await StoreWithCompetitorAsync(new Queue<DndChange>([Complaint(T0.AddMinutes(1))]), maxWriteAttempts: 3);
        var hard = Hard(T0.AddMinutes(2));

        var result = await store.ApplyAsync(_harness.Tenant, Address, hard, default);

        var record = (await _harness.HistoryAsync(Address)).Single(r => r.ChangeKey == hard.Key);
        Assert.Multiple(() =>
        {
            Assert.That(result.Previous.State, Is.EqualTo(DndState.Locked));
            Assert.That(result.HistoryWritten, Is.True);
            Assert.That((record.PreviousState, record.NewState, record.EntryUnchanged), Is.EqualTo((DndState.Locked, DndState.Locked, false)));
        });
    }

    [Test]
    public async Task A_stop_between_the_history_record_and_the_entry_write_recovers_exactly_as_a_clean_run()
    {
        var stopping = await _harness.StoreWithAsync(new StopBeforeEntryWrite(), HttpPipelinePosition.PerCall);
        var hard = Hard(T0);
        string clean = ProcessingHarness.NewTenant();
        await _harness.Store.ApplyAsync(clean, Address, hard, default);

        Assert.That(async () => await stopping.ApplyAsync(_harness.Tenant, Address, hard, default), Throws.Exception);
        Assert.That(await _harness.Store.GetAsync(_harness.Tenant, Address, default), Is.Null, "the stop came before the entry write");
        var redelivered = await _harness.Store.ApplyAsync(_harness.Tenant, Address, hard, default);

        var recovered = await _harness.HistoryAsync(Address);
        var expected = await _harness.HistoryAsync(Address, clean);
        Assert.Multiple(async () =>
        {
            Assert.That(redelivered.Outcome, Is.EqualTo(DndApplyOutcome.Applied));
            Assert.That(redelivered.HistoryWritten, Is.False, "the record came from the stopped attempt");
            Assert.That(recovered.Select(r => r with { Tenant = clean }), Is.EqualTo(expected));
            Assert.That(await _harness.Store.GetAsync(_harness.Tenant, Address, default), Is.EqualTo((await _harness.Store.GetAsync(clean, Address, default))! with { Tenant = _harness.Tenant }));
        });
    }

    /// <summary>The process dies right before its first entry write (after its history insert).</summary>
    private sealed class StopBeforeEntryWrite : HttpPipelinePolicy
    {
        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            message.Request.Method != RequestMethod.Get && (message.Request.Uri.Path.Contains(StorageNames.DndEntriesTable, StringComparison.Ordinal) || IsBatch(message))
                ? throw new IOException("processing host killed (injected fault)")
                : ProcessNextAsync(message, pipeline);
    }

    /// <summary>An entity-group transaction: how the store writes an entry together with its change-feed rows.</summary>
    private static bool IsBatch(HttpMessage message) =>
        message.Request.Method == RequestMethod.Post && message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal);

    /// <summary>Before each entity write (PUT/POST to DndEntries, or a transaction) of the store under test, applies the next competing change through another store.</summary>
    private sealed class CompetingWriter(DndStore other, string tenant, string address, Queue<DndChange> changes) : HttpPipelinePolicy
    {
        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            bool entityWrite = (message.Request.Method == RequestMethod.Put
                && message.Request.Uri.Path.Contains(StorageNames.DndEntriesTable + "(", StringComparison.Ordinal)) || IsBatch(message);
            if (entityWrite && changes.TryDequeue(out var change))
            {
                await other.ApplyAsync(tenant, address, change, default);
            }

            await ProcessNextAsync(message, pipeline);
        }
    }
}
