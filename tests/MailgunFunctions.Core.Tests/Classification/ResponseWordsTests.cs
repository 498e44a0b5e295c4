using MailgunFunctions.Classification;

namespace MailgunFunctions.Tests.Classification;

public class ResponseWordsTests
{
    [Test]
    public void Every_phrase_alone_is_found_with_its_own_meaning_in_its_own_group()
    {
        // Catches a row shadowed by an earlier, more general one at the same position that means something else.
        Assert.Multiple(() =>
        {
            for (int rank = 0; rank < ResponseWords.Count; rank++)
            {
                var (phrase, meaning, group) = ResponseWords.Row(rank);
                var found = ResponseWords.Find($"550 {phrase.ToUpperInvariant()} here")[group];
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
        Assert.That(ResponseWords.Find(text).Any, Is.False);
    }

    [TestCase("Sending has been THROTTLED", "THROTTLED", "RateLimited")]
    [TestCase("on the Blocklists of our partner", "Blocklists", "SenderBlocklist")]
    [TestCase("blocked using zen.spamhaus.org", "blocked using", "SenderBlocklist")] // the list's host name itself does not count
    [TestCase("Recipient address rejected: Greylisted", "Greylisted", "Greylisted")]
    [TestCase("421 unusual rate of unsolicited mail from your DKIM domain", "unusual rate", "RateLimited")]
    [TestCase("Requested action not taken: insufficient system storage", "insufficient system storage", "RecipientBusy")]
    [TestCase("5.7.1 <x@example.org>: Relay access denied", "Relay access", "RelayDenied")]
    [TestCase("retry timeout exceeded", "retry timeout", "Expired")]
    public void The_group_that_decides_first_holds_the_expected_phrase(string text, string written, string meaning)
    {
        var found = ResponseWords.Find(text).Best;
        Assert.Multiple(() =>
        {
            Assert.That(found.Text, Is.EqualTo(written));
            Assert.That(found.Meaning.ToString(), Is.EqualTo(meaning));
        });
    }

    [Test]
    public void A_longer_phrase_covers_the_words_inside_it()
    {
        // "not accepting mail from" is the recipient's block: "mail from" inside it is not also read as our envelope.
        var findings = ResponseWords.Find("This user is not accepting mail from your domain");
        Assert.Multiple(() =>
        {
            Assert.That(findings[CauseGroup.Decisive].Meaning, Is.EqualTo(WordMeaning.BlockedByRecipient));
            Assert.That(findings[CauseGroup.WeakSender].Found, Is.False);
        });
    }

    [TestCase("mailbox\n   unavailable")]
    [TestCase("MAILBOX\tUNAVAILABLE")]
    public void A_space_in_a_phrase_matches_any_run_of_white_space(string text)
    {
        Assert.That(ResponseWords.Find(text)[CauseGroup.Recipient].Meaning, Is.EqualTo(WordMeaning.UserUnknown));
    }

    [TestCase("host mx01.spamexperts.com[192.0.2.1] said: 550 5.1.1 <x@example.org>: Recipient address rejected: User unknown")]
    [TestCase("host relay.antispam-gateway.example.net said: 550 user unknown")]
    public void Words_inside_a_host_name_do_not_count(string text)
    {
        var findings = ResponseWords.Find(text);
        Assert.Multiple(() =>
        {
            Assert.That(findings[CauseGroup.Sender].Found, Is.False, findings[CauseGroup.Sender].Text);
            Assert.That(findings[CauseGroup.Recipient].Meaning, Is.EqualTo(WordMeaning.UserUnknown));
        });
    }

    [TestCase("5.1.1 RESOLVER.ADR.RecipNotFound", "RESOLVER.ADR")]
    [TestCase("550 4.4.7 QUEUE.Expired;", "QUEUE.Expired")]
    [TestCase("554 5.4.4 SMTPSEND.DNS.NonExistentDomain;", "NonExistentDomain")]
    public void Dotted_codes_with_capitals_still_count(string text, string written)
    {
        Assert.That(ResponseWords.Find(text).Best.Text, Is.EqualTo(written));
    }

    [Test]
    public void A_typographic_apostrophe_matches()
    {
        Assert.That(ResponseWords.Find("messages from [203.0.113.7] weren\u2019t sent")[CauseGroup.Sender].Meaning, Is.EqualTo(WordMeaning.SenderBlocklist));
    }

    [Test]
    public void Each_group_keeps_its_best_phrase_across_texts()
    {
        var findings = WordFindings.Empty;
        ResponseWords.Find("user unknown".AsMemory(), ref findings);
        ResponseWords.Find("blocked using zen.spamhaus.org".AsMemory(), ref findings);
        Assert.Multiple(() =>
        {
            Assert.That(findings[CauseGroup.Sender].Meaning, Is.EqualTo(WordMeaning.SenderBlocklist));
            Assert.That(findings[CauseGroup.Recipient].Meaning, Is.EqualTo(WordMeaning.UserUnknown));
            Assert.That(findings.Best.Meaning, Is.EqualTo(WordMeaning.SenderBlocklist), "a sender-side cause decides before a recipient-side one");
        });
    }
}
