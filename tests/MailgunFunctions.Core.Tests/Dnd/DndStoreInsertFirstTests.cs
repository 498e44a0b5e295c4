using Azure.Core;
using Azure.Data.Tables;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.Processing;
using static MailgunFunctions.Tests.Dnd.DndTestEvents;

namespace MailgunFunctions.Tests.Dnd;

/// <summary>
/// The insert-first order (<see cref="NewAddressRate"/>): cheaper for runs of never-seen addresses, and the same entries and
/// history as reading first, whatever it meets (known addresses, duplicates, older events, locked addresses).
/// </summary>
public class DndStoreInsertFirstTests
{
    private ProcessingHarness _harness = null!;
    private StorageRequestCounter _counter = null!;

    [SetUp]
    public async Task SetUp()
    {
        _harness = await ProcessingHarness.CreateAsync();
        _counter = new StorageRequestCounter();
    }

    [TearDown]
    public async Task TearDown() => await _harness.DisposeAsync();

    private Task<DndStore> NewStoreAsync() => _harness.StoreWithAsync(_counter, HttpPipelinePosition.PerRetry);

    [Test]
    public void The_rate_starts_on_read_first_turns_to_insert_first_on_a_run_of_new_addresses_and_back_on_known_ones()
    {
        var rate = new NewAddressRate();
        bool atStart = rate.InsertFirst("t");
        int toInsertFirst = 0;
        while (!rate.InsertFirst("t"))
        {
            rate.Observe("t", foundNoEntry: true);
            toInsertFirst++;
        }

        int backToReadFirst = 0;
        while (rate.InsertFirst("t"))
        {
            rate.Observe("t", foundNoEntry: false);
            backToReadFirst++;
        }

        Assert.Multiple(() =>
        {
            Assert.That(atStart, Is.False);
            Assert.That(toInsertFirst, Is.InRange(15, 40));
            Assert.That(backToReadFirst, Is.InRange(1, 10));
            Assert.That(rate.InsertFirst("other"), Is.False, "per tenant");
        });
    }

    [Test]
    public async Task A_run_of_never_seen_addresses_costs_two_requests_per_change()
    {
        var store = await NewStoreAsync();
        for (int n = 0; n < 40; n++)
        {
            await store.ApplyAsync(_harness.Tenant, $"warm{n}@example.net", Hard(T0), default);
        }

        _counter.Reset();
        const int addresses = 20;
        for (int n = 0; n < addresses; n++)
        {
            await store.ApplyAsync(_harness.Tenant, $"new{n}@example.net", Hard(T0), default);
        }

        // The history insert and the entry insert; a marker read at most every 3 seconds for the tenant.
        Assert.That(_counter.Requests, Is.InRange(2 * addresses, 2 * addresses + 3));
    }

    [Test]
    public async Task Insert_first_writes_the_same_entries_and_history_as_reading_first()
    {
        // One store keeps its rate (and turns to insert-first after the run of new addresses); the other side applies every
        // change through a new store, which always reads first. Same changes, two tenants, compared row for row.
        string readFirstTenant = ProcessingHarness.NewTenant();
        var changes = new List<(string Address, DndChange Change)>();
        for (int n = 0; n < 40; n++)
        {
            changes.Add(($"run{n}@example.net", n % 3 == 0 ? Soft(T0.AddMinutes(n), "m" + n) : Hard(T0.AddMinutes(n))));
        }

        changes.AddRange(
        [
            ("run1@example.net", Complaint(T0.AddHours(2))),            // known address, state moves to locked
            ("run1@example.net", Hard(T0.AddHours(3))),                 // known and locked: permanent under the lock
            ("run2@example.net", Hard(T0.AddMinutes(2))),               // a duplicate of an applied change
            ("run4@example.net", Hard(T0.AddMinutes(-30))),             // an older event than what the entry holds
            ("run0@example.net", Soft(T0.AddHours(1), "m-late")),       // a second soft bounce of a known address
            ("run5@example.net", Delivered(T0.AddHours(4))),            // activity on a known address
            ("brand-new@example.net", Unsubscribe(T0.AddHours(5))),     // and one more never-seen address
        ]);

        var kept = await NewStoreAsync();
        long before = _counter.Requests;
        foreach (var (address, change) in changes)
        {
            await kept.ApplyAsync(_harness.Tenant, address, change, default);
        }

        long insertFirstRequests = _counter.Requests - before;
        foreach (var (address, change) in changes)
        {
            await (await NewStoreAsync()).ApplyAsync(readFirstTenant, address, change, default);
        }

        var expected = await RowsAsync(readFirstTenant);
        var actual = await RowsAsync(_harness.Tenant);
        Assert.Multiple(() =>
        {
            Assert.That(actual, Is.EqualTo(expected));
            // Each soft bounce also writes the expiry index row of its temporary DND (docs/change-feed.md), read-first or not.
            Assert.That(insertFirstRequests - changes.Count(c => c.Change.Kind == DndChangeKind.SoftBounce), Is.LessThan(3 * changes.Count),
                "insert-first was used for part of the run");
        });
    }

    /// <summary>Every entry and history row of a tenant as text, keys included, tenant names and storage columns left out.</summary>
    private static async Task<List<string>> RowsAsync(string tenant)
    {
        var tables = new TableServiceClient(await Azurite.SharedConnectionStringAsync());
        string key = DndKeys.TenantKey(tenant);
        var rows = new List<string>();
        await foreach (var e in tables.GetTableClient(StorageNames.DndEntriesTable).QueryAsync<TableEntity>(x => x.PartitionKey == key))
        {
            rows.Add(Text(e, tenant));
        }

        string from = key + "|", to = key + "}";
        await foreach (var e in tables.GetTableClient(StorageNames.DndHistoryTable).QueryAsync<TableEntity>(x => x.PartitionKey.CompareTo(from) > 0 && x.PartitionKey.CompareTo(to) < 0))
        {
            rows.Add(Text(e, tenant));
        }

        return rows;
    }

    private static string Text(TableEntity e, string tenant) =>
        string.Join("; ", e.Keys.Where(k => k is not ("Timestamp" or "odata.etag" or "Tenant")).Order(StringComparer.Ordinal)
            .Select(k => $"{k}={Convert.ToString(e[k] is DateTimeOffset d ? d.ToString("O") : k == "Notice" ? WithoutId((string)e[k]) : e[k], System.Globalization.CultureInfo.InvariantCulture)}"))
            .Replace(DndKeys.TenantKey(tenant), "TENANT", StringComparison.Ordinal);

    /// <summary>A change-log notice without its id, which hashes the tenant (the two sides have different tenants).</summary>
    private static string WithoutId(string notice) => (DndNotice.FromJson(notice) with { Id = "ID" }).ToJson();
}
