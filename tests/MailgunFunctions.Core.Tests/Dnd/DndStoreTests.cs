using Azure.Data.Tables;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.Processing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static MailgunFunctions.Tests.Dnd.DndTestEvents;

namespace MailgunFunctions.Tests.Dnd;

/// <summary>DndStore on a real Azurite: idempotency, crash recovery, concurrency, expiry, operator actions, queries.</summary>
public class DndStoreTests
{
    private ProcessingHarness _harness = null!;

    [SetUp]
    public async Task SetUp() => _harness = await ProcessingHarness.CreateAsync();

    [TearDown]
    public async Task TearDown() => await _harness.DisposeAsync();

    private DndStore Store => _harness.Store;
    private string TenantName => _harness.Tenant;

    private async Task<TableEntity> RowAsync(string address) =>
        (await _harness.Clients.Tables.GetTableClient(StorageNames.DndEntriesTable)
            .GetEntityAsync<TableEntity>(DndKeys.TenantKey(TenantName), DndKeys.AddressKey(address))).Value;

    [Test]
    public async Task ApplyAsync_same_change_twice_keeps_one_entry_state_and_one_history_record()
    {
        var change = Hard(T0);
        var first = await Store.ApplyAsync(TenantName, Address, change, default);
        var etag = (await RowAsync(Address)).ETag;
        var second = await Store.ApplyAsync(TenantName, Address, change, default);

        var history = await _harness.HistoryAsync(Address);
        Assert.Multiple(() =>
        {
            Assert.That(first.Outcome, Is.EqualTo(DndApplyOutcome.Applied));
            Assert.That(first.HistoryWritten, Is.True);
            Assert.That(second.Outcome, Is.EqualTo(DndApplyOutcome.Unchanged));
            Assert.That(second.HistoryWritten, Is.False);
            Assert.That(second.Entry, Is.EqualTo(first.Entry));
            Assert.That(history, Has.Count.EqualTo(1));
            Assert.That(history[0].PreviousState, Is.EqualTo(DndState.None));
            Assert.That(history[0].NewState, Is.EqualTo(DndState.Permanent));
            Assert.That(history[0].Rule, Is.EqualTo("fake-hard"));
            Assert.That(history[0].Code, Is.EqualTo(550));
            Assert.That(history[0].Source, Is.EqualTo(DndChangeSource.MailgunEvent));
            Assert.That(history[0].Message, Does.Contain("does not exist"));
        });
        Assert.That((await RowAsync(Address)).ETag, Is.EqualTo(etag), "a duplicate must not rewrite the entry");
    }

    [Test]
    public async Task ApplyAsync_after_a_stop_between_entry_and_history_writes_the_history_once_on_redelivery()
    {
        var change = Complaint(T0);
        await Store.ApplyAsync(TenantName, Address, change, default);
        // Simulate the crash: the entry holds the change, its history record is missing.
        var historyTable = _harness.Clients.Tables.GetTableClient(StorageNames.DndHistoryTable);
        await historyTable.DeleteEntityAsync(DndKeys.HistoryPartition(TenantName, Address), DndKeys.HistoryRow(change.At, change.Key));
        Assert.That(await _harness.HistoryAsync(Address), Is.Empty);

        var redelivered = await Store.ApplyAsync(TenantName, Address, change, default);
        var again = await Store.ApplyAsync(TenantName, Address, change, default);
        var history = await _harness.HistoryAsync(Address);
        Assert.Multiple(() =>
        {
            Assert.That(redelivered.HistoryWritten, Is.True);
            Assert.That(again.HistoryWritten, Is.False);
            Assert.That(history, Has.Count.EqualTo(1));
            Assert.That(history[0].EntryUnchanged, Is.True);
            Assert.That(history[0].NewState, Is.EqualTo(DndState.Locked));
        });
    }

    [Test]
    public async Task ApplyAsync_activity_updates_the_entry_without_history()
    {
        await Store.ApplyAsync(TenantName, Address, Opened(T0), default);
        await Store.ApplyAsync(TenantName, Address, Delivered(T0.AddMinutes(1)), default);
        var entry = await Store.GetAsync(TenantName, Address, default);
        Assert.Multiple(async () =>
        {
            Assert.That(entry!.LastOpenedAt, Is.EqualTo(T0));
            Assert.That(entry.LastDeliveredAt, Is.EqualTo(T0.AddMinutes(1)));
            Assert.That(await _harness.HistoryAsync(Address), Is.Empty);
        });
    }

