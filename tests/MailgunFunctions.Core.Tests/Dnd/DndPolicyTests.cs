using MailgunFunctions.Dnd;
using Microsoft.Extensions.Time.Testing;
using static MailgunFunctions.Tests.Dnd.DndTestEvents;

namespace MailgunFunctions.Tests.Dnd;

/// <summary>Every transition of the DND policy, on aggregates built from realistic events.</summary>
public class DndPolicyTests
{
    private static readonly DndOptions Options = new();

    private static DndStatus At(DndEntry entry, DateTimeOffset now) => DndPolicy.Evaluate(entry, now, Options);

    [Test]
    public void Evaluate_empty_entry_is_none()
    {
        Assert.That(At(Fold([]), T0), Is.EqualTo(DndStatus.None));
    }

    [Test]
    public void Evaluate_hard_bounce_is_permanent_with_the_rule()
    {
        var status = At(Fold([Hard(T0)]), T0.AddDays(400));
        Assert.That(status, Is.EqualTo(new DndStatus(DndState.Permanent, T0, null, "fake-hard")));
    }

    [Test]
    public void Evaluate_unsubscribe_is_permanent()
    {
        Assert.That(At(Fold([Unsubscribe(T0)]), T0.AddDays(1)).State, Is.EqualTo(DndState.Permanent));
    }

    [Test]
    public void Evaluate_complaint_is_locked_and_beats_everything()
    {
        var entry = Fold([Soft(T0, "m1"), Hard(T0.AddMinutes(1)), Complaint(T0.AddMinutes(2)), Delivered(T0.AddMinutes(3))]);
        Assert.That(At(entry, T0.AddMinutes(5)), Is.EqualTo(new DndStatus(DndState.Locked, T0.AddMinutes(2), null, DndPolicy.ComplaintReason)));
    }

    [Test]
    public void Evaluate_complaint_before_a_hard_bounce_is_still_locked()
    {
        var entry = Fold([Complaint(T0), Hard(T0.AddDays(1))]);
        Assert.That(At(entry, T0.AddDays(2)).State, Is.EqualTo(DndState.Locked));
    }

    [Test]
    public void Evaluate_permanent_beats_temporary()
    {
        var entry = Fold([Hard(T0), Soft(T0.AddHours(1), "m1")]);
        Assert.That(At(entry, T0.AddHours(2)).State, Is.EqualTo(DndState.Permanent));
    }

    [Test]
    public void Evaluate_soft_bounce_is_temporary_until_its_expiry_then_none()
    {
        var time = new FakeTimeProvider(T0);
        var entry = Fold([Soft(T0, "m1")]);
        DateTimeOffset until = T0 + Options.TemporaryDuration;
        Assert.That(At(entry, time.GetUtcNow()), Is.EqualTo(new DndStatus(DndState.Temporary, T0, until, DndPolicy.SoftBounceReason)));

        time.Advance(Options.TemporaryDuration - TimeSpan.FromMilliseconds(1));
        Assert.That(At(entry, time.GetUtcNow()).State, Is.EqualTo(DndState.Temporary));

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(At(entry, time.GetUtcNow()), Is.EqualTo(DndStatus.None));
    }

    [Test]
    public void Evaluate_later_delivery_ends_temporary_early()
    {
        var entry = Fold([Soft(T0, "m1"), Delivered(T0.AddHours(2))]);
        Assert.That(At(entry, T0.AddHours(3)), Is.EqualTo(DndStatus.None));
    }

    [Test]
    public void Evaluate_earlier_delivery_arriving_late_does_not_end_temporary()
    {
        // Mailgun does not order events: a delivery of an older message may arrive after the soft bounce.
        var entry = Fold([Soft(T0, "m1"), Delivered(T0.AddHours(-2))]);
        Assert.That(At(entry, T0.AddHours(3)).State, Is.EqualTo(DndState.Temporary));
    }

    [Test]
    public void Evaluate_delivery_does_not_end_permanent()
    {
        var entry = Fold([Hard(T0), Delivered(T0.AddDays(1))]);
        Assert.That(At(entry, T0.AddDays(2)).State, Is.EqualTo(DndState.Permanent));
    }

    [Test]
    public void Evaluate_soft_bounces_of_distinct_messages_within_the_window_escalate_to_permanent()
    {
        var entry = Fold([Soft(T0, "m1"), Soft(T0.AddDays(5), "m2"), Soft(T0.AddDays(13), "m3")]);
        Assert.That(At(entry, T0.AddDays(60)), Is.EqualTo(new DndStatus(DndState.Permanent, T0.AddDays(13), null, DndPolicy.EscalationReason)));
    }

