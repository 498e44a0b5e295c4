using System.Text.RegularExpressions;
using MailgunFunctions.PlatformUnsubscribe;

namespace MailgunFunctions.Tests.PlatformUnsubscribe;

public class UnsubscribePagesTests
{
    private static readonly UnsubscribeRequest Request = new("loc1", "joan.doe@example.com", null, null, DateTimeOffset.UnixEpoch);
    private static readonly UnsubscribeBrand Hostile = new("<script>x</script> & Söhne");
    private static readonly UnsubscribeTexts English = UnsubscribeTexts.All["en"];

    [TestCase("joan.doe@example.com", "j•••@e•••.com")]
    [TestCase("a@b", "a•••@b•••")]
    [TestCase("x", "x•••")]
    [TestCase("@example.com", "@•••")]
    public void MaskAddress_keeps_only_what_a_person_needs_to_recognise_it(string address, string masked)
    {
        Assert.That(UnsubscribePages.MaskAddress(address), Is.EqualTo(masked));
    }

    private static IEnumerable<HtmlPage> PersonalPages(UnsubscribeTexts t, UnsubscribeBrand brand) =>
    [
        UnsubscribePages.Confirm(t, Request, brand, "/api/unsubscribe/t"),
        UnsubscribePages.Done(t, Request, brand, "/api/unsubscribe/t"),
        UnsubscribePages.AlreadyUnsubscribed(t, Request, brand, "/api/unsubscribe/t"),
        UnsubscribePages.Resubscribed(t, Request, brand, "/api/unsubscribe/t"),
        UnsubscribePages.StillBlocked(t, Request, brand),
    ];

    [Test]
    public void Pages_encode_what_they_show_and_never_show_the_whole_address()
    {
        foreach (var page in PersonalPages(English, Hostile))
        {
            Assert.That(page.Html, Does.Not.Contain("<script>x").And.Contain("&lt;script&gt;x&lt;/script&gt; &amp; Söhne"));
            Assert.That(page.Html, Does.Not.Contain("joan.doe@example.com").And.Contain("j•••@e•••.com"));
            Assert.That(page.Html, Does.Contain("name=\"viewport\""));
        }
    }

    [Test]
    public void The_confirm_page_posts_back_to_the_link_and_the_done_and_already_pages_offer_undo()
    {
        Assert.That(UnsubscribePages.Confirm(English, Request, Hostile, "/api/unsubscribe/t").Html, Does.Contain("method=\"post\" action=\"/api/unsubscribe/t\""));
        Assert.That(UnsubscribePages.Done(English, Request, Hostile, "/api/unsubscribe/t").Html, Does.Contain("action=\"/api/unsubscribe/t/undo\""));
        var already = UnsubscribePages.AlreadyUnsubscribed(English, Request, Hostile, "/api/unsubscribe/t").Html;
        Assert.That(already, Does.Contain("action=\"/api/unsubscribe/t/undo\"").And.Contain("You are already unsubscribed").And.Not.Contain("id=\"confirm\""));
    }

    [Test]
    public void The_logo_is_shown_only_from_https_with_the_brand_as_its_text()
    {
        var https = UnsubscribePages.Confirm(English, Request, new UnsubscribeBrand("Shop \"Nord\"", new Uri("https://cdn.example.com/logo.png?a=1&b=2")), "/t").Html;
        var http = UnsubscribePages.Confirm(English, Request, new UnsubscribeBrand("Shop", new Uri("http://cdn.example.com/logo.png")), "/t").Html;
        var none = UnsubscribePages.Confirm(English, Request, new UnsubscribeBrand("Shop"), "/t").Html;

        Assert.That(https, Does.Contain("<img class=\"logo\" src=\"https://cdn.example.com/logo.png?a=1&amp;b=2\" alt=\"Shop &quot;Nord&quot;\">"));
        Assert.That(http, Does.Not.Contain("<img").And.Contain("<header class=\"brand\">Shop</header>"));
        Assert.That(none, Does.Not.Contain("<img").And.Contain("<header class=\"brand\">Shop</header>"));
    }

    [TestCase("en")]
    [TestCase("de")]
    [TestCase("fr")]
    [TestCase("es")]
    [TestCase("pt")]
    public void Every_page_is_in_the_chosen_language_with_its_lang_attribute(string language)
    {
        var t = UnsubscribeTexts.All[language];
        var pages = PersonalPages(t, new UnsubscribeBrand("Shop")).Concat([UnsubscribePages.Invalid(t), UnsubscribePages.Expired(t), UnsubscribePages.BadRequest(t), UnsubscribePages.Unavailable(t)]);
        foreach (var page in pages)
        {
            Assert.That(page.Html, Does.Contain($"<html lang=\"{language}\">"));
            string heading = Regex.Match(page.Html, "<h1[^>]*>([^<]+)</h1>").Groups[1].Value;
            var headings = new[] { t.ConfirmHeading, t.DoneHeading, t.AlreadyHeading, t.ResubscribedHeading, t.StillBlockedHeading, t.InvalidHeading, t.ExpiredHeading, t.BadRequestHeading, t.UnavailableHeading };
            Assert.That(headings.Select(UnsubscribePages.Encode), Does.Contain(heading), page.Html);
        }
    }

    [Test]
    public void Security_headers_forbid_caching_framing_and_scripts_and_allow_only_https_images()
    {
        var h = HtmlPage.SecurityHeaders;
        Assert.That(h["Cache-Control"], Is.EqualTo("no-store"));
        Assert.That(h["X-Frame-Options"], Is.EqualTo("DENY"));
        Assert.That(h["Content-Security-Policy"], Does.Contain("default-src 'none'").And.Contain("frame-ancestors 'none'").And.Contain("img-src https:;").And.Not.Contain("script-src"));
        Assert.That(h["Referrer-Policy"], Is.EqualTo("no-referrer"), "the logo's host must not see the link");
    }

    [Test]
    public void Error_pages_have_their_status_and_no_detail()
    {
        Assert.That((UnsubscribePages.Invalid(English).StatusCode, UnsubscribePages.Expired(English).StatusCode, UnsubscribePages.Unavailable(English).StatusCode), Is.EqualTo((400, 404, 503)));
        Assert.That(UnsubscribePages.Invalid(English).Html, Does.Not.Contain("Exception"));
    }
}
