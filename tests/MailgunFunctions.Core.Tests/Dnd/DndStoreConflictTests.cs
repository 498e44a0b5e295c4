using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.Processing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
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

    private async Task<DndStore> StoreWithCompetitorAsync(Queue<DndChange> competing, int maxWriteAttempts)
    {
        var options = new TableClientOptions();
        options.Retry.MaxRetries = 0;
        options.AddPolicy(new CompetingWriter(_harness.Store, _harness.Tenant, Address, competing), HttpPipelinePosition.PerCall);
        var tables = new TableServiceClient(await Azurite.SharedConnectionStringAsync(), options);
        return new DndStore(tables, _harness.Time, Options.Create(new DndOptions { MaxWriteAttempts = maxWriteAttempts }), NullLogger<DndStore>.Instance);
    }

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

        Assert.That(async () => await store.ApplyAsync(_harness.Tenant, Address, Hard(T0.AddMinutes(10)), default), Throws.InstanceOf<DndWriteConflictException>());
        var stored = await _harness.Store.GetAsync(_harness.Tenant, Address, default);
        Assert.That(stored!.LatestPermanentCause, Is.Null, "a write that never won must leave no trace");
    }

    /// <summary>Before each entity write (PUT/POST to DndEntries) of the store under test, applies the next competing change through another store.</summary>
    private sealed class CompetingWriter(DndStore other, string tenant, string address, Queue<DndChange> changes) : HttpPipelinePolicy
    {
        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            bool entityWrite = message.Request.Method == RequestMethod.Put
                && message.Request.Uri.Path.Contains(StorageNames.DndEntriesTable + "(", StringComparison.Ordinal);
            if (entityWrite && changes.TryDequeue(out var change))
            {
                await other.ApplyAsync(tenant, address, change, default);
            }

            await ProcessNextAsync(message, pipeline);
        }
    }
}
