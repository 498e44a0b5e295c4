using System.Net;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.MailgunApi;

/// <summary>The typed Mailgun client against a real HTTP fake of Mailgun (US and EU on two base URLs).</summary>
[NonParallelizable]
public class MailgunApiClientTests
{
    private const string Us = "mg.example.com";
    private const string Eu = "mg.example.eu";
    private MailgunFake _us = null!;
    private MailgunFake _eu = null!;

    [OneTimeSetUp]
    public async Task StartFakes()
    {
        _us = await MailgunFake.StartAsync(TestSettings.ApiKey);
        _eu = await MailgunFake.StartAsync(TestSettings.ApiKey);
    }

    [OneTimeTearDown]
    public async Task StopFakes()
    {
        await _us.DisposeAsync();
        await _eu.DisposeAsync();
    }

    [SetUp]
    public void ResetFakes()
    {
        _us.Reset();
        _eu.Reset();
    }

    private ServiceProvider Services(Action<Dictionary<string, string?>>? change = null, CapturedLogs? logs = null)
    {
        var settings = ApiTestServices.Settings(_us, _eu, (Us, "Us"), (Eu, "Eu"));
        change?.Invoke(settings);
        return ApiTestServices.Build(Azurite.Unreachable(), settings, logs);
    }

    /// <summary>A configured domain as the single-account tenant (made from the settings) addresses it: its region and Mailgun__ApiKey.</summary>
    private static MailgunDomain Target(IServiceProvider services, string domain)
    {
        var tenant = TestSettings.SingleAccount(services).Tenant;
        return tenant.MailgunDomain(tenant.Domain(domain)!);
    }

    private static async Task<List<SuppressionRecord>> ReadAll(IServiceProvider services, string domain, SuppressionList list, CancellationToken cancellationToken = default)
    {
        var records = new List<SuppressionRecord>();
        await foreach (var record in services.GetRequiredService<MailgunApiClient>().StreamSuppressionsAsync(Target(services, domain), list, cancellationToken))
        {
            records.Add(record);
        }

        return records;
    }

    [Test]
    public async Task StreamSuppressions_follows_paging_next_with_limit_1000_until_an_empty_page()
    {
        _us.SetList(Us, "bounces", ApiTestServices.Bounces(2500));
        await using var services = Services();
        var client = services.GetRequiredService<MailgunApiClient>();

        var records = await ReadAll(services, Us, SuppressionList.Bounces);

        Assert.That(records.Select(r => r.Address), Is.EqualTo(Enumerable.Range(0, 2500).Select(i => $"user{i:D6}@example.net")));
        var requests = _us.Requests;
        Assert.Multiple(() =>
        {
            Assert.That(requests, Has.Count.EqualTo(4), "3 full pages and the empty page that ends the list");
            Assert.That(requests[0].RawTarget, Is.EqualTo($"/v3/{Us}/bounces?limit=1000"));
            Assert.That(requests[1].RawTarget, Is.EqualTo($"/v3/{Us}/bounces?page=next&address=user000999%40example.net&limit=1000"));
            Assert.That(requests[3].RawTarget, Does.Contain("address=user002499%40example.net"));
            Assert.That(records[0].Code, Is.EqualTo("550"), "code given as a string");
            Assert.That(records[1].Code, Is.EqualTo("554"), "code given as a number");
            Assert.That(records[0].CreatedAt, Is.EqualTo("Fri, 01 Jan 2021 10:00:00 UTC"));
            Assert.That(records[0].CreatedAtUtc, Is.EqualTo(new DateTimeOffset(2021, 1, 1, 10, 0, 0, TimeSpan.Zero)));
            Assert.That(records[0].Error, Is.EqualTo("550 5.1.1 No such user"));
        });
    }

