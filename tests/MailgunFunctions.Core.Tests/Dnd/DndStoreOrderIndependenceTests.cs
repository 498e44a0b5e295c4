using MailgunFunctions.Dnd;
using MailgunFunctions.Tests.Processing;
using static MailgunFunctions.Tests.Dnd.DndTestEvents;

namespace MailgunFunctions.Tests.Dnd;

/// <summary>The order-independence property again, through DndStore on Azurite (fewer cases: each is a few dozen requests).</summary>
public class DndStoreOrderIndependenceTests
{
    private static ProcessingHarness? _harness;

    [OneTimeSetUp]
    public async Task OneTimeSetUp() => _harness = await ProcessingHarness.CreateAsync();

    [OneTimeTearDown]
    public async Task OneTimeTearDown() => await _harness!.DisposeAsync();

    [FsCheck.NUnit.Property(Arbitrary = [typeof(DndArbitraries)], MaxTest = 12, EndSize = 20)]
    public bool Same_events_in_any_order_give_the_same_stored_entry(EventOrders orders) => CheckAsync(orders).GetAwaiter().GetResult();

    private static async Task<bool> CheckAsync(EventOrders orders)
    {
        var store = _harness!.Store;
        string first = ProcessingHarness.NewTenant(), second = ProcessingHarness.NewTenant();
        foreach (var c in orders.First)
        {
            await store.ApplyAsync(first, Address, c, default);
        }

        foreach (var c in orders.Second)
        {
            await store.ApplyAsync(second, Address, c, default);
        }

        var a = await store.GetAsync(first, Address, default);
        var b = await store.GetAsync(second, Address, default);
        var history = new List<DndHistoryRecord>();
        await foreach (var r in store.HistoryAsync(first, Address, default))
        {
            history.Add(r);
        }

        var expected = Fold(orders.Second);
        if (orders.Second.Length == 0)
        {
            return a is null && b is null;
        }

        return a is not null && b is not null
            && a.Equals(expected with { Tenant = first })
            && b.Equals(expected with { Tenant = second })
            && history.Select(h => h.ChangeKey).Order().SequenceEqual(orders.Second.Where(c => c.HasDndMeaning).Select(c => c.Key).Distinct().Order())
            && DndOrderIndependenceTests.Clocks.All(now => DndPolicy.Evaluate(a, now, new DndOptions()) == DndPolicy.Evaluate(b, now, new DndOptions()));
    }
}
