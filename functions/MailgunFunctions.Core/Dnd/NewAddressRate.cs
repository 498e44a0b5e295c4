using System.Collections.Concurrent;

namespace MailgunFunctions.Dnd;

/// <summary>
/// How often, lately, a change found no entry for its address, per tenant: a moving average over roughly the last 20
/// changes. It only chooses the order of the storage requests (<see cref="DndStore.ApplyAsync"/>): above
/// <see cref="InsertFirstAbove"/> a change first tries to insert the entry, which costs 2 requests for a never-seen address
/// and about 4 for a known one, against 3 either way when reading first. So a bounce storm of new addresses (a campaign to
/// an old list) is written with the floor's request count, and the usual traffic of known contacts keeps reading first.
/// Both orders give the same entry and history, so a wrong guess costs requests, never correctness.
/// </summary>
internal sealed class NewAddressRate
{
    /// <summary>Break-even is about 0.57 (2p + 4.3(1 - p) = 3); a margin keeps mixed traffic on the cheaper-when-wrong order.</summary>
    public const double InsertFirstAbove = 0.7;

    private const double Weight = 0.05;

    // Bounded like the erasure marks: past this many tenants the averages start again (from "read first").
    private const int MaxTenants = 10_000;

    private readonly ConcurrentDictionary<string, double> _rates = new(StringComparer.Ordinal);

    public bool InsertFirst(string tenantKey) => _rates.TryGetValue(tenantKey, out double rate) && rate >= InsertFirstAbove;

    public void Observe(string tenantKey, bool foundNoEntry)
    {
        if (_rates.Count >= MaxTenants && !_rates.ContainsKey(tenantKey))
        {
            _rates.Clear();
        }

        double sample = foundNoEntry ? 1 : 0;
        _rates.AddOrUpdate(tenantKey, Weight * sample, (_, rate) => rate + Weight * (sample - rate));
    }
}