    [Test]
    public async Task StreamSuppressions_reads_each_list_with_its_own_fields()
    {
        _us.SetList(Us, "complaints", [ApiTestServices.Complaint("c@example.net")]);
        _us.SetList(Us, "unsubscribes", [ApiTestServices.Unsubscribe("u@example.net", "*"), ApiTestServices.Unsubscribe("v@example.net", "news", "promo")]);
        _us.SetList(Us, "whitelists", [ApiTestServices.Allow("example.org", "domain", "partner")]);
        await using var services = Services();
        var client = services.GetRequiredService<MailgunApiClient>();

        var complaints = await ReadAll(services, Us, SuppressionList.Complaints);
        var unsubscribes = await ReadAll(services, Us, SuppressionList.Unsubscribes);
        var allowed = await ReadAll(services, Us, SuppressionList.Allowlist);

        Assert.Multiple(() =>
        {
            Assert.That(complaints.Single().Address, Is.EqualTo("c@example.net"));
            Assert.That(complaints.Single().CreatedAtUtc, Is.EqualTo(new DateTimeOffset(2021, 1, 2, 10, 0, 0, TimeSpan.Zero)));
            Assert.That(unsubscribes.Select(u => u.Tags), Is.EqualTo(new[] { new[] { "*" }, new[] { "news", "promo" } }));
            Assert.That(allowed.Single(), Is.EqualTo(allowed.Single() with { Address = "example.org", Type = "domain", Error = "partner", CreatedAt = "Mon, 04 Jan 2021 10:00:00 UTC" }));
            Assert.That(allowed.Single().Address, Is.EqualTo("example.org"));
            Assert.That(allowed.Single().Type, Is.EqualTo("domain"));
            Assert.That(allowed.Single().Error, Is.EqualTo("partner"));
        });
    }

    [Test]
    public async Task StreamSuppressions_recovers_from_429_with_Retry_After_and_500s_in_the_middle()
    {
        _us.SetList(Us, "bounces", ApiTestServices.Bounces(250));
        _us.Fail(Us, "bounces", afterPages: 1, HttpStatusCode.TooManyRequests, times: 1, retryAfter: "1");
        _us.Fail(Us, "bounces", afterPages: 2, HttpStatusCode.InternalServerError, times: 2);
        _us.Fail(Us, "bounces", afterPages: 2, HttpStatusCode.BadGateway, times: 1);
        var logs = new CapturedLogs();
        await using var services = Services(s => s["MailgunApi:SuppressionPageSize"] = "100", logs);
        var client = services.GetRequiredService<MailgunApiClient>();

        var records = await ReadAll(services, Us, SuppressionList.Bounces);

        Assert.Multiple(() =>
        {
            Assert.That(records.Select(r => r.Address), Is.EqualTo(Enumerable.Range(0, 250).Select(i => $"user{i:D6}@example.net")), "every record once, in order");
            Assert.That(_us.Requests.Select(r => r.Status), Is.EqualTo(new[] { 200, 429, 200, 500, 500, 502, 200, 200 }));
            Assert.That(logs.Entries.Count(e => e.Text.Contains("retry", StringComparison.Ordinal)), Is.EqualTo(4));
        });
    }

    [Test]
    public async Task StreamSuppressions_recovers_from_429_with_retry_seconds_in_the_body()
    {
        _us.SetList(Us, "complaints", Enumerable.Range(0, 150).Select(i => ApiTestServices.Complaint($"c{i:D3}@example.net")));
        _us.Fail(Us, "complaints", afterPages: 1, HttpStatusCode.TooManyRequests, times: 2, retrySecondsInBody: "0.05");
        await using var services = Services(s => s["MailgunApi:SuppressionPageSize"] = "100");
        var client = services.GetRequiredService<MailgunApiClient>();

        var records = await ReadAll(services, Us, SuppressionList.Complaints);

        Assert.That(records, Has.Count.EqualTo(150));
        Assert.That(_us.Requests.Select(r => r.Status), Is.EqualTo(new[] { 200, 429, 429, 200, 200 }));
    }

