using Azure.Data.Tables;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
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
        await foreach (var e in _harness.Clients.Tables.GetTableClient(StorageNames.DndEntriesTable).QueryAsync<TableEntity>(x => x.PartitionKey == DndKeys.TenantKey(_harness.Tenant)))
        {
            rows.Add(e);
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
            Assert.That(rows[0].RowKey, Is.EqualTo(DndErasure.ErasedRowKey(Address)));
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
