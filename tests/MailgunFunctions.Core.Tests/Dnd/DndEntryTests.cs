using MailgunFunctions.Dnd;
using static MailgunFunctions.Tests.Dnd.DndTestEvents;

namespace MailgunFunctions.Tests.Dnd;

public class DndEntryTests
{
    [Test]
    public void Apply_twice_is_the_same_as_once()
    {
        var change = Hard(T0);
        var once = Fold([change]);
        Assert.That(once.Apply(change), Is.EqualTo(once));
    }

    [Test]
    public void Apply_keeps_the_earliest_and_latest_complaint()
    {
        var entry = Fold([Complaint(T0.AddDays(1)), Complaint(T0), Complaint(T0.AddDays(2))]);
        Assert.Multiple(() =>
        {
            Assert.That(entry.FirstComplaintAt, Is.EqualTo(T0));
            Assert.That(entry.LatestComplaintAt, Is.EqualTo(T0.AddDays(2)));
        });
    }

    [Test]
    public void Apply_breaks_a_tie_of_equal_times_by_the_change_key_whatever_the_order()
    {
        var a = Hard(T0, id: "a");
        var b = Unsubscribe(T0, id: "b");
        Assert.That(Fold([a, b]).LatestPermanentCause, Is.EqualTo(Fold([b, a]).LatestPermanentCause));
    }

    [Test]
    public void Apply_keeps_context_from_the_latest_event()
    {
        var older = HardData(T0);
        older["user-variables"]!["contactId"] = "old";
        var newer = SimpleData("opened", T0.AddHours(1));
        newer["user-variables"]!["contactId"] = "new";
        var entry = Fold([Change(newer), Change(older)]);
        Assert.Multiple(() =>
        {
            Assert.That(entry.Context!.ContactId, Is.EqualTo("new"));
            Assert.That(entry.LastEvent!.Label, Is.EqualTo("opened"));
            Assert.That(entry.LastEvent.At, Is.EqualTo(T0.AddHours(1)));
        });
    }

    [Test]
    public void Apply_bounds_soft_bounces_to_the_newest_messages()
    {
        var changes = Enumerable.Range(0, DndEntry.SoftBounceCapacity + 10).Select(i => Soft(T0.AddHours(i), "m" + i)).ToArray();
        var entry = Fold(changes.Reverse());
        Assert.Multiple(() =>
        {
            Assert.That(entry.SoftBounces, Has.Count.EqualTo(DndEntry.SoftBounceCapacity));
            Assert.That(entry.SoftBounces[0].MessageId, Is.EqualTo("m" + (DndEntry.SoftBounceCapacity + 9)));
            Assert.That(entry.SoftBounces.Select(s => s.MessageId), Does.Not.Contain("m0"));
            Assert.That(entry, Is.EqualTo(Fold(changes)));
        });
    }

    [Test]
    public void Apply_keeps_the_latest_attempt_of_a_message()
    {
        var entry = Fold([Soft(T0.AddHours(3), "m1"), Soft(T0, "m1")]);
        Assert.That(entry.SoftBounces, Is.EqualTo(new[] { new SoftBounce("m1", T0.AddHours(3)) }));
    }

    [Test]
    public void Equals_sees_a_difference_in_the_soft_bounces()
    {
        Assert.That(Fold([Soft(T0, "m1")]), Is.Not.EqualTo(Fold([Soft(T0, "m2")])));
    }

    [Test]
    public void Apply_hashes_long_message_ids_and_counts_events_without_one_separately()
    {
        string longId = new string('x', 900) + "@mg.example.com";
        var noId = Change(SoftData(T0.AddHours(1), "m"));
        var entry = Fold([Soft(T0, longId), noId with { MessageId = null }]);
        Assert.Multiple(() =>
        {
            Assert.That(entry.SoftBounces.Select(s => s.MessageId.Length), Has.All.LessThanOrEqualTo(128));
            Assert.That(entry.SoftBounces.Count(s => s.MessageId.StartsWith("sha256:", StringComparison.Ordinal)), Is.EqualTo(1));
            Assert.That(entry.SoftBounces.Count(s => s.MessageId == "event:" + noId.Key), Is.EqualTo(1));
        });
    }
}
