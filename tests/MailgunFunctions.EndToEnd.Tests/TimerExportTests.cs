using System.Net;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using MailgunFunctions.Export;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.Extensions.Logging;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.EndToEnd.Tests;

/// <summary>
/// The nightly export through the real worker, against the Mailgun fake: the timer (on demand through the admin API, and
/// on the schedule %EXPORT_SCHEDULE% names) only fans out, and the queue function ExportSuppressionsJob exports each
/// tenant's domain. Three scopes: the single-account tenant, a registry tenant with its own Mailgun account, and a
/// registry tenant whose key Mailgun revoked. Its own Azurite: the registry must hold exactly these tenants.
/// </summary>
public class TimerExportTests : WorkerTests
{
    private Azurite _storage = null!;
    private MailgunFake _mailgun = null!;
    private string _domain = "";
    private string _address = "";
    private string _tenant = "";
    private string _tenantDomain = "";
    private string _tenantAddress = "";
    private string _revoked = "";
    private string _revokedDomain = "";

    protected override async Task<RealWorker> StartAsync()
    {
        _storage = await Azurite.StartDedicatedAsync(persistent: false);
        _mailgun = await MailgunFake.StartAsync(TestSettings.ApiKey);
        _domain = $"exp{Guid.NewGuid():N}"[..15] + ".example.com";
        _address = $"bounced.{Guid.NewGuid():N}@example.net";
        _mailgun.SetList(_domain, "bounces", [Bounce(_address)]);

        // A registry tenant with its own Mailgun account, and one whose owner revoked the key in Mailgun's control panel.
        _tenant = TestTenants.NewId("exp");
        _tenantDomain = $"mg.{_tenant}.example.com";
        _tenantAddress = $"bounced.{Guid.NewGuid():N}@example.net";
        string tenantKey = "key-" + Guid.NewGuid().ToString("N");
        _mailgun.AddAccount(tenantKey, TestTenants.NewSigningKey(), _tenantDomain);
        _mailgun.SetList(_tenantDomain, "bounces", [Bounce(_tenantAddress)]);
        _revoked = TestTenants.NewId("rev");
        _revokedDomain = $"mg.{_revoked}.example.com";
        string revokedKey = "key-" + Guid.NewGuid().ToString("N");
        _mailgun.RevokeApiKey(_mailgun.AddAccount(revokedKey, TestTenants.NewSigningKey(), _revokedDomain));

        var worker = await RealWorker.StartAsync(new Dictionary<string, string?>
        {
            ["MailgunApi__UsBaseUrl"] = _mailgun.BaseUrl.AbsoluteUri,
            ["MailgunApi__EuBaseUrl"] = _mailgun.BaseUrl.AbsoluteUri,
            ["MailgunApi__Domains__0__Name"] = _domain,
            // Every two seconds, so the scheduled run shows up while the class runs (a rerun of the night is harmless).
            ["EXPORT_SCHEDULE"] = "*/2 * * * * *",
        }, _storage.ConnectionString);
        await TestTenants.RegisterAsync(worker.Services, _tenant, TestTenants.NewSigningKey(), [_tenantDomain], tenantKey);
        await TestTenants.RegisterAsync(worker.Services, _revoked, TestTenants.NewSigningKey(), [_revokedDomain], revokedKey);
        return worker;
    }

    [OneTimeTearDown]
    public async Task StopMailgun()
    {
        if (_mailgun is not null)
        {
            await _mailgun.DisposeAsync();
        }
    }

    [OneTimeTearDown]
    public async Task StopStorage()
    {
        if (Worker is not null)
        {
            // The worker first: it must not meet storage that is gone. Disposing it twice is harmless.
            await Worker.DisposeAsync();
        }

        if (_storage is not null)
        {
            await _storage.DisposeAsync();
        }
    }

    private static JObject Bounce(string address) =>
        new() { ["address"] = address, ["code"] = "550", ["error"] = "mailbox unknown", ["created_at"] = "Fri, 01 Jan 2021 10:00:00 UTC" };

    private Task<HttpResponseMessage> AdminRun(string function, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"admin/functions/{function}") { Content = new StringContent("{\"input\":\"\"}", System.Text.Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.Add("x-functions-key", key);
        }

        return Worker.Http.SendAsync(request);
    }

