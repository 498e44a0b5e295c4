using MailgunFunctions.PlatformUnsubscribe;

namespace MailgunFunctions.Tests.PlatformUnsubscribe;

public class UnsubscribePagesTests
{
    private static readonly UnsubscribeRequest Request = new("<script>x</script>", "joan.doe@example.com", null, null, DateTimeOffset.UnixEpoch);

    [TestCase("joan.doe@example.com", "j•••@e•••.com")]
    [TestCase("a@b", "a•••@b•••")]
    [TestCase("x", "x•••")]
    [TestCase("@example.com", "@•••")]
    public void MaskAddress_keeps_only_what_a_person_needs_to_recognise_it(string address, string masked)
    {
        Assert.That(UnsubscribePages.MaskAddress(address), Is.EqualTo(masked));
    }

    [Test]
    public void Pages_encode_what_they_show_and_never_show_the_whole_address()
    {
        foreach (var page in new[] { UnsubscribePages.Confirm(Request, "/api/unsubscribe/t"), UnsubscribePages.Done(Request, "/api/unsubscribe/t"), UnsubscribePages.Resubscribed(Request, "/api/unsubscribe/t") })
        {
            Assert.That(page.Html, Does.Not.Contain("<script>x").And.Contain("&lt;script&gt;"));
            Assert.That(page.Html, Does.Not.Contain("joan.doe@example.com"));
            Assert.That(page.Html, Does.Contain("name=\"viewport\""));
        }
    }

    [Test]
    public void The_confirm_page_posts_back_to_the_link_and_the_done_page_offers_undo()
    {
        Assert.That(UnsubscribePages.Confirm(Request, "/api/unsubscribe/t").Html, Does.Contain("method=\"post\" action=\"/api/unsubscribe/t\""));
        Assert.That(UnsubscribePages.Done(Request, "/api/unsubscribe/t").Html, Does.Contain("action=\"/api/unsubscribe/t/undo\""));
    }

    [Test]
    public void Security_headers_forbid_caching_framing_and_scripts()
    {
        var h = HtmlPage.SecurityHeaders;
        Assert.That(h["Cache-Control"], Is.EqualTo("no-store"));
        Assert.That(h["X-Frame-Options"], Is.EqualTo("DENY"));
        Assert.That(h["Content-Security-Policy"], Does.Contain("default-src 'none'").And.Contain("frame-ancestors 'none'").And.Not.Contain("script-src"));
    }

    [Test]
    public void Error_pages_have_their_status_and_no_detail()
    {
        Assert.That((UnsubscribePages.Invalid().StatusCode, UnsubscribePages.Expired().StatusCode, UnsubscribePages.Unavailable().StatusCode), Is.EqualTo((400, 404, 503)));
        Assert.That(UnsubscribePages.Invalid().Html, Does.Not.Contain("Exception"));
    }
}
