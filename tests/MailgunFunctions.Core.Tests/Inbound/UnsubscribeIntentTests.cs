using MailgunFunctions.Inbound;

namespace MailgunFunctions.Tests.Inbound;

public class UnsubscribeIntentTests
{
    // English
    [TestCase("STOP")]
    [TestCase("Unsubscribe")]
    [TestCase("Please unsubscribe me.")]
    [TestCase("Please remove me from your mailing list.")]
    [TestCase("Take me off this list, thanks")]
    [TestCase("Stop sending me these emails!")]
    // Spanish
    [TestCase("Baja")]
    [TestCase("Por favor, darme de baja.")]
    [TestCase("Quiero darme de baja de esta lista")]
    [TestCase("Quítenme de su lista por favor")]
    // French
    [TestCase("Je souhaite me désabonner")]
    [TestCase("Merci de me désinscrire de cette liste.")]
    [TestCase("Désinscrivez-moi svp")]
    // German
    [TestCase("Bitte abmelden")]
    [TestCase("Bitte tragen Sie mich aus dem Verteiler aus.")]
    [TestCase("Ich möchte mich austragen")]
    [TestCase("Bitte melden Sie mich ab")]
    // Portuguese
    [TestCase("Quero descadastrar meu e-mail")]
    [TestCase("Por favor, cancelar inscrição")]
    [TestCase("Descadastre-me, obrigado")]
    public void Request_on_the_first_line_is_found(string line)
    {
        Assert.That(UnsubscribeIntent.Find(line + "\n\nJane"), Is.EqualTo(line));
    }

    [Test]
    public void Request_in_a_later_sentence_of_a_short_line_is_found_and_the_whole_line_quoted()
    {
        string line = "Hello. Please remove me from your list.";
        Assert.That(UnsubscribeIntent.Find("Hi team,\n" + line), Is.EqualTo(line));
    }

    [TestCase("Don't stop sending me offers, they are great!")]
    [TestCase("I do not want to unsubscribe, I love these.")]
    [TestCase("No quiero darme de baja, solo cambiar mi correo.")]
    [TestCase("Je ne veux pas me désabonner.")]
    [TestCase("Ich möchte mich nicht abmelden.")]
    [TestCase("Não quero descadastrar meu e-mail.")]
    [TestCase("The unsubscribe link in your footer is broken.")]
    [TestCase("We need to stop at the warehouse before Monday.")]
    [TestCase("La baja de precios es interesante.")]
    [TestCase("Could you remove the second item from my order and send the rest?")]
    [TestCase("Thanks, see you at the stop near the station.")]
    [TestCase("I mentioned to my colleague that she could unsubscribe from the old newsletter if she wanted to, but I certainly enjoy yours")]
    public void Ordinary_sentences_are_not_requests(string line)
    {
        Assert.That(UnsubscribeIntent.Find(line), Is.Null);
    }

    [Test]
    public void Request_below_the_first_lines_is_not_read()
    {
        string text = "Line one.\nLine two.\nLine three.\nLine four.\nLine five.\nUnsubscribe";
        Assert.That(UnsubscribeIntent.Find(text), Is.Null);
    }
}