    [Test]
    public async Task StreamSuppressions_gives_up_after_the_configured_retries_on_a_persistent_5xx()
    {
        _us.SetList(Us, "bounces", ApiTestServices.Bounces(150));
        _us.Fail(Us, "bounces", afterPages: 1, HttpStatusCode.ServiceUnavailable, times: int.MaxValue);
        await using var services = Services(s => s["MailgunApi:SuppressionPageSize"] = "100");
        var client = services.GetRequiredService<MailgunApiClient>();

        var error = Assert.ThrowsAsync<MailgunApiException>(() => ReadAll(services, Us, SuppressionList.Bounces));

        Assert.That(error!.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(error.Message, Does.Contain("after retries"));
        Assert.That(_us.Requests.Count(r => r.Status == 503), Is.EqualTo(5), "1 attempt + MaxRetryAttempts (4)");
    }

    [Test]
    public async Task A_wrong_API_key_fails_at_once_with_the_settings_to_fix()
    {
        _us.SetList(Us, "bounces", ApiTestServices.Bounces(10));
        await using var services = Services(s => s["Mailgun:ApiKey"] = "key-wrong-0000");
        var client = services.GetRequiredService<MailgunApiClient>();

        var error = Assert.ThrowsAsync<MailgunApiException>(() => ReadAll(services, Us, SuppressionList.Bounces));

        Assert.Multiple(() =>
        {
            Assert.That(error!.IsAuthenticationFailure, Is.True);
            Assert.That(error.Message, Does.Contain("Mailgun__ApiKey"));
            Assert.That(error.Message, Does.Contain($"domain '{Us}' in the Us region").And.Contain("MailgunApi__Domains__0__Region"));
            Assert.That(error.Message, Does.Not.Contain("key-wrong-0000"), "never echo the key");
            Assert.That(_us.Requests, Has.Count.EqualTo(1), "401 is not retried");
        });
    }

    [Test]
    public async Task Each_domain_is_asked_in_its_own_region_and_a_wrong_region_names_its_setting()
    {
        _eu.SetList(Eu, "bounces", ApiTestServices.Bounces(3, "eu.example"));
        await using (var services = Services())
        {
            var records = await ReadAll(services, Eu, SuppressionList.Bounces);
            Assert.That(records, Has.Count.EqualTo(3));
            Assert.That(_us.Requests, Is.Empty);
            Assert.That(_eu.Requests.All(r => r.Authorization.StartsWith("Basic ", StringComparison.Ordinal)), Is.True);
        }

        await using (var misconfigured = Services(s => s["MailgunApi:Domains:1:Region"] = "Us"))
        {
            var error = Assert.ThrowsAsync<MailgunApiException>(() => ReadAll(misconfigured, Eu, SuppressionList.Bounces));
            Assert.That(error!.Message, Does.Contain($"domain '{Eu}' in the Us region").And.Contain("MailgunApi__Domains__1__Region"));
        }
    }

    [Test]
    public async Task A_next_link_that_repeats_the_page_just_read_ends_the_stream()
    {
        _us.SetList(Us, "bounces", ApiTestServices.Bounces(500));
        _us.RepeatNextFromPage = 2;
        var logs = new CapturedLogs();
        await using var services = Services(s => s["MailgunApi:SuppressionPageSize"] = "100", logs);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var records = await ReadAll(services, Us, SuppressionList.Bounces, timeout.Token);

        Assert.That(records, Has.Count.EqualTo(200));
        Assert.That(_us.Requests, Has.Count.EqualTo(2));
        Assert.That(logs.Entries.Any(e => e.Text.Contains("repeats a page already read", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public async Task A_next_link_to_another_host_is_refused_so_the_key_stays_with_Mailgun()
    {
        _us.SetList(Us, "bounces", ApiTestServices.Bounces(150));
        _us.ForeignNextOrigin = "http://127.0.0.2:9";
        await using var services = Services(s => s["MailgunApi:SuppressionPageSize"] = "100");

        var error = Assert.ThrowsAsync<MailgunApiException>(() => ReadAll(services, Us, SuppressionList.Bounces));

        Assert.That(error!.Message, Does.Contain("refusing to send the API key"));
        Assert.That(_us.Requests, Has.Count.EqualTo(1));
    }

    [TestCase("a+b@example.net", "a%2Bb%40example.net")]
    [TestCase("we/ird@example.net", "we%2Fird%40example.net")]
    [TestCase("hash#tag@example.net", "hash%23tag%40example.net")]
    [TestCase("q?x%y@example.net", "q%3Fx%25y%40example.net")]
    public async Task DeleteSuppression_escapes_the_address_as_one_path_segment_and_is_idempotent(string address, string escaped)
    {
        _us.SetList(Us, "bounces", [ApiTestServices.Bounce(address, 550), ApiTestServices.Bounce("other@example.net", 550)]);
        await using var services = Services();
        var client = services.GetRequiredService<MailgunApiClient>();

        bool first = await client.DeleteSuppressionAsync(Target(services, Us), SuppressionList.Bounces, address);
        bool second = await client.DeleteSuppressionAsync(Target(services, Us), SuppressionList.Bounces, address);

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.True);
            Assert.That(second, Is.False, "404 'not found' = already gone");
            Assert.That(_us.Requests.Select(r => (r.Method, r.RawTarget)), Is.EqualTo(new[] { ("DELETE", $"/v3/{Us}/bounces/{escaped}"), ("DELETE", $"/v3/{Us}/bounces/{escaped}") }));
            Assert.That(_us.ListContains(Us, "bounces", address), Is.False);
            Assert.That(_us.ListContains(Us, "bounces", "other@example.net"), Is.True);
        });
    }

    [Test]
    public async Task Retries_of_a_single_address_call_are_logged_without_the_address()
    {
        _us.SetList(Us, "bounces", [ApiTestServices.Bounce("secret.person@example.net", 550)]);
        _us.Fail(Us, "bounces", afterPages: 0, HttpStatusCode.BadGateway, times: 1);
        var logs = new CapturedLogs();
        await using var services = Services(logs: logs);

        bool removed = await services.GetRequiredService<MailgunApiClient>().DeleteSuppressionAsync(Target(services, Us), SuppressionList.Bounces, "secret.person@example.net");

        Assert.That(removed, Is.True);
        var retry = logs.Entries.Single(e => e.Text.StartsWith("Mailgun API DELETE", StringComparison.Ordinal));
        Assert.That(retry.Text, Does.Contain($"/v3/{Us}/bounces/{{address}} answered 502"));
        Assert.That(logs.Entries.Select(e => e.Text), Has.None.Contains("secret.person"), "no logger of the app or of HttpClient names the address");
    }

    [Test]
    public async Task StreamEvents_pages_through_opaque_next_links_with_begin_and_the_event_filter()
    {
        var begin = new DateTimeOffset(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);
        var events = new List<JObject>();
        for (int i = 0; i < 700; i++)
        {
            string type = (i % 4) switch { 0 => "failed", 1 => "complained", 2 => "unsubscribed", _ => "delivered" };
            events.Add(SignedWebhook.Simple(type, $"r{i:D4}@example.net", begin.AddMinutes(i - 10)));
        }

        _us.SetEvents(Us, events);
        await using var services = Services(s => s["MailgunApi:EventPageSize"] = "200");
        var client = services.GetRequiredService<MailgunApiClient>();

        var read = new List<JObject>();
        await foreach (var item in client.StreamEventsAsync(Target(services, Us), begin))
        {
            read.Add(item);
        }

        var expected = events.Skip(10).Where(e => (string?)e["event"] != "delivered").Select(e => (string?)e["recipient"]).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(read.Select(e => (string?)e["recipient"]), Is.EqualTo(expected));
            Assert.That(read[0]["user-variables"]?["contactId"]?.ToString(), Is.EqualTo("c-123"), "raw event-data is handed over whole");
            Assert.That(_us.Requests[0].RawTarget, Does.Contain($"begin={begin.ToUnixTimeSeconds()}").And.Contain("event=failed%20OR%20complained%20OR%20unsubscribed"));
            Assert.That(_us.Requests, Has.Count.EqualTo(4), "3 pages of up to 200 and an empty one");
            Assert.That(_us.Requests.Skip(1).All(r => r.RawTarget.StartsWith($"/v3/{Us}/events/", StringComparison.Ordinal)), Is.True);
        });
    }

    [TestCase("MailgunApi:Domains:0:Name", "not a domain", "MailgunApi__Domains__0__Name")]
    [TestCase("MailgunApi:Domains:1:Name", Us, "repeats domain")]
    [TestCase("Mailgun:ApiKey", "", "Mailgun__ApiKey")]
    [TestCase("MailgunApi:SuppressionPageSize", "5000", "SuppressionPageSize")]
    public async Task Options_are_validated_at_start_up(string key, string value, string expected)
    {
        await using var services = Services(s => s[key] = value);

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.That(error!.Message, Does.Contain(expected));
    }
}
