using System.Diagnostics;
using Azure.Core;
using Azure.Data.Tables;
using MailgunFunctions.Dnd;
using MailgunFunctions.Erasure;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.Processing;
using Microsoft.Extensions.DependencyInjection;
using static MailgunFunctions.Tests.Dnd.DndTestEvents;

namespace MailgunFunctions.Tests.Dnd;

/// <summary>DndErasure and the store's fallback to the hashed row, and the address scan, on a real Azurite.</summary>
public class DndErasureTests
{
    private ProcessingHarness _harness = null!;

    [SetUp]
    public async Task SetUp() => _harness = await ProcessingHarness.CreateAsync();

    [TearDown]
    public async Task TearDown() => await _harness.DisposeAsync();

    private DndStore Store => _harness.Store;
    private DndErasure Erasure => _harness.Services.GetRequiredService<DndErasure>();

    [Test]
    public async Task Erased_permanent_address_stays_permanent_without_its_personal_data()
    {
        await Store.ApplyAsync(_harness.Tenant, Address, Hard(T0), default);

        var result = await Erasure.EraseAsync(_harness.Tenant, Address, "req-1", default);

        var rows = new List<TableEntity>();
        var logRows = new List<TableEntity>();
        await foreach (var e in _harness.Clients.Tables.GetTableClient(StorageNames.DndEntriesTable).QueryAsync<TableEntity>(x => x.PartitionKey == DndKeys.TenantKey(_harness.Tenant)))
        {
            (DndChangeLog.IsLogRow(e.RowKey) ? logRows : rows).Add(e);
        }

        var (entry, status) = await Store.GetStatusAsync(_harness.Tenant, Address, default);
        var listed = new List<DndEntry>();
        await foreach (var e in Store.ListAsync(_harness.Tenant, default))
        {
            listed.Add(e);
        }

        Assert.Multiple(() =>
        {
            Assert.That(result!.KeptState, Is.EqualTo(DndState.Permanent));
            Assert.That(result.HistoryRecords, Is.EqualTo(1));
            Assert.That(rows, Has.Count.EqualTo(1));
            Assert.That(rows[0].RowKey, Is.EqualTo(DndKeys.ErasedRowKey(Address)));
            Assert.That(logRows.Select(r => r.RowKey), Has.All.StartsWith(DndChangeLog.ChangePrefix), "only change rows stay (the outbox is dispatched)");
            Assert.That(logRows.Select(r => r.GetString("Notice")), Has.None.Contains(DndKeys.NormalizeAddress(Address)), "the erasure's own change row has no address; the earlier ones are gone");
            Assert.That(rows[0].ContainsKey("ContactId") || rows[0].ContainsKey("LastEventDetail") || rows[0].ContainsKey("UserVariables"), Is.False);
            Assert.That(status.State, Is.EqualTo(DndState.Permanent));
            Assert.That(entry!.Address, Is.EqualTo(DndKeys.NormalizeAddress(Address)));
            Assert.That(listed, Is.Empty, "hashed rows are not listed as addresses");
        });
    }

    [Test]
    public async Task Erased_locked_address_that_comes_back_stays_locked()
    {
        await Store.ApplyAsync(_harness.Tenant, Address, Complaint(T0), default);
        await Erasure.EraseAsync(_harness.Tenant, Address, "req-2", default);

        var applied = await Store.ApplyAsync(_harness.Tenant, Address, Delivered(T0.AddDays(1)), default);
        var refused = await Store.ReenableAsync(_harness.Tenant, Address, "op", "why", adminOverride: false, default);

        Assert.Multiple(() =>
        {
            Assert.That(applied.Current.State, Is.EqualTo(DndState.Locked));
            Assert.That(refused.Outcome, Is.EqualTo(DndApplyOutcome.Refused));
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_processor_that_just_learned_the_tenant_has_no_erasures_still_finds_an_erasure_made_meanwhile(bool insertFirst)
    {
        if (insertFirst)
        {
            // A run of never-seen addresses puts the store on insert-first for the tenant (no read before the write).
            for (int n = 0; n < 40; n++)
            {
                await Store.ApplyAsync(_harness.Tenant, $"fresh{n}@example.net", Hard(T0), default);
            }
        }

        // The processor's cache says "no erasures" (fresh) when the erasure starts; it keeps applying events to the
        // address, as fast as it can, while the erasure marks the tenant, waits and moves the row. At no point may the
        // address be seen without its complaint, and afterwards the plain row (re-created by the processor) holds it.
        await Store.ApplyAsync(_harness.Tenant, Address, Complaint(T0), default);
        var erasing = Erasure.EraseAsync(_harness.Tenant, Address, "req-race", default);
        var states = new List<DndState>();
        int i = 0;
        while (!erasing.IsCompleted)
        {
            states.Add((await Store.ApplyAsync(_harness.Tenant, Address, Delivered(T0.AddMinutes(++i)), default)).Current.State);
            // A pause lets the erasure's read-move-delete fit between two writes (each write makes its delete start over).
            await Task.Delay(20);
        }

        var result = await erasing;
        var after = await Store.ApplyAsync(_harness.Tenant, Address, Delivered(T0.AddDays(1)), default);

        Assert.Multiple(() =>
        {
            Assert.That(result!.EntryKept, Is.True);
            Assert.That(states, Has.Count.GreaterThan(10), "the processor kept writing during the erasure");
            Assert.That(states, Has.All.EqualTo(DndState.Locked));
            Assert.That(after.Current.State, Is.EqualTo(DndState.Locked));
            Assert.That(after.Entry.FirstComplaintAt, Is.EqualTo(T0));
        });
    }

    [Test]
    public async Task A_never_seen_address_of_a_tenant_without_erasures_costs_three_requests_and_one_marker_read_per_tenant()
    {
        var counter = new StorageRequestCounter();
        var store = await _harness.StoreWithAsync(counter, HttpPipelinePosition.PerRetry);
        await store.ApplyAsync(ProcessingHarness.NewTenant(), Address, Hard(T0), default); // creates the tables
        counter.Reset();

        const int addresses = 6;
        var clock = Stopwatch.StartNew();
        for (int n = 0; n < addresses; n++)
        {
            await store.ApplyAsync(_harness.Tenant, $"new{n}@example.net", Hard(T0), default);
        }

        // One marker read for the tenant, then its cached answer, re-read only if the run outlived the cache's lifetime.
        long markerReads = 1 + (long)(clock.Elapsed / ErasureMarks.CacheLifetime);
        Assert.That(counter.Requests, Is.InRange(3 * addresses + 1, 3 * addresses + markerReads),
            "per address: the point read, the history insert, the entry insert");
    }

    [Test]
    public async Task Erasing_an_unknown_address_reports_nothing_held()
    {
        Assert.That(await Erasure.EraseAsync(_harness.Tenant, "nobody@example.net", "req-3", default), Is.Null);
    }

    [Test]
    public async Task FindByAddress_returns_the_entries_of_every_tenant()
    {
        string other = ProcessingHarness.NewTenant();
        await Store.ApplyAsync(_harness.Tenant, Address, Hard(T0), default);
        await Store.ApplyAsync(other, Address, Hard(T0), default);

        var found = new List<string>();
        await foreach (var e in Store.FindByAddressAsync(Address.ToUpperInvariant(), default))
        {
            found.Add(e.Tenant);
        }

        Assert.That(found, Is.SupersetOf(new[] { _harness.Tenant, other }));
    }
}
