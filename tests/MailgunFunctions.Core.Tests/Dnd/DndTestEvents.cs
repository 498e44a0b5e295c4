using MailgunFunctions.Dnd;
using MailgunFunctions.Events;
using MailgunFunctions.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Dnd;

/// <summary>Realistic events (built with the shared webhook builders and the real parser) turned into DND changes.</summary>
internal static class DndTestEvents
{
    public const string Tenant = "mg.example.com";
    public const string Address = "Jane.Doe@Example.net";
    public static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly FakeEventClassifier Classifier = new();

    public static MailgunEvent Event(JObject data) => MailgunEventParser.Parse(data);

    public static DndChange Change(JObject data) => DndChange.FromEvent(Event(data), Classifier.Classify(Event(data)))
        ?? throw new InvalidOperationException("no change for " + data["event"]);

    public static JObject HardData(DateTimeOffset at, string? id = null, string address = Address) => Stable(SignedWebhook.Failed(address, at, id: id));

    public static JObject SoftData(DateTimeOffset at, string messageId, string? id = null, string address = Address)
    {
        var data = SignedWebhook.Failed(address, at, code: 452, message: "4.2.2 The email account that you tried to reach is over quota.", severity: "temporary", reason: "generic", id: id);
        data["message"]!["headers"]!["message-id"] = messageId;
        return data;
    }

    public static JObject SimpleData(string type, DateTimeOffset at, string? id = null, string address = Address) => Stable(SignedWebhook.Simple(type, address, at, id));

    /// <summary>The same event identity always carries the same message id, as a re-delivered Mailgun event does.</summary>
    private static JObject Stable(JObject data)
    {
        data["message"]!["headers"]!["message-id"] = $"{data["event"]}-{data["id"]}-{data["timestamp"]}@mg.example.com";
        return data;
    }

    public static DndChange Hard(DateTimeOffset at, string? id = null) => Change(HardData(at, id));
    public static DndChange Soft(DateTimeOffset at, string messageId, string? id = null) => Change(SoftData(at, messageId, id));
    public static DndChange Complaint(DateTimeOffset at, string? id = null) => Change(SimpleData("complained", at, id));
    public static DndChange Unsubscribe(DateTimeOffset at, string? id = null) => Change(SimpleData("unsubscribed", at, id));
    public static DndChange Delivered(DateTimeOffset at, string? id = null) => Change(SimpleData("delivered", at, id));
    public static DndChange Opened(DateTimeOffset at, string? id = null) => Change(SimpleData("opened", at, id));
    public static DndChange Clicked(DateTimeOffset at, string? id = null) => Change(SimpleData("clicked", at, id));

    /// <summary>A failure that is the sender's problem (DMARC, 5.7.26): remembered as activity, never the contact's fault.</summary>
    public static DndChange SenderSide(DateTimeOffset at, string? id = null) =>
        Change(Stable(SignedWebhook.Failed(Address, at, code: 550, message: "5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy", id: id)));

    public static DndEntry Fold(IEnumerable<DndChange> changes) => changes.Aggregate(DndEntry.Empty(Tenant, Address), (e, c) => e.Apply(c));
}
