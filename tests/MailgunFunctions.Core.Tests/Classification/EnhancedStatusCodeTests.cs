using MailgunFunctions.Classification;

namespace MailgunFunctions.Tests.Classification;

public class EnhancedStatusCodeTests
{
    [TestCase("5.1.1", 5, 1, 1)]
    [TestCase(" 4.7.500 ", 4, 7, 500)]
    [TestCase("5.1.10", 5, 1, 10)]
    public void TryParse_reads_a_field_holding_a_code(string text, int cls, int subject, int detail)
    {
        Assert.That(EnhancedStatusCode.TryParse(text, out var code), Is.True);
        Assert.That(code, Is.EqualTo(new EnhancedStatusCode(cls, subject, detail)));
    }

    [TestCase("2.0.0")]
    [TestCase("5.1")]
    [TestCase("5.1.1 user unknown")]
    [TestCase("x.1.1")]
    [TestCase("")]
    [TestCase(null)]
    public void TryParse_refuses_anything_else(string? text)
    {
        Assert.That(EnhancedStatusCode.TryParse(text, out _), Is.False);
    }

    [TestCase("550-5.7.1 [203.0.113.7 12] Our system", "5.7.1")]
    [TestCase("Messages from [1.2.3.4] refused; status 5.7.1.", "5.7.1")]
    [TestCase("delivery error (4.2.2)", "4.2.2")]
    [TestCase("2.0.0 then 5.1.1 later", "5.1.1")]
    public void TryFind_finds_the_code_in_an_answer(string text, string expected)
    {
        Assert.That(EnhancedStatusCode.TryFind(text, out var code), Is.True);
        Assert.That(code.ToString(), Is.EqualTo(expected));
    }

    [TestCase("Your IP 5.6.7.8 is listed")]
    [TestCase("from [1.2.3.4] refused")]
    [TestCase("version 15.1.1 of the filter")]
    [TestCase("5.1.1234")]
    public void TryFind_does_not_read_IP_addresses_or_versions_as_codes(string text)
    {
        Assert.That(EnhancedStatusCode.TryFind(text, out _), Is.False);
    }
}
