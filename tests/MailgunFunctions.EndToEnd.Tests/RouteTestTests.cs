using MailgunFunctions.Inbound;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Tenants;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.EndToEnd.Tests;

/// <summary>
/// <c>mailgun-ops setup test-route</c> the whole way: the CLI sends through the Mailgun fake, the fake's route forwards the
/// message signed with the account's key to the real worker's inbound webhook, the worker queues it, its queue function
/// stores the reply, and the CLI finds it by its nonce.
/// </summary>
[NonParallelizable]
public class RouteTestTests : WorkerTests
{
    private MailgunFake _mailgun = null!;
    private string _tenant = "";
    private string _domain = "";

    [SetUp]
    public async Task SetUp()
    {
        _mailgun = await MailgunFake.StartAsync(TestSettings.ApiKey);
        _tenant = TestTenants.NewId("rt");
        _domain = _tenant + ".example.com";
        _mailgun.AddDomain(_mailgun.DefaultAccount, _domain);
        // The tenant verifies with the key the fake's account signs its route posts with, as a connected tenant does with Mailgun's.
        await TestTenants.RegisterAsync(Worker.Services, _tenant, _mailgun.DefaultAccount.SigningKey, [_domain]);
    }

    [TearDown]
    public async Task TearDown() => await _mailgun.DisposeAsync();

    private async Task<(int Exit, string Stdout, string Stderr)> CliAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = await MailgunOps.Program.RunAsync([.. args, "--storage", Worker.Storage], stdout, stderr, overrides: services =>
        {
            services.Configure<TenantsOptions>(o => o.KeyEncryptionKeys["k1"] = TestSettings.KeyEncryptionKey);
            services.Configure<MailgunApiOptions>(o =>
            {
                o.UsBaseUrl = _mailgun.BaseUrl;
                o.EuBaseUrl = _mailgun.BaseUrl;
            });
        });
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private void RouteTo(Uri inbound) => _mailgun.AddRoute(JObject.FromObject(new
    {
        priority = MailgunSetup.DefaultRoutePriority,
        description = MailgunSetup.TenantRouteDescription(_tenant),
        expression = MailgunSetup.ReplyRoute(MailgunSetup.TenantRouteDescription(_tenant), [_domain], inbound).Expression,
        actions = MailgunSetup.ReplyRoute(MailgunSetup.TenantRouteDescription(_tenant), [_domain], inbound).Actions,
    }));

    [Test]
    public async Task The_test_message_goes_through_the_route_webhook_and_queue_into_the_reply_table()
    {
        RouteTo(new Uri(Worker.Host.BaseAddress, Worker.WithKey($"api/mailgun/{_tenant}/inbound")));

        var (exit, stdout, stderr) = await CliAsync("setup", "test-route", "--tenant", _tenant, "--timeout", "60s", "--json");

        Assert.That(exit, Is.EqualTo(0), $"{stdout}\n{stderr}\nforwarded: {string.Join(", ", _mailgun.Forwarded)}");
        var report = JObject.Parse(stdout);
        string nonce = (string)report["nonce"]!;
        var replies = await Worker.Get<ReplyStore>().ListAsync(_tenant, CancellationToken.None).ToListAsync();
        Assert.Multiple(() =>
        {
            Assert.That((bool?)report["stored"], Is.True);
            Assert.That((string?)report["to"], Does.StartWith("route-test-").And.EndWith("@" + _domain));
            Assert.That(_mailgun.Messages.Single()["subject"]!.ToString(), Does.Contain(nonce));
            Assert.That(_mailgun.Forwarded.Single().Status, Is.EqualTo(200), "the worker accepted the signed route post");
            Assert.That(replies.Select(r => r.GetString("Subject")), Has.One.Contains(nonce), "stored by the inbound queue function");
            Assert.That(stderr, Does.Contain("waiting for the app to store it"));
        });
    }

    [Test]
    public async Task A_route_forwarding_elsewhere_times_out_with_exit_7_and_what_to_check()
    {
        // Forwards to the worker, but without a function key: the host refuses it, nothing is stored.
        RouteTo(new Uri(Worker.Host.BaseAddress, $"api/mailgun/{_tenant}/inbound"));

        var (exit, stdout, stderr) = await CliAsync("setup", "test-route", "--tenant", _tenant, "--timeout", "3s");

        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(7), $"{stdout}\n{stderr}");
            Assert.That(stderr, Does.Contain("was not stored as a reply within 3 s").And.Contain($"setup check --tenant {_tenant}"));
            Assert.That(_mailgun.Forwarded.Select(f => f.Status), Is.EqualTo(new[] { 401 }));
        });
    }
}