    [Test]
    public void Evaluate_retry_attempts_of_one_message_count_once()
    {
        // Mailgun retries a soft-bounced message for hours: ten attempts of one message are one soft-bounced message.
        var attempts = Enumerable.Range(0, 10).Select(i => Soft(T0.AddMinutes(30 * i), "m1")).ToList();
        attempts.Add(Soft(T0.AddDays(1), "m2"));
        var entry = Fold(attempts);
        var status = At(entry, T0.AddDays(1).AddHours(1));
        Assert.Multiple(() =>
        {
            Assert.That(status.State, Is.EqualTo(DndState.Temporary));
            Assert.That(entry.SoftBounces.Select(s => s.MessageId), Is.EquivalentTo(new[] { "m1", "m2" }));
        });
    }

    [Test]
    public void Evaluate_soft_bounces_spread_wider_than_the_window_do_not_escalate()
    {
        var entry = Fold([Soft(T0, "m1"), Soft(T0.AddDays(10), "m2"), Soft(T0.AddDays(20), "m3")]);
        Assert.That(At(entry, T0.AddDays(20).AddHours(1)).State, Is.EqualTo(DndState.Temporary));
    }

    [Test]
    public void Evaluate_escalation_count_is_an_option()
    {
        var entry = Fold([Soft(T0, "m1"), Soft(T0.AddDays(1), "m2")]);
        var twoMessages = new DndOptions { SoftBounceEscalationCount = 2 };
        Assert.That(DndPolicy.Evaluate(entry, T0.AddDays(30), twoMessages).State, Is.EqualTo(DndState.Permanent));
        Assert.That(DndPolicy.Evaluate(entry, T0.AddDays(30), Options).State, Is.EqualTo(DndState.None));
    }

    [Test]
    public void Evaluate_operator_reenable_clears_permanent()
    {
        var entry = Fold([Hard(T0), DndChange.Reenable(T0.AddDays(1), "ops@example.com", "contact confirmed new mailbox")]);
        Assert.That(At(entry, T0.AddDays(2)), Is.EqualTo(DndStatus.None));
    }

    [Test]
    public void Evaluate_reenable_clears_escalation_and_temporary_before_it()
    {
        var entry = Fold([Soft(T0, "m1"), Soft(T0.AddDays(1), "m2"), Soft(T0.AddDays(2), "m3"), DndChange.Reenable(T0.AddDays(2).AddHours(1), "ops", "fixed")]);
        Assert.That(At(entry, T0.AddDays(2).AddHours(2)), Is.EqualTo(DndStatus.None));
    }

    [Test]
    public void Evaluate_permanent_cause_after_a_reenable_is_permanent_again()
    {
        var entry = Fold([Hard(T0), DndChange.Reenable(T0.AddDays(1), "ops", "retry"), Hard(T0.AddDays(2))]);
        Assert.That(At(entry, T0.AddDays(3)), Is.EqualTo(new DndStatus(DndState.Permanent, T0.AddDays(2), null, "fake-hard")));
    }

    [Test]
    public void Evaluate_reenable_never_clears_locked()
    {
        var entry = Fold([Complaint(T0), DndChange.Reenable(T0.AddDays(1), "ops", "please")]);
        Assert.That(At(entry, T0.AddDays(2)).State, Is.EqualTo(DndState.Locked));
    }

    [Test]
    public void Evaluate_admin_override_after_the_complaint_unlocks_and_clears_earlier_causes()
    {
        var entry = Fold([Hard(T0), Complaint(T0.AddHours(1)), DndChange.AdminOverride(T0.AddDays(1), "admin", "complaint filed by mistake (ticket 42)")]);
        Assert.That(At(entry, T0.AddDays(2)), Is.EqualTo(DndStatus.None));
    }

    [Test]
    public void Evaluate_complaint_after_an_admin_override_locks_again()
    {
        var entry = Fold([Complaint(T0), DndChange.AdminOverride(T0.AddDays(1), "admin", "ticket 42"), Complaint(T0.AddDays(2))]);
        Assert.That(At(entry, T0.AddDays(3)), Is.EqualTo(new DndStatus(DndState.Locked, T0.AddDays(2), null, DndPolicy.ComplaintReason)));
    }

    [Test]
    public void Evaluate_platform_unsubscribe_is_permanent()
    {
        var entry = Fold([DndChange.PlatformUnsubscribe(T0, "link-token-1")]);
        Assert.That(At(entry, T0.AddDays(1)), Is.EqualTo(new DndStatus(DndState.Permanent, T0, null, "platform-unsubscribe")));
    }

    [Test]
    public void Evaluate_opens_and_clicks_change_activity_not_state()
    {
        var entry = Fold([Opened(T0), Clicked(T0.AddMinutes(1)), Opened(T0.AddMinutes(5))]);
        Assert.Multiple(() =>
        {
            Assert.That(At(entry, T0.AddHours(1)), Is.EqualTo(DndStatus.None));
            Assert.That(entry.LastOpenedAt, Is.EqualTo(T0.AddMinutes(5)));
            Assert.That(entry.LastClickedAt, Is.EqualTo(T0.AddMinutes(1)));
        });
    }
}
