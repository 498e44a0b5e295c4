namespace MailgunFunctions.Tests;

public class UrlMaskTests
{
    [TestCase("https://app.example.net/api/mailgun/events?code=abc123", "https://app.example.net/api/mailgun/events?code=***")]
    [TestCase("https://app.example.net/api/mailgun/inbound?code=k&format=mime", "https://app.example.net/api/mailgun/inbound?code=***&format=***")]
    [TestCase("https://hooks.example.net/x?secret", "https://hooks.example.net/x?***")]
    [TestCase("https://user:pass@hooks.example.net:8443/x#frag", "https://***@hooks.example.net:8443/x#***")]
    [TestCase("https://app.example.net/api/mailgun/events", "https://app.example.net/api/mailgun/events")]
    [TestCase("not a url?code=abc", "not a url?***")]
    [TestCase("/relative/path?code=abc", "/relative/path?***")]
    [TestCase("ftp://files.example.net/x?code=abc", "ftp://files.example.net/x?***")]
    [TestCase("", "")]
    public void Mask_hides_query_values_fragment_and_user_information(string url, string expected) =>
        Assert.That(UrlMask.Mask(url), Is.EqualTo(expected));

    [Test]
    public void InText_masks_every_url_in_an_error_text_and_leaves_the_rest()
    {
        string text = "url https://a.example.net/h?code=K1 is not reachable; also \"https://b.example.net/?t=K2\" and (http://c.example.net/p?x=K3)";
        string masked = UrlMask.InText(text);
        Assert.That(masked, Does.Not.Contain("K1").And.Not.Contain("K2").And.Not.Contain("K3"));
        Assert.That(masked, Does.StartWith("url https://a.example.net/h?code=*** is not reachable; also \"https://b.example.net/?t=***\""));
    }
}
