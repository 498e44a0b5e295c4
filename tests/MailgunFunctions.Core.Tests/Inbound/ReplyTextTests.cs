using MailgunFunctions.Inbound;

namespace MailgunFunctions.Tests.Inbound;

public class ReplyTextTests
{
    [TestCase("Sounds good, see you Monday.\n\nOn Tue, 3 Mar 2026 at 10:02, Example News <news@mg.example.com> wrote:\n> Our offers\n> are here")]
    [TestCase("Sounds good, see you Monday.\n\nOn Tue, 3 Mar 2026 at 10:02, Example News <news@mg.example.com>\nwrote:\n> Our offers")]
    [TestCase("Sounds good, see you Monday.\n\nEl mar, 3 mar 2026 a las 10:02, Example News (<news@mg.example.com>) escribió:\n> Nuestras ofertas")]
    [TestCase("Sounds good, see you Monday.\n\nLe mar. 3 mars 2026 à 10:02, Example News <news@mg.example.com> a écrit :\n> Nos offres")]
    [TestCase("Sounds good, see you Monday.\n\nAm Di., 3. März 2026 um 10:02 Uhr schrieb Example News <news@mg.example.com>:\n> Unsere Angebote")]
    [TestCase("Sounds good, see you Monday.\n\nEm ter., 3 de mar. de 2026 às 10:02, Example News <news@mg.example.com> escreveu:\n> Nossas ofertas")]
    [TestCase("Sounds good, see you Monday.\n\n-----Original Message-----\nFrom: Example News\nSent: Tuesday\n\nOur offers")]
    [TestCase("Sounds good, see you Monday.\n\n________________________________\nFrom: Example News <news@mg.example.com>\nSent: Tuesday, March 3, 2026 10:02 AM\nTo: Jane\nSubject: Our offers")]
    [TestCase("Sounds good, see you Monday.\n\nDe : Example News <news@mg.example.com>\nEnvoyé : mardi 3 mars 2026 10:02\nÀ : Jane")]
    [TestCase("Sounds good, see you Monday.\n-- \nJane Doe\nHead of Purchasing")]
    [TestCase("Sounds good, see you Monday.\n\nSent from my iPhone")]
    [TestCase("Sounds good, see you Monday.\n\nVon meinem iPhone gesendet")]
    public void Quoted_history_and_signature_are_cut(string body)
    {
        Assert.That(ReplyText.NewText(body), Is.EqualTo("Sounds good, see you Monday."));
    }

    [Test]
    public void Inline_answers_between_quoted_lines_are_kept()
    {
        string body = "> Will you come on Monday?\nYes.\n> And bring the contract?\nOf course.\r\n";
        Assert.That(ReplyText.NewText(body), Is.EqualTo("Yes.\nOf course."));
    }

    [Test]
    public void Html_reply_loses_its_blockquote_and_markup()
    {
        string html = "<html><head><style>p{color:red}</style></head><body><div dir=\"ltr\">Count me in!<br>Jane &amp; Tom</div>" +
            "<div class=\"gmail_quote\"><div class=\"gmail_attr\">On Tue, 3 Mar 2026 at 10:02, Example News &lt;news@mg.example.com&gt; wrote:<br></div>" +
            "<blockquote class=\"gmail_quote\">Our <b>spring</b> offers</blockquote></div></body></html>";
        Assert.That(ReplyText.NewTextFromHtml(html), Is.EqualTo("Count me in!\nJane & Tom"));
    }

    [Test]
    public void A_sentence_mentioning_from_is_not_an_outlook_header()
    {
        string body = "From: the purchasing team, thanks!\nWe will order next week.";
        Assert.That(ReplyText.NewText(body), Is.EqualTo(body));
    }
}
