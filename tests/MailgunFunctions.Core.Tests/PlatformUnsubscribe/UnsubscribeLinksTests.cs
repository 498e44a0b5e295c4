using MailgunFunctions.PlatformUnsubscribe;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace MailgunFunctions.Tests.PlatformUnsubscribe;

public class UnsubscribeLinksTests
{
    private static UnsubscribeLinks Links(string? mailto = null)
    {
        var options = Options.Create(new UnsubscribeOptions
        {
            Keys = new() { ["k1"] = "k1-0123456789abcdef0123456789abcdef" },
            ActiveKeyId = "k1",
            BaseUrl = "https://app.example.net/api/unsubscribe/",
            MailtoAddress = mailto,
        });
        return new UnsubscribeLinks(new UnsubscribeTokenCodec(options), options, new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero)));
    }

    [Test]
    public void Create_gives_the_url_and_the_rfc_8058_headers()
    {
        var link = Links().Create("Loc-Shop1", "joan@example.com", "c-1");
        Assert.Multiple(() =>
        {
            Assert.That(link.Url.AbsoluteUri, Does.StartWith("https://app.example.net/api/unsubscribe/k1."));
            Assert.That(link.ListUnsubscribe, Is.EqualTo($"<{link.Url.AbsoluteUri}>"));
            Assert.That(link.ListUnsubscribePost, Is.EqualTo("List-Unsubscribe=One-Click"));
        });
    }

    [Test]
    public void A_mailto_address_is_added_after_the_https_link()
    {
        var link = Links("unsubscribe@shop.example").Create("loc-shop1", "joan@example.com");
        Assert.That(link.ListUnsubscribe, Does.StartWith("<https://").And.EndWith(", <mailto:unsubscribe@shop.example?subject=unsubscribe>"));
    }
}