    [Test]
    public async Task Admin_api_runs_the_fan_out_and_the_queue_function_exports_each_tenant_while_a_revoked_key_fails_alone()
    {
        var response = await AdminRun("ExportSuppressions", Worker.Keys.MasterKey);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));

        var run = await Worker.Host.WaitForInvocationAsync(i => i.FunctionName == "ExportSuppressions" && i.Reason == "Manual", TimeSpan.FromSeconds(30), "of the manual export");
        Assert.That(run.Succeeded, Is.True, run.Error);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var status = await Worker.EventuallyAsync(() => Worker.Get<ExportStatusReport>().ForDateAsync(today, null, CancellationToken.None),
            s => s.Completed == 2 && s.Failed == 1, "two scopes exported, the revoked one failed", TimeSpan.FromSeconds(60));

        var container = new BlobServiceClient(Worker.Storage).GetBlobContainerClient(StorageNames.SuppressionExportsContainer);
        string day = today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var failed = status.Scopes.Single(s => s.State == ExportScopeState.Failed);
        var jobs = Worker.Host.Invocations.Where(i => i.FunctionName == "ExportSuppressionsJob").ToList();
        var poison = new QueueClient(Worker.Storage, StorageNames.ExportJobsPoisonQueue);
        Assert.Multiple(async () =>
        {
            Assert.That((await container.GetBlobClient($"default/{_domain}/{day}/bounces.csv").DownloadContentAsync()).Value.Content.ToString(), Does.Contain(_address));
            Assert.That((await container.GetBlobClient($"{_tenant}/{_tenantDomain}/{day}/bounces.csv").DownloadContentAsync()).Value.Content.ToString(), Does.Contain(_tenantAddress));
            Assert.That(status.Scopes.Where(s => s.State == ExportScopeState.Completed).Select(s => s.Tenant), Is.EquivalentTo(new[] { "default", _tenant }));
            Assert.That((failed.Tenant, failed.Domain), Is.EqualTo((_revoked, _revokedDomain)));
            Assert.That(failed.Error, Does.Contain("401"));
            Assert.That(jobs.Select(j => j.Reason), Is.Not.Empty.And.All.StartWith("New queue message"), "the timer queued the jobs; the queue function ran them");
            // The schedule fires every two seconds here, so jobs of one scope can meet; such a meeting may fail a delivery, which
            // the host retries. The revoked key is never retried: its job returns (recorded as failed), no 7022 for it.
            Assert.That(Worker.Host.WorkerLogs.Where(l => l.Message.Contains($"{_revoked}/{_revokedDomain}", StringComparison.Ordinal) && l.Message.Contains("the host retries", StringComparison.Ordinal)),
                Is.Empty, "the revoked key's job is not retried");
            Assert.That(Worker.Host.WorkerLogs.Any(l => l.Level == LogLevel.Error && l.Message.Contains($"{_revoked}/{_revokedDomain}", StringComparison.Ordinal)
                && l.Message.Contains("is not retried", StringComparison.Ordinal)), Is.True, "event 7021 in the worker's log");
            Assert.That(await poison.ExistsAsync() ? (await poison.PeekMessagesAsync(1)).Value : [], Is.Empty);
        });
    }

    [Test]
    public async Task Admin_api_needs_the_master_key_and_a_known_non_HTTP_function()
    {
        var none = await AdminRun("ExportSuppressions", null);
        var hostKey = await AdminRun("ExportSuppressions", Worker.Keys.DefaultHostKey);
        var unknown = await AdminRun("NoSuchFunction", Worker.Keys.MasterKey);
        var http = await AdminRun("MailgunEvents", Worker.Keys.MasterKey);

        Assert.Multiple(() =>
        {
            Assert.That(none.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(hostKey.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "a host key is not the master key");
            Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(http.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        });
    }

    [Test]
    public async Task Schedule_from_EXPORT_SCHEDULE_fires_the_timer()
    {
        var run = await Worker.Host.WaitForInvocationAsync(i => i.FunctionName == "ExportSuppressions" && i.Reason.StartsWith("Timer fired", StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "of the scheduled export");

        Assert.That(run.Succeeded, Is.True, run.Error);
    }
}
