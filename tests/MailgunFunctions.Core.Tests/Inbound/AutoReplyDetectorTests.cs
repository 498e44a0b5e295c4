using MailgunFunctions.Inbound;

namespace MailgunFunctions.Tests.Inbound;

public class AutoReplyDetectorTests
{
    private static Func<string, string?> Headers(params (string Name, string Value)[] headers) =>
        name => headers.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    [TestCase("Auto-Submitted", "auto-replied")]
    [TestCase("Auto-Submitted", "auto-generated")]
    [TestCase("Auto-Submitted", "auto-notified; owner-email=\"x@example.org\"")]
    [TestCase("X-Autoreply", "yes")]
    [TestCase("X-Autorespond", "Out of office")]
    [TestCase("Precedence", "auto_reply")]
    [TestCase("Precedence", "bulk")]
    [TestCase("Precedence", "junk")]
    public void Marking_headers_make_an_auto_reply(string name, string value)
    {
        Assert.That(AutoReplyDetector.Detect(Headers((name, value)), "Re: offers", "Thanks"), Does.StartWith("header " + name));
    }

    [TestCase("no")]
    [TestCase("No (written by a person)")]
    [TestCase(" no; reason=test")]
    public void Auto_submitted_no_is_a_human_message(string value)
    {
        Assert.That(AutoReplyDetector.Detect(Headers(("Auto-Submitted", value), ("Precedence", "list")), "Re: offers", "Thanks"), Is.Null);
    }

    [Test]
    public void Auto_submitted_with_a_comment_is_still_automatic()
    {
        Assert.That(AutoReplyDetector.Detect(Headers(("Auto-Submitted", "auto-replied (vacation)")), "Re: offers", "Thanks"), Is.Not.Null);
    }

    [TestCase("Out of Office: Our spring offers")]
    [TestCase("Automatic reply: Our spring offers")]
    [TestCase("Respuesta automática: Nuestras ofertas")]
    [TestCase("Réponse automatique : Nos offres")]
    [TestCase("Abwesenheitsnotiz: Unsere Angebote")]
    [TestCase("Automatische Antwort: Unsere Angebote")]
    [TestCase("Resposta automática: Nossas ofertas")]
    public void Out_of_office_subjects_in_five_languages(string subject)
    {
        Assert.That(AutoReplyDetector.Detect(Headers(), subject, "Some text"), Is.EqualTo("subject"));
    }

    [TestCase("Hello,\nI am currently out of the office until 10 March with limited access to email.")]
    [TestCase("Hola:\nEstoy fuera de la oficina hasta el 10 de marzo.")]
    [TestCase("Bonjour,\nJe suis absente jusqu'au 10 mars.")]
    [TestCase("Guten Tag,\nich bin bis zum 10. März nicht im Büro.")]
    [TestCase("Olá,\nEstou fora do escritório até 10 de março.")]
    public void Out_of_office_wording_without_headers(string text)
    {
        Assert.That(AutoReplyDetector.Detect(Headers(), "Re: offers", text), Is.EqualTo("wording"));
    }

    [TestCase("Re: Our spring offers", "I was out of the office last week, sorry for the late answer. Yes please!")]
    [TestCase("Re: Absence of prices", "Could you send the price list?")]
    public void Human_replies_are_not_auto_replies(string subject, string text)
    {
        Assert.That(AutoReplyDetector.Detect(Headers(), subject, text), Is.Null);
    }
}
