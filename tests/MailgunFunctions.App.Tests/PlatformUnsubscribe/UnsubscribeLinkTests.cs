using System.Net;
using MailgunFunctions.Dnd;
using MailgunFunctions.Tenants;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace MailgunFunctions.Tests.PlatformUnsubscribe;

/// <summary>The unsubscribe link over real HTTP against Azurite: what each request does to the DND table.</summary>
public class UnsubscribeLinkTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private UnsubscribeHost _host = null!;
    private HttpClient _http = null!;
    private string _tenant = "";
    private string _address = "";

    [SetUp]
    public async Task SetUp()
    {
        _host = await UnsubscribeHost.StartAsync(await Azurite.SharedConnectionStringAsync(), Now);
        _http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        _tenant = TestTenants.NewId("mg");
        _address = $"joan.{Guid.NewGuid():N}@example.com";
    }

    [TearDown]
    public async Task TearDown()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }

    private Task<HttpResponseMessage> Post(string url, string body, string? acceptLanguage = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded") };
        if (acceptLanguage is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Language", acceptLanguage);
        }

        return _http.SendAsync(request);
    }

    private Task<HttpResponseMessage> Get(string url, string? acceptLanguage)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (acceptLanguage is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Language", acceptLanguage);
        }

        return _http.SendAsync(request);
    }

    private async Task<(DndState State, List<DndHistoryRecord> History)> Dnd()
    {
        var (_, status) = await _host.Store.GetStatusAsync(_tenant, _address, default);
        var history = new List<DndHistoryRecord>();
        await foreach (var r in _host.Store.HistoryAsync(_tenant, _address, default))
        {
            history.Add(r);
        }

        return (status.State, history);
    }

    [Test]
    public async Task Get_shows_the_confirm_page_with_security_headers_and_never_unsubscribes()
    {
        string link = _host.LinkFor(_tenant, _address);
        for (int i = 0; i < 3; i++)
        {
            var response = await _http.GetAsync(link);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            string html = await response.Content.ReadAsStringAsync();
            Assert.That(html, Does.Contain("Unsubscribe?").And.Contain("j•••@e•••.com").And.Not.Contain(_address));
            Assert.That(response.Headers.CacheControl!.NoStore, Is.True);
            Assert.That(response.Headers.GetValues("Content-Security-Policy").Single(), Does.Contain("frame-ancestors 'none'"));
            Assert.That(response.Headers.GetValues("X-Frame-Options").Single(), Is.EqualTo("DENY"));
        }

        Assert.That((await Dnd()).State, Is.EqualTo(DndState.None));
    }

    [Test]
    public async Task One_click_post_unsubscribes_at_once_and_a_repeat_changes_nothing()
    {
        string link = _host.LinkFor(_tenant, _address);
        var first = await Post(link, "List-Unsubscribe=One-Click");
        var second = await Post(link, "List-Unsubscribe=One-Click");

        Assert.That((first.StatusCode, second.StatusCode), Is.EqualTo((HttpStatusCode.OK, HttpStatusCode.OK)));
        var (state, history) = await Dnd();
        Assert.That(state, Is.EqualTo(DndState.Permanent));
        Assert.That(history, Has.Count.EqualTo(1));
        Assert.That(history[0].Source, Is.EqualTo(DndChangeSource.PlatformLink));
        Assert.That(history[0].Category, Is.EqualTo("unsubscribe"));
    }

    [Test]
    public async Task Page_button_unsubscribes_and_undo_resubscribes_with_history()
    {
        string link = _host.LinkFor(_tenant, _address);
        var done = await Post(link, "action=unsubscribe");
        Assert.That(await done.Content.ReadAsStringAsync(), Does.Contain("You are unsubscribed"));
        Assert.That((await Dnd()).State, Is.EqualTo(DndState.Permanent));

        _host.Time.Advance(TimeSpan.FromMinutes(1));
        var undone = await Post(link + "/undo", "");
        Assert.That(await undone.Content.ReadAsStringAsync(), Does.Contain("You are subscribed again"));
        var (state, history) = await Dnd();
        Assert.That(state, Is.EqualTo(DndState.None));
        Assert.That(history.Select(h => (h.Source, h.Kind)), Is.EqualTo(new[]
        {
            (DndChangeSource.PlatformLink, DndChangeKind.Reenable),
            (DndChangeSource.PlatformLink, DndChangeKind.PermanentCause),
        }));
    }

    [Test]
    public async Task Undo_never_clears_a_bounce()
    {
        string link = _host.LinkFor(_tenant, _address);
        await Post(link, "List-Unsubscribe=One-Click");
        _host.Time.Advance(TimeSpan.FromMinutes(1));
        var bounce = DndChange.FromReply(_host.Time.GetUtcNow(), "dsn-1", Classification.BounceCategory.HardBounce, "test-hard-bounce", "a hard bounce", "5.1.1");
        await _host.Store.ApplyAsync(_tenant, _address, bounce, default);
        _host.Time.Advance(TimeSpan.FromMinutes(1));

        var undone = await Post(link + "/undo", "");
        Assert.That(await undone.Content.ReadAsStringAsync(), Does.Contain("stay paused for another reason"));
        Assert.That((await Dnd()).State, Is.EqualTo(DndState.Permanent));
    }

    [Test]
    public async Task Post_without_a_known_form_changes_nothing()
    {
        string link = _host.LinkFor(_tenant, _address);
        var response = await Post(link, "something=else");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await Dnd()).State, Is.EqualTo(DndState.None));
    }

    [Test]
    public async Task Altered_and_unknown_tokens_get_friendly_pages()
    {
        string link = _host.LinkFor(_tenant, _address);
        string altered = link[..^3] + (link[^3] == 'A' ? "B" : "A") + link[^2..];
        var bad = await _http.GetAsync(altered);
        var unknown = await _http.GetAsync(_host.BaseUrl + "/k9." + link.Split('.')[1] + "." + link.Split('.')[2]);
        var garbage = await Post(_host.BaseUrl + "/%3Cscript%3E", "List-Unsubscribe=One-Click");

        Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await bad.Content.ReadAsStringAsync(), Does.Contain("This link is not valid").And.Not.Contain("Exception"));
        Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(garbage.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(bad.Headers.CacheControl!.NoStore, Is.True);
        Assert.That((await Dnd()).State, Is.EqualTo(DndState.None));
    }

    [Test]
    public async Task A_later_mailgun_unsubscribed_event_is_a_duplicate_in_effect()
    {
        string link = _host.LinkFor(_tenant, _address);
        await Post(link, "List-Unsubscribe=One-Click");
        var e = Events.MailgunEventParser.Parse(SignedWebhook.Simple("unsubscribed", _address, Now.AddMinutes(5), domain: _tenant + ".example"));
        var classification = new Classification.BounceClassifier().Classify(e);
        var applied = await _host.Store.ApplyAsync(_tenant, _address, DndChange.FromEvent(e, classification)!, default);
        Assert.That((applied.Previous.State, applied.Current.State), Is.EqualTo((DndState.Permanent, DndState.Permanent)));
    }

    [Test]
    public async Task The_page_names_the_tenants_brand_from_the_registry_in_the_browsers_language()
    {
        var tenant = await TestTenants.RegisterAsync(_host.Services, _tenant, TestTenants.NewSigningKey(), [_tenant + ".example"]);
        await _host.Services.GetRequiredService<TenantRegistry>().SaveAsync(
            tenant with { BrandName = "Bäckerei <Nord>", BrandLogoUrl = new Uri("https://cdn.example.com/nord.png") }, "test", "test-brand", default);
        _host.Services.GetRequiredService<TenantDirectory>().Forget(_tenant);
        string link = _host.LinkFor(_tenant, _address);

        var german = await Get(link, "fr;q=0.4, de-DE,de;q=0.9, en;q=0.5");
        string html = await german.Content.ReadAsStringAsync();
        var english = await (await Get(link, "ja")).Content.ReadAsStringAsync();
        var done = await Post(link, "action=unsubscribe", "pt-BR");

        Assert.That(html, Does.Contain("<html lang=\"de\">").And.Contain("<h1>Abmelden?</h1>").And.Contain("Bäckerei &lt;Nord&gt;").And.Not.Contain(_tenant + ".example"));
        Assert.That(html, Does.Contain("src=\"https://cdn.example.com/nord.png\" alt=\"Bäckerei &lt;Nord&gt;\""));
        Assert.That(german.Headers.Vary, Does.Contain("Accept-Language"));
        Assert.That(english, Does.Contain("<html lang=\"en\">").And.Contain("<h1>Unsubscribe?</h1>"));
        Assert.That(await done.Content.ReadAsStringAsync(), Does.Contain("<html lang=\"pt\">").And.Contain("A sua inscrição foi cancelada"));
        Assert.That((await Dnd()).State, Is.EqualTo(DndState.Permanent));
    }

    [Test]
    public async Task Reopening_the_link_after_unsubscribing_says_it_is_done_and_offers_the_undo()
    {
        string link = _host.LinkFor(_tenant, _address);
        await Post(link, "List-Unsubscribe=One-Click");
        var reopened = await (await Get(link, "es")).Content.ReadAsStringAsync();
        var history = (await Dnd()).History.Count;

        _host.Time.Advance(TimeSpan.FromMinutes(1));
        await Post(link + "/undo", "");
        var afterUndo = await (await Get(link, null)).Content.ReadAsStringAsync();

        Assert.That(reopened, Does.Contain("id=\"already\"").And.Contain("Ya se había dado de baja").And.Contain("action=\"/api/unsubscribe/").And.Contain("/undo\""));
        Assert.That(reopened, Does.Not.Contain("id=\"confirm\""), "the question is not asked again");
        Assert.That(history, Is.EqualTo(1), "opening the page again recorded nothing");
        Assert.That(afterUndo, Does.Contain("<h1>Unsubscribe?</h1>"), "after the undo the link asks again");
        Assert.That((await Dnd()).State, Is.EqualTo(DndState.None));
    }

    [Test]
    public async Task Storage_down_gives_a_503_page_on_open_too()
    {
        await using var down = await UnsubscribeHost.StartAsync(Azurite.Unreachable(), Now);
        var response = await Get(down.LinkFor(_tenant, _address), "de");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("Bitte versuchen Sie es in einer Minute erneut"));
    }

    [Test]
    public async Task Storage_down_gives_a_503_page_not_a_stack_trace()
    {
        await using var down = await UnsubscribeHost.StartAsync(Azurite.Unreachable(), Now);
        var response = await Post(down.LinkFor(_tenant, _address), "List-Unsubscribe=One-Click");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("Please try again"));
    }
}
