using MailgunFunctions.Classification;

namespace MailgunFunctions.Tests.Classification;

public class ResponseWordsTests
{
    [Test]
    public void Every_phrase_alone_is_found_with_its_own_meaning()
    {
        // Catches a row shadowed by an earlier, more general one that means something else.
        Assert.Multiple(() =>
        {
            for (int rank = 0; rank < ResponseWords.Count; rank++)
            {
                var (phrase, meaning) = ResponseWords.Row(rank);
                var found = ResponseWords.Find($"550 {phrase.ToUpperInvariant()} here", WordsMatch.None);
                Assert.That(found.Meaning, Is.EqualTo(meaning), phrase);
                Assert.That(found.Rank, Is.LessThanOrEqualTo(rank), phrase);
            }
        });
    }

    [Test]
    public void Phrases_are_unique()
    {
        var phrases = Enumerable.Range(0, ResponseWords.Count).Select(r => ResponseWords.Row(r).Phrase);
        Assert.That(phrases, Is.Unique);
    }

    [TestCase("Your mail is verbl0cked")]
    [TestCase("xspf record")]
    [TestCase("mailboxes fullness")]
    [TestCase("Connection has been terminated, connection has been closed")]
    [TestCase("")]
    public void Phrases_match_whole_words_only(string text)
    {
        Assert.That(ResponseWords.Find(text, WordsMatch.None).Found, Is.False);
    }

    [TestCase("Sending has been THROTTLED", "THROTTLED", "RateLimited")]
    [TestCase("on the Blocklists of our partner", "Blocklists", "SenderBlocklist")]
    [TestCase("blocked using zen.spamhaus.org", "spamhaus", "SenderBlocklist")]
    [TestCase("Recipient address rejected: Greylisted", "Greylisted", "Greylisted")]
    [TestCase("421 unusual rate of unsolicited mail from your DKIM domain", "unusual rate", "RateLimited")]
    [TestCase("Requested action not taken: insufficient system storage", "insufficient system storage", "Temporary")]
    public void The_most_trusted_phrase_wins(string text, string written, string meaning)
    {
        var found = ResponseWords.Find(text, WordsMatch.None);
        Assert.Multiple(() =>
        {
            Assert.That(found.Text, Is.EqualTo(written));
            Assert.That(found.Meaning.ToString(), Is.EqualTo(meaning));
        });
    }

    [Test]
    public void A_better_match_from_an_earlier_text_is_kept()
    {
        var first = ResponseWords.Find("blocked using zen.spamhaus.org", WordsMatch.None);
        var both = ResponseWords.Find("user unknown", first);
        Assert.That(both, Is.EqualTo(first));
    }
}
