using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;
using MailgunFunctions.Testing;
using static MailgunFunctions.Tests.Dnd.DndTestEvents;

namespace MailgunFunctions.Tests.Dnd;

public class DndChangeTests
{
    [Test]
    public void EventKey_differs_for_the_same_mailgun_id_on_another_day()
    {
        // Mailgun's id is unique only within a day.
        var today = Event(HardData(T0, id: "same-id"));
        var tomorrow = Event(HardData(T0.AddDays(1), id: "same-id"));
        Assert.That(DndChange.EventKey(today), Is.Not.EqualTo(DndChange.EventKey(tomorrow)));
    }

    [Test]
    public void EventKey_is_stable_for_a_redelivered_event()
    {
        var data = HardData(T0, id: "id-1");
        Assert.That(DndChange.EventKey(Event(data)), Is.EqualTo(DndChange.EventKey(Event((Newtonsoft.Json.Linq.JObject)data.DeepClone()))));
    }

    [Test]
    public void FromEvent_follows_the_classifier_effect_not_the_event_type()
    {
        var e = Event(SoftData(T0, "m1"));
        // A policy may make a transient code permanent (e.g. 552 mailbox full on the platform): the effect decides.
        var change = DndChange.FromEvent(e, new global::MailgunFunctions.Classification.Classification(BounceCategory.HardBounce, "policy-552", "mailbox full is permanent"));
        Assert.That(change!.Kind, Is.EqualTo(DndChangeKind.PermanentCause));
    }

    [Test]
    public void FromEvent_never_lets_a_sender_side_issue_put_the_contact_in_dnd()
    {
        var e = Event(HardData(T0));
        var change = DndChange.FromEvent(e, new global::MailgunFunctions.Classification.Classification(BounceCategory.SenderIssue, "auth", "DKIM failed"));
        Assert.Multiple(() =>
        {
            Assert.That(change!.Kind, Is.EqualTo(DndChangeKind.Activity));
            Assert.That(change.HasDndMeaning, Is.False);
        });
    }

    [TestCase("accepted")]
    [TestCase("stored")]
    public void FromEvent_skips_events_not_worth_a_write(string type)
    {
        var e = Event(SimpleData(type, T0));
        Assert.That(DndChange.FromEvent(e, new FakeEventClassifier().Classify(e)), Is.Null);
    }

    [Test]
    public void FromEvent_keeps_what_the_platform_needs()
    {
        var data = HardData(T0);
        data["user-variables"]!["campaign"] = "spring";
        var change = Change(data);
        Assert.Multiple(() =>
        {
            Assert.That(change.ContactId, Is.EqualTo("c-123"));
            Assert.That(change.UserVariables["campaign"], Is.EqualTo("spring"));
            Assert.That(change.Tags, Is.EqualTo(new[] { "newsletter" }));
            Assert.That(change.MessageId, Is.EqualTo((string)data["message"]!["headers"]!["message-id"]!));
            Assert.That(change.Code, Is.EqualTo(550));
            Assert.That(change.HasDndMeaning, Is.True);
        });
    }

    [Test]
    public void FromEvent_truncates_a_long_message()
    {
        var data = SignedWebhook.Failed(Address, T0, message: new string('x', 5000));
        Assert.That(Change(data).Message, Has.Length.EqualTo(DndChange.MaxMessageLength));
    }

    [Test]
    public void Activity_changes_have_no_dnd_meaning()
    {
        Assert.That(new[] { Delivered(T0), Opened(T0), Clicked(T0) }.Select(c => c.HasDndMeaning), Is.All.False);
    }

    [Test]
    public void Operator_changes_need_an_actor_and_a_reason()
    {
        Assert.Throws<ArgumentException>(() => DndChange.Reenable(T0, " ", "why"));
        Assert.Throws<ArgumentException>(() => DndChange.AdminOverride(T0, "admin", ""));
    }

    [Test]
    public void FromEvent_bounds_user_variables_to_what_a_table_property_holds()
    {
        var data = HardData(T0);
        for (int i = 0; i < 40; i++)
        {
            data["user-variables"]![$"v{i:D2}"] = new string('\u0001', 2000);
        }

        var vars = Change(data).UserVariables;
        Assert.Multiple(() =>
        {
            Assert.That(vars.Count, Is.InRange(1, DndChange.MaxUserVariables));
            Assert.That(vars.Values.Max(v => v.Length), Is.LessThanOrEqualTo(DndChange.MaxUserVariableLength));
            Assert.That(Newtonsoft.Json.JsonConvert.SerializeObject(vars).Length, Is.LessThan(32 * 1024));
            Assert.That(vars.Keys.First(), Is.EqualTo("contactId"));
        });
    }
}
