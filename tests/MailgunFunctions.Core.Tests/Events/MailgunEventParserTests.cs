using MailgunFunctions.Events;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Events;

public class MailgunEventParserTests
{
    [Test]
    public void Parse_reads_the_documented_failed_sample()
    {
        var data = JObject.Parse("""
        {"event":"failed","id":"pl271FzxTTmGRW8Uj3dUWw","timestamp":1529006854.329574,"log-level":"error",
         "severity":"permanent","reason":"suppress-bounce","recipient":"joan@example.com","recipient-domain":"example.com",
         "envelope":{"sender":"bounce@mg.example.org","transport":"smtp"},
         "delivery-status":{"attempt-no":1,"message":"","code":605,"description":"Not delivering to previously bounced address","session-seconds":0.0,
                            "enhanced-code":"5.1.1","bounce-code":"5.1.1","bounce-type":"hard"},
         "message":{"headers":{"to":"joan@example.com","message-id":"<20180622211249.1.2A6098970A380E12@example.org>","from":"john@example.org","subject":"Test Subject"}},
         "flags":{"is-authenticated":true,"is-test-mode":false,"is-delayed-bounce":true},
         "tags":["a","b"],"user-variables":{"contactId":"123","n":5}}
        """);

        var e = MailgunEventParser.Parse(data);

        Assert.Multiple(() =>
        {
            Assert.That(e.EventType, Is.EqualTo("failed"));
            Assert.That(e.Timestamp, Is.EqualTo(DateTimeOffset.FromUnixTimeMilliseconds(1529006854330)));
            Assert.That(e.Severity, Is.EqualTo("permanent"));
            Assert.That(e.Reason, Is.EqualTo("suppress-bounce"));
            Assert.That(e.DeliveryStatus!.Code, Is.EqualTo(605));
            Assert.That(e.DeliveryStatus.EnhancedCode, Is.EqualTo("5.1.1"));
            Assert.That(e.DeliveryStatus.BounceType, Is.EqualTo("hard"));
            Assert.That(e.MessageId, Is.EqualTo("20180622211249.1.2A6098970A380E12@example.org"));
            Assert.That(e.SendingDomain, Is.EqualTo("mg.example.org"));
            Assert.That(e.IsDelayedBounce, Is.True);
            Assert.That(e.Tags, Is.EqualTo(new[] { "a", "b" }));
            Assert.That(e.UserVariables["contactId"], Is.EqualTo("123"));
            Assert.That(e.UserVariables["n"], Is.EqualTo("5"));
        });
    }

    [TestCase("\"550\"", 550)]
    [TestCase("550", 550)]
    [TestCase("\"5.5.0\"", null)]
    [TestCase("null", null)]
    [TestCase("99999999999999999999999", null)]
    public void Parse_reads_the_code_as_number_or_string(string code, int? expected)
    {
        var data = JObject.Parse("{\"event\":\"failed\",\"id\":\"x\",\"timestamp\":1,\"delivery-status\":{\"code\":" + code + "}}");
        Assert.That(MailgunEventParser.Parse(data).DeliveryStatus!.Code, Is.EqualTo(expected));
    }

    [Test]
    public void Parse_takes_the_domain_from_mail_from_or_the_storage_url_when_the_sender_is_missing()
    {
        var fromMailFrom = JObject.Parse("""{"event":"delivered","id":"x","timestamp":1,"envelope":{"mail-from":"b@Mg.Example.com"}}""");
        var fromStorage = JObject.Parse("""{"event":"delivered","id":"x","timestamp":1,"storage":{"url":"https://se.api.mailgun.net/v3/domains/mg.shop.io/messages/abc"}}""");
        var none = JObject.Parse("""{"event":"delivered","id":"x","timestamp":1}""");
        Assert.That(MailgunEventParser.Parse(fromMailFrom).SendingDomain, Is.EqualTo("mg.example.com"));
        Assert.That(MailgunEventParser.Parse(fromStorage).SendingDomain, Is.EqualTo("mg.shop.io"));
        Assert.That(MailgunEventParser.Parse(none).SendingDomain, Is.Null);
    }

    [Test]
    public void Parse_falls_back_to_the_to_header_for_rejected_events_without_recipient()
    {
        var data = JObject.Parse("""{"event":"rejected","id":"x","timestamp":1,"reject":{"reason":"r","description":"d"},"message":{"headers":{"to":"bob@example.com"}}}""");
        var e = MailgunEventParser.Parse(data);
        Assert.That((e.Recipient, e.RejectReason), Is.EqualTo(("bob@example.com", "r")));
    }

    [TestCase("""{"id":"x","timestamp":1}""", "event_missing")]
    [TestCase("""{"event":"","id":"x","timestamp":1}""", "event_missing")]
    [TestCase("""{"event":"failed","id":"x"}""", "timestamp_missing")]
    [TestCase("""{"event":"failed","id":"x","timestamp":"soon"}""", "timestamp_missing")]
    [TestCase("""{"event":"failed","id":"x","timestamp":-5}""", "timestamp_out_of_range")]
    [TestCase("""{"event":"failed","id":"x","timestamp":1e300}""", "timestamp_out_of_range")]
    public void Parse_rejects_what_every_event_has_missing(string json, string reason)
    {
        var ex = Assert.Throws<EventFormatException>(() => MailgunEventParser.Parse(JObject.Parse(json)));
        Assert.That(ex!.Reason, Is.EqualTo(reason));
    }

    [Test]
    public void Parse_ignores_wrong_types_in_optional_fields()
    {
        var data = JObject.Parse("""{"event":"failed","id":"x","timestamp":1,"recipient":{"a":1},"tags":"notarray","user-variables":[1],"flags":5,"delivery-status":"x","message":[]}""");
        var e = MailgunEventParser.Parse(data);
        Assert.That((e.Recipient, e.Tags.Count, e.UserVariables.Count, e.DeliveryStatus), Is.EqualTo(((string?)null, 0, 0, (DeliveryStatus?)null)));
    }

    [Test]
    public void Parse_derives_a_stable_id_for_an_event_without_one()
    {
        // Mailgun documents an id on every event; trimmed and older producers omit it. The same event must stay the same change.
        var a = MailgunEventParser.Parse(JObject.Parse("""{"event":"failed","timestamp":1529006854.3,"recipient":"a@example.com"}"""));
        var again = MailgunEventParser.Parse(JObject.Parse("""{"event":"failed","timestamp":1529006854.3,"recipient":"a@example.com"}"""));
        var other = MailgunEventParser.Parse(JObject.Parse("""{"event":"failed","timestamp":1529006854.3,"recipient":"b@example.com"}"""));
        Assert.Multiple(() =>
        {
            Assert.That(a.Id, Does.StartWith("sha256-").And.Length.EqualTo(29));
            Assert.That(again.Id, Is.EqualTo(a.Id));
            Assert.That(other.Id, Is.Not.EqualTo(a.Id));
        });
    }
}
