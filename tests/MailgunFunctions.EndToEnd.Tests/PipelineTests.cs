using System.Net;
using System.Net.Http.Headers;
using MailgunFunctions.Dnd;
using MailgunFunctions.Inbound;
using MailgunFunctions.PlatformUnsubscribe;
using MailgunFunctions.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.EndToEnd.Tests;

/// <summary>
/// The HTTP functions and the queue functions behind them, through the real worker: routes, function keys,
/// queue messages decoded and processed by the worker's DI-built processors, results read back from storage.
/// </summary>
public class PipelineTests : WorkerTests
{
    private string _tenant = "";
    private string _domain = "";

    /// <summary>A tenant of the registry per test, signing with the tests' key: the worker reads it from the same storage.</summary>
    [SetUp]
    public async Task NewTenant()
    {
        _tenant = TestTenants.NewId("e2e");
        _domain = _tenant + ".example.com";
        await TestTenants.RegisterAsync(Worker.Services, _tenant, TestSettings.SigningKey, [_domain]);
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");

    private Task<DndStatus> DndAsync(string address) => DndStatusAsync(_tenant, address);

    private async Task<DndStatus> DndStatusAsync(string tenant, string address) =>
        (await Worker.Get<DndStore>().GetStatusAsync(tenant, address, CancellationToken.None)).Status;

    [Test]
    public async Task Signed_failed_event_is_answered_200_queued_and_processed_into_a_permanent_DND_entry()
    {
        string recipient = $"gone.{Guid.NewGuid():N}@example.net";
        var now = DateTimeOffset.UtcNow;
        var eventData = SignedWebhook.Failed(recipient, now, domain: _domain);

        // The tenant's own URL: the worker binds the {tenant} route value and verifies with the tenant's key from the registry.
        var response = await Worker.Http.PostAsync(Worker.WithKey($"api/mailgun/{_tenant}/events"), Json(SignedWebhook.Body(eventData, now)));

        string answer = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), answer);
        Assert.That((string?)JObject.Parse(answer)["outcome"], Is.EqualTo("accepted"));
        var status = await Worker.EventuallyAsync(() => DndAsync(recipient), s => s.State == DndState.Permanent, "the recipient's DND entry");
        var processed = await Worker.Host.WaitForInvocationAsync(i => i.FunctionName == "ProcessMailgunEvent" && i.Succeeded, TimeSpan.FromSeconds(5));
        Assert.Multiple(() =>
        {
            Assert.That(status.State, Is.EqualTo(DndState.Permanent));
            Assert.That(processed.Reason, Does.Contain("mailgun-events"));
        });
    }

    [Test]
    public async Task Cli_send_sample_signs_with_the_configured_key_and_the_event_reaches_the_DND_table()
    {
        string recipient = $"cli.{Guid.NewGuid():N}@example.net";
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int exit = await MailgunOps.Program.RunAsync(
            ["webhook", "send-sample", "--url", new Uri(Worker.Host.BaseAddress, $"api/mailgun/{_tenant}/events").AbsoluteUri, "--event", "failed",
             "--recipient", recipient, "--domain", _domain, "--signing-key", TestSettings.SigningKey, "--function-key", Worker.Keys.DefaultHostKey!,
             "--settings", "/nonexistent/local.settings.json", "--keys-file", "/nonexistent/local.keys.json"],
            stdout, stderr);

        Assert.That(exit, Is.EqualTo(0), $"{stdout}\n{stderr}");
        Assert.That(stdout.ToString(), Does.StartWith("200 ").And.Contain("accepted"));
        await Worker.EventuallyAsync(() => DndAsync(recipient), s => s.State == DndState.Permanent, "the sample's DND entry");
    }

    [Test]
    public async Task Function_level_routes_need_a_key_the_host_checks_before_the_worker_hears_of_the_request()
    {
        var now = DateTimeOffset.UtcNow;
        string body = SignedWebhook.Body(SignedWebhook.Failed($"k.{Guid.NewGuid():N}@example.net", now, domain: _domain), now);
        var before = DateTimeOffset.UtcNow;

        var missing = await Worker.Http.PostAsync("api/mailgun/events", Json(body));
        var wrong = await Worker.Http.PostAsync("api/mailgun/events?code=not-a-key", Json(body));
        var master = await Worker.Http.PostAsync($"api/mailgun/inbound?code={Uri.EscapeDataString(Worker.Keys.MasterKey)}", new StringContent(""));
        using var headerRequest = new HttpRequestMessage(HttpMethod.Post, "api/mailgun/events") { Content = Json(body) };
        headerRequest.Headers.Add("x-functions-key", Worker.Keys.DefaultHostKey);
        var header = await Worker.Http.SendAsync(headerRequest);
        // Invocations are recorded when the worker's answer arrives, in order: once the keyed request's is there, any earlier one would be too.
        await Worker.Host.WaitForInvocationAsync(i => i.FunctionName == "MailgunEvents" && i.StartedAt >= before, TimeSpan.FromSeconds(10), "of the keyed request");

        Assert.Multiple(async () =>
        {
            Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(await missing.Content.ReadAsStringAsync(), Is.Empty, "the host's 401 has no body (the app's own 401s explain themselves)");
            Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(header.StatusCode, Is.EqualTo(HttpStatusCode.OK), "a host key in x-functions-key");
            Assert.That(master.StatusCode, Is.Not.EqualTo(HttpStatusCode.Unauthorized), "the master key opens every function");
            Assert.That(Worker.Host.Invocations.Count(i => i.FunctionName == "MailgunEvents" && i.StartedAt >= before), Is.EqualTo(1), "only the keyed request reached the worker");
        });
    }

    [Test]
    public async Task Inbound_route_post_is_accepted_and_the_reply_is_processed_and_stored()
    {
        var fields = InboundPost.Signed(InboundPost.ParsedReply(recipient: "reply@" + _domain), DateTimeOffset.UtcNow);
        var (body, contentType) = InboundPost.UrlEncoded(fields);
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

        var response = await Worker.Http.PostAsync(Worker.WithKey($"api/mailgun/{_tenant}/inbound"), content);

        string answer = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), answer);
        var replies = await Worker.EventuallyAsync(
            async () => await Worker.Get<ReplyStore>().ListAsync(_tenant, CancellationToken.None).ToListAsync(), r => r.Count > 0, "the stored reply");
        Assert.Multiple(() =>
        {
            Assert.That(replies, Has.Count.EqualTo(1));
            Assert.That(replies[0].GetString("From"), Is.EqualTo("jane@example.org"));
            Assert.That(replies[0].GetString("Text"), Is.EqualTo("Thanks, that works for me."));
        });
    }

    [Test]
    public async Task Unsubscribe_link_shows_its_page_unsubscribes_on_post_and_undo_resubscribes()
    {
        string address = $"joan.{Guid.NewGuid():N}@example.com";
        // The link as the sending side makes it (the Core's UnsubscribeLinks, same key), at this host's address.
        string token = Worker.Get<UnsubscribeLinks>().Create(_tenant, address, "c-1").Url.Segments.Last();
        string link = "api/unsubscribe/" + token;

        var page = await Worker.Http.GetAsync(link);
        string html = await page.Content.ReadAsStringAsync();
        Assert.Multiple(() =>
        {
            Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK), html);
            Assert.That(html, Does.Contain("Unsubscribe?").And.Contain($"action=\"/{link}\"").And.Not.Contain(address));
            Assert.That(page.Headers.GetValues("X-Frame-Options").Single(), Is.EqualTo("DENY"));
        });
        Assert.That((await DndAsync(address)).State, Is.EqualTo(DndState.None), "a GET never unsubscribes");

        var done = await Worker.Http.PostAsync(link, new StringContent(UnsubscribeLinks.OneClickBody, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.That(done.StatusCode, Is.EqualTo(HttpStatusCode.OK), await done.Content.ReadAsStringAsync());
        Assert.That((await DndAsync(address)).State, Is.EqualTo(DndState.Permanent));

        var undone = await Worker.Http.PostAsync(link + "/undo", new StringContent(""));
        Assert.Multiple(async () =>
        {
            Assert.That(await undone.Content.ReadAsStringAsync(), Does.Contain("You are subscribed again"));
            Assert.That((await DndAsync(address)).State, Is.EqualTo(DndState.None));
        });
    }

    [Test]
    public async Task Routes_match_only_their_template_and_methods()
    {
        var unknown = await Worker.Http.GetAsync("api/mailgun/nothing-here");
        var tooDeep = await Worker.Http.GetAsync("api/unsubscribe/a/b/c");
        var wrongMethod = await Worker.Http.DeleteAsync("api/unsubscribe/some-token");
        var noPrefix = await Worker.Http.GetAsync("unsubscribe/some-token");

        Assert.Multiple(() =>
        {
            Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(tooDeep.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(wrongMethod.StatusCode, Is.EqualTo(HttpStatusCode.MethodNotAllowed));
            Assert.That(noPrefix.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "routes live under host.json's routePrefix");
        });
    }
}
