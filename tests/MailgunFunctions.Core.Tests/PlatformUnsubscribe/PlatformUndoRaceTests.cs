using Azure.Core;
using Azure.Core.Pipeline;
using MailgunFunctions.Dnd;
using MailgunFunctions.PlatformUnsubscribe;
using MailgunFunctions.Storage;
using MailgunFunctions.Tests.Processing;
using static MailgunFunctions.Tests.Dnd.DndTestEvents;

namespace MailgunFunctions.Tests.PlatformUnsubscribe;

/// <summary>
/// The undo of the platform's unsubscribe link checks the history, then re-enables. A bounce that lands between the two
/// must not be cleared: made deterministic with a pipeline policy that applies the bounce (through another store) right
/// before the undo's entry write is sent.
/// </summary>
public class PlatformUndoRaceTests
{
    private ProcessingHarness _harness = null!;

    [SetUp]
    public async Task SetUp() => _harness = await ProcessingHarness.CreateAsync();

    [TearDown]
    public async Task TearDown() => await _harness.DisposeAsync();

    private MailgunFunctions.Tenants.TenantDirectory Tenants => Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<MailgunFunctions.Tenants.TenantDirectory>(_harness.Services);

    [TestCase(30, TestName = "A bounce newer than the unsubscribe, landing between the undo's check and its write, keeps the address blocked")]
    [TestCase(-30, TestName = "A bounce older than the unsubscribe, landing between the undo's check and its write, keeps the address blocked")]
    public async Task A_bounce_landing_during_the_undo_is_not_cleared(int bounceSecondsAfterUnsubscribe)
    {
        var request = new UnsubscribeRequest(_harness.Tenant, Address, "c-1", "spring", _harness.Time.GetUtcNow());
        DateTimeOffset unsubscribedAt = _harness.Time.GetUtcNow();
        Assert.That(await new PlatformUnsubscribeService(_harness.Store, Tenants, _harness.Time).UnsubscribeAsync(request, "token-1", default), Is.EqualTo(LinkOutcome.Unsubscribed));
        _harness.Time.Advance(TimeSpan.FromMinutes(5));

        var bounce = new BounceBeforeEntryWrite(_harness.Store, _harness.Tenant, Hard(unsubscribedAt.AddSeconds(bounceSecondsAfterUnsubscribe)));
        var undo = new PlatformUnsubscribeService(await _harness.StoreWithAsync(bounce, HttpPipelinePosition.PerCall), Tenants, _harness.Time);

        var outcome = await undo.UndoAsync(request, "token-1", default);

        var (_, status) = await _harness.Store.GetStatusAsync(_harness.Tenant, Address, default);
        Assert.Multiple(() =>
        {
            Assert.That(bounce.Fired, Is.True, "the bounce landed between the undo's check and its write");
            Assert.That(outcome, Is.EqualTo(LinkOutcome.StillBlocked));
            Assert.That(status.State, Is.EqualTo(DndState.Permanent), "the bounce's DND stands");
        });
    }

    [Test]
    public async Task An_undo_with_nothing_in_between_resubscribes_and_leaves_one_record()
    {
        var request = new UnsubscribeRequest(_harness.Tenant, Address, "c-1", "spring", _harness.Time.GetUtcNow());
        var service = new PlatformUnsubscribeService(_harness.Store, Tenants, _harness.Time);
        await service.UnsubscribeAsync(request, "token-1", default);
        _harness.Time.Advance(TimeSpan.FromMinutes(5));

        Assert.That(await service.UndoAsync(request, "token-1", default), Is.EqualTo(LinkOutcome.Resubscribed));
        var (_, status) = await _harness.Store.GetStatusAsync(_harness.Tenant, Address, default);
        var history = await _harness.HistoryAsync(Address);
        Assert.That(status.State, Is.EqualTo(DndState.None));
        Assert.That(history.Select(h => h.Rule), Is.EqualTo(new[] { "platform-resubscribe", "platform-unsubscribe" }));
        // The undo's conditional write is announced like every other change: the unsubscribe was version 1, the undo 2.
        var (_, announced, last) = await _harness.Store.GetAnnouncedAsync(_harness.Tenant, Address, default);
        Assert.That((announced.Version, announced.Status.State, last?.Version), Is.EqualTo((2L, DndState.None, (long?)2)));
    }

    /// <summary>Before the first entity write of the store under test, applies a hard bounce through another store.</summary>
    private sealed class BounceBeforeEntryWrite(DndStore other, string tenant, DndChange bounce) : HttpPipelinePolicy
    {
        public bool Fired { get; private set; }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            // A plain entry write, or the entity-group transaction that writes the entry with its change-feed rows.
            bool entityWrite = message.Request.Method != RequestMethod.Get && message.Request.Method != RequestMethod.Delete
                && (message.Request.Uri.Path.Contains(StorageNames.DndEntriesTable, StringComparison.Ordinal) || message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal));
            if (entityWrite && !Fired)
            {
                Fired = true;
                await other.ApplyAsync(tenant, Address, bounce, default);
            }

            await ProcessNextAsync(message, pipeline);
        }
    }
}