    [Test]
    public async Task ApplyAsync_round_trips_every_part_of_the_entry_for_an_address_with_forbidden_key_characters()
    {
        const string address = "o'brien/sales#1?x@example.net";
        var changes = new[]
        {
            Change(HardData(T0, address: address)), Change(SoftData(T0.AddHours(1), "m1", address: address)),
            Change(SoftData(T0.AddHours(2), "m2", address: address)), Change(SimpleData("complained", T0.AddHours(3), address: address)),
            Change(SimpleData("delivered", T0.AddHours(4), address: address)), Change(SimpleData("opened", T0.AddHours(5), address: address)),
            Change(SimpleData("clicked", T0.AddHours(6), address: address)),
            DndChange.Reenable(T0.AddHours(7), "ops", "checked"), DndChange.AdminOverride(T0.AddHours(8), "admin", "ticket 7"),
        };
        foreach (var c in changes)
        {
            await Store.ApplyAsync(TenantName, address, c, default);
        }

        var stored = await Store.GetAsync(TenantName, address, default);
        var expected = changes.Aggregate(DndEntry.Empty(TenantName, address), (e, c) => e.Apply(c));
        var row = await RowAsync(address);
        Assert.Multiple(() =>
        {
            Assert.That(stored, Is.EqualTo(expected));
            Assert.That(stored!.Context!.ContactId, Is.EqualTo("c-123"));
            Assert.That(stored.Context.Tags, Is.Empty, "the latest event (clicked) carries no tags");
            Assert.That(row.RowKey, Is.EqualTo("o'brien%2Fsales%231%3Fx@example.net"));
            Assert.That(row.GetString("Address"), Is.EqualTo(address));
            Assert.That(row.GetString("State"), Is.EqualTo("none"));
        });
    }

    [Test]
    public async Task ApplyAsync_from_eight_concurrent_writers_loses_no_update()
    {
        var changes = new[]
        {
            Hard(T0), Soft(T0.AddHours(1), "m1"), Soft(T0.AddHours(2), "m2"), Complaint(T0.AddHours(3)),
            Delivered(T0.AddHours(4)), Opened(T0.AddHours(5)), Clicked(T0.AddHours(6)), Unsubscribe(T0.AddHours(7)),
        };
        string connection = await Azurite.SharedConnectionStringAsync();
        var configuration = TestSettings.Configuration(connection);
        // Separate clients and stores: as two queue instances would have.
        var stores = changes.Select(_ => new DndStore(new StorageClients(configuration, new StorageOptions()), _harness.Time,
            Options.Create(new DndOptions()), NullLogger<DndStore>.Instance)).ToArray();
        using var go = new ManualResetEventSlim();
        var tasks = changes.Select((c, i) => Task.Run(async () =>
        {
            go.Wait();
            return await stores[i].ApplyAsync(TenantName, Address, c, default);
        })).ToArray();
        go.Set();
        await Task.WhenAll(tasks);

        var stored = await Store.GetAsync(TenantName, Address, default);
        var history = await _harness.HistoryAsync(Address);
        Assert.Multiple(() =>
        {
            Assert.That(stored, Is.EqualTo(Fold(changes) with { Tenant = TenantName }));
            Assert.That(history.Select(h => h.ChangeKey), Is.EquivalentTo(changes.Where(c => c.HasDndMeaning).Select(c => c.Key)));
            Assert.That(DndPolicy.Evaluate(stored!, T0.AddDays(1), new DndOptions()).State, Is.EqualTo(DndState.Locked));
        });
    }

    [Test]
    public async Task GetStatusAsync_temporary_ends_at_its_expiry()
    {
        var soft = Soft(_harness.Time.GetUtcNow().AddMinutes(-5), "m1");
        var applied = await Store.ApplyAsync(TenantName, Address, soft, default);
        var options = new DndOptions();
        var row = await RowAsync(Address);
        Assert.Multiple(() =>
        {
            Assert.That(applied.Current.State, Is.EqualTo(DndState.Temporary));
            Assert.That(row.GetString("State"), Is.EqualTo("temporary"));
            Assert.That(row.GetDateTimeOffset("TemporaryUntil"), Is.EqualTo(soft.At + options.TemporaryDuration));
        });

        _harness.Time.Advance(options.TemporaryDuration - TimeSpan.FromMinutes(6));
        Assert.That((await Store.GetStatusAsync(TenantName, Address, default)).Status.State, Is.EqualTo(DndState.Temporary));
        _harness.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.That((await Store.GetStatusAsync(TenantName, Address, default)).Status.State, Is.EqualTo(DndState.None));
    }

