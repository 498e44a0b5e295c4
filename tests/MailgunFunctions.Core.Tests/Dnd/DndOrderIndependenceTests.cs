using FsCheck;
using FsCheck.Fluent;
using MailgunFunctions.Dnd;
using static MailgunFunctions.Tests.Dnd.DndTestEvents;

namespace MailgunFunctions.Tests.Dnd;

/// <summary>
/// The final state depends only on the set of events and the clock: any order and any duplication of the same
/// events give the same aggregate and the same evaluated state.
/// </summary>
public class DndOrderIndependenceTests
{
    private static readonly DndOptions Options = new();

    /// <summary>Times at which the evaluated state is compared: before, during and long after the events.</summary>
    internal static readonly DateTimeOffset[] Clocks = [T0, T0.AddDays(3), T0.AddDays(10), T0.AddDays(20), T0.AddDays(40), T0.AddDays(400)];

    [FsCheck.NUnit.Property(Arbitrary = [typeof(DndArbitraries)], MaxTest = 300)]
    public bool Same_events_in_any_order_and_any_repetition_give_the_same_entry_and_state(EventOrders orders)
    {
        var first = Fold(orders.First);
        var second = Fold(orders.Second);
        return first.Equals(second)
            && Clocks.All(now => DndPolicy.Evaluate(first, now, Options) == DndPolicy.Evaluate(second, now, Options));
    }

    [FsCheck.NUnit.Property(Arbitrary = [typeof(DndArbitraries)], MaxTest = 300)]
    public bool Joining_the_entries_of_two_parts_of_the_events_gives_the_entry_of_all_of_them(EventOrders orders)
    {
        int half = orders.First.Length / 2;
        var left = Fold(orders.First[..half]);
        var right = Fold(orders.First[half..]);
        var all = Fold(orders.Second);
        return left.Join(right).Equals(all) && right.Join(left).Equals(all) && all.Join(all).Equals(all);
    }

    [Test]
    public void Property_input_really_reorders_and_duplicates()
    {
        // Guards the generator: a property fed identical sequences would prove nothing.
        var samples = DndArbitraries.Orders().Generator.Sample(50, 30);
        Assert.Multiple(() =>
        {
            Assert.That(samples.Any(s => s.First.Length != s.Second.Length), Is.True, "duplicates");
            Assert.That(samples.Any(s => s.Second.Length > 2 && !s.First.Distinct().SequenceEqual(s.Second.Distinct())), Is.True, "permutations");
        });
    }

    [Test]
    public void Property_input_holds_every_kind_of_change_clicks_and_sender_side_failures_included()
    {
        // Guards the generator: a kind it stops making is a kind the properties stop checking.
        var kinds = MailgunFunctions.Testing.HostileInput.Sample(DndArbitraries.Change(), seed: 30, count: 2_000).Select(c => c.Kind).ToList();
        var shares = DndArbitraries.GeneratedKinds.ToDictionary(k => k, k => kinds.Count(x => x == k) / (double)kinds.Count);
        TestContext.Out.WriteLine(string.Join(", ", shares.Select(s => $"{s.Key} {s.Value:P1}")));
        Assert.Multiple(() =>
        {
            foreach (var (kind, share) in shares)
            {
                Assert.That(share, Is.GreaterThanOrEqualTo(0.02), $"{kind}: at least 2% of the generated changes");
            }

            Assert.That(kinds.Distinct(), Is.SubsetOf(DndArbitraries.GeneratedKinds), "no kind the list above leaves out");
            var sequences = MailgunFunctions.Testing.HostileInput.Sample(DndArbitraries.Orders().Generator, seed: 31, count: 300, size: 30);
            Assert.That(sequences.Count(s => s.First.Any(c => c.Kind == DndChangeKind.Clicked)) / 300.0, Is.GreaterThanOrEqualTo(0.3), "clicks are in many runs of the property");
        });
    }
}

/// <summary>One set of events in two arrangements: <see cref="First"/> shuffled with duplicates, <see cref="Second"/> shuffled.</summary>
public sealed record EventOrders(DndChange[] First, DndChange[] Second)
{
    public override string ToString() => $"{First.Length} vs {Second.Length}: " + string.Join(", ", Second.Select(c => $"{c.Kind}@{(c.At - T0).TotalHours:F1}h"));
}

public static class DndArbitraries
{
    private static readonly string[] MailgunIds = ["id-a", "id-b", "id-c"];

    /// <summary>The kinds <see cref="Change"/> makes, each often enough that a property run of 300 cases meets it many times.</summary>
    public static readonly DndChangeKind[] GeneratedKinds =
    [
        DndChangeKind.Complaint, DndChangeKind.PermanentCause, DndChangeKind.SoftBounce, DndChangeKind.Delivered, DndChangeKind.Opened, DndChangeKind.Clicked,
        DndChangeKind.Activity, DndChangeKind.Reenable, DndChangeKind.AdminOverride,
    ];

    /// <summary>
    /// Events over 30 days, few message ids and Mailgun ids (so retries of one message, equal ids on different days
    /// and equal times all happen), plus operator re-enables and overrides: every kind of change an event or an operator
    /// makes (<see cref="GeneratedKinds"/>; <see cref="DndChangeKind.Exempted"/> needs an allowlist and has its own tests).
    /// </summary>
    public static Gen<DndChange> Change()
    {
        var minutes = Gen.Choose(0, 60 * 24 * 30).Select(m => T0.AddMinutes(m - m % 90));
        var message = Gen.Elements("m1", "m2", "m3", "m4", "m5");
        var id = Gen.Elements(MailgunIds);
        return Gen.Frequency(
            (2, minutes.Zip(id, (t, i) => Complaint(t, i))),
            (2, minutes.Zip(id, (t, i) => Unsubscribe(t, i))),
            (3, minutes.Zip(id, (t, i) => Hard(t, i))),
            (8, minutes.Zip(message, (t, m) => Soft(t, m))),
            (4, minutes.Zip(id, (t, i) => Delivered(t, i))),
            (2, minutes.Zip(id, (t, i) => Opened(t, i))),
            (2, minutes.Zip(id, (t, i) => Clicked(t, i))),
            (1, minutes.Zip(id, (t, i) => SenderSide(t, i))),
            (2, minutes.Select(t => DndChange.Reenable(t, "ops", "re-enable"))),
            (1, minutes.Select(t => DndChange.AdminOverride(t, "admin", "override"))));
    }

    public static Arbitrary<EventOrders> Orders()
    {
        var gen =
            from events in Gen.ListOf(Change())
            from duplicates in Gen.SubListOf<DndChange>(events.ToArray())
            from first in Gen.Shuffle<DndChange>(events.Concat(duplicates).Concat(duplicates.Take(2)).ToArray())
            from second in Gen.Shuffle<DndChange>(events.ToArray())
            select new EventOrders(first.ToArray(), second.ToArray());
        return gen.ToArbitrary();
    }
}