    [Test]
    public async Task ReenableAsync_clears_permanent_and_is_recorded_with_the_operator()
    {
        await Store.ApplyAsync(TenantName, Address, Hard(T0), default);
        _harness.Time.Advance(TimeSpan.FromHours(1));
        var result = await Store.ReenableAsync(TenantName, Address, "ops@example.com", "contact confirmed mailbox", adminOverride: false, default);
        var history = await _harness.HistoryAsync(Address);
        Assert.Multiple(() =>
        {
            Assert.That(result.Outcome, Is.EqualTo(DndApplyOutcome.Applied));
            Assert.That(result.Previous.State, Is.EqualTo(DndState.Permanent));
            Assert.That(result.Current.State, Is.EqualTo(DndState.None));
            Assert.That(history[0].Source, Is.EqualTo(DndChangeSource.Operator));
            Assert.That(history[0].Actor, Is.EqualTo("ops@example.com"));
            Assert.That(history[0].Explanation, Is.EqualTo("contact confirmed mailbox"));
            Assert.That(history[0].NewState, Is.EqualTo(DndState.None));
        });
    }

    [Test]
    public async Task ReenableAsync_refuses_a_locked_address_without_override_and_unlocks_with_it()
    {
        await Store.ApplyAsync(TenantName, Address, Complaint(T0), default);
        var refused = await Store.ReenableAsync(TenantName, Address, "ops", "please", adminOverride: false, default);
        Assert.That(refused.Outcome, Is.EqualTo(DndApplyOutcome.Refused));
        Assert.That((await Store.GetStatusAsync(TenantName, Address, default)).Status.State, Is.EqualTo(DndState.Locked));
        Assert.That(await _harness.HistoryAsync(Address), Has.Count.EqualTo(1));

        _harness.Time.Advance(TimeSpan.FromDays(1));
        var overridden = await Store.ReenableAsync(TenantName, Address, "admin", "complaint was a test (ticket 42)", adminOverride: true, default);
        var history = await _harness.HistoryAsync(Address);
        Assert.Multiple(() =>
        {
            Assert.That(overridden.Current.State, Is.EqualTo(DndState.None));
            Assert.That(history[0].Kind, Is.EqualTo(DndChangeKind.AdminOverride));
            Assert.That(history[0].PreviousState, Is.EqualTo(DndState.Locked));
        });
    }

    [Test]
    public async Task UnsubscribeAsync_from_the_platform_link_is_permanent_and_a_double_submit_is_one_change()
    {
        var first = await Store.UnsubscribeAsync(TenantName, Address, "link-token-9", default);
        var second = await Store.UnsubscribeAsync(TenantName, Address, "link-token-9", default);
        var history = await _harness.HistoryAsync(Address);
        Assert.Multiple(() =>
        {
            Assert.That(first.Current.State, Is.EqualTo(DndState.Permanent));
            Assert.That(second.Outcome, Is.EqualTo(DndApplyOutcome.Unchanged));
            Assert.That(history, Has.Count.EqualTo(1));
            Assert.That(history[0].Source, Is.EqualTo(DndChangeSource.PlatformLink));
            Assert.That(history[0].Rule, Is.EqualTo("platform-unsubscribe"));
        });
    }

    [Test]
    public async Task ListAsync_returns_every_entry_of_the_tenant_and_HistoryAsync_is_newest_first()
    {
        var addresses = Enumerable.Range(0, 5).Select(i => $"user{i}@example.net").ToArray();
        foreach (string a in addresses)
        {
            await Store.ApplyAsync(TenantName, a, Opened(T0), default);
        }

        string otherTenant = ProcessingHarness.NewTenant();
        await Store.ApplyAsync(otherTenant, addresses[0], Opened(T0), default);
        await Store.ApplyAsync(TenantName, Address, Soft(T0, "m1"), default);
        await Store.ApplyAsync(TenantName, Address, Hard(T0.AddDays(2)), default);
        await Store.ApplyAsync(TenantName, Address, Soft(T0.AddDays(1), "m2"), default);

        var listed = new List<DndEntry>();
        await foreach (var e in Store.ListAsync(TenantName, default))
        {
            listed.Add(e);
        }

        var all = new List<DndEntry>();
        await foreach (var e in Store.ListAllAsync(default))
        {
            all.Add(e);
        }

        var history = await _harness.HistoryAsync(Address);
        Assert.Multiple(() =>
        {
            Assert.That(listed.Select(e => e.Address), Is.EquivalentTo(addresses.Append(DndKeys.NormalizeAddress(Address))));
            Assert.That(all.Where(e => e.Tenant == TenantName || e.Tenant == otherTenant), Has.Exactly(7).Items);
            Assert.That(history.Select(h => h.At), Is.EqualTo(new[] { T0.AddDays(2), T0.AddDays(1), T0 }));
        });
    }
}
