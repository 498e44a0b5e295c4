using System.Net;
using Azure.Storage.Blobs;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.EndToEnd.Tests;

/// <summary>
/// The nightly export's timer through the real worker, against the Mailgun fake: on demand through the admin API,
/// and on the schedule the worker's metadata names (%EXPORT_SCHEDULE%, resolved from the settings).
/// </summary>
public class TimerExportTests : WorkerTests
{
    private MailgunFake _mailgun = null!;
    private string _domain = "";
    private string _address = "";

    protected override async Task<RealWorker> StartAsync()
    {
        _mailgun = await MailgunFake.StartAsync(TestSettings.ApiKey);
        _domain = $"exp{Guid.NewGuid():N}"[..15] + ".example.com";
        _address = $"bounced.{Guid.NewGuid():N}@example.net";
        _mailgun.SetList(_domain, "bounces", [new JObject { ["address"] = _address, ["code"] = "550", ["error"] = "mailbox unknown", ["created_at"] = "Fri, 01 Jan 2021 10:00:00 UTC" }]);
        return await RealWorker.StartAsync(new Dictionary<string, string?>
        {
            ["MailgunApi__UsBaseUrl"] = _mailgun.BaseUrl.AbsoluteUri,
            ["MailgunApi__EuBaseUrl"] = _mailgun.BaseUrl.AbsoluteUri,
            ["MailgunApi__Domains__0__Name"] = _domain,
            // The single-account tenant only: the shared Azurite holds other tests' registry tenants, not hosted by this fake.
            ["Tenants__KeyEncryptionKeys__k1"] = "",
            // Every two seconds, so the scheduled run shows up while the class runs.
            ["EXPORT_SCHEDULE"] = "*/2 * * * * *",
        });
    }

    [OneTimeTearDown]
    public async Task StopMailgun()
    {
        if (_mailgun is not null)
        {
            await _mailgun.DisposeAsync();
        }
    }

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
    public async Task Admin_api_runs_the_export_now_reading_Mailgun_and_writing_the_domain_export()
    {
        var response = await AdminRun("ExportSuppressions", Worker.Keys.MasterKey);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));

        var run = await Worker.Host.WaitForInvocationAsync(i => i.FunctionName == "ExportSuppressions" && i.Reason == "Manual", TimeSpan.FromSeconds(30), "of the manual export");
        Assert.That(run.Succeeded, Is.True, run.Error);
        var container = new BlobServiceClient(Worker.Storage).GetBlobContainerClient(StorageNames.SuppressionExportsContainer);
        var csv = await container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "default/" + _domain + "/", CancellationToken.None).Where(b => b.Name.EndsWith("/bounces.csv", StringComparison.Ordinal)).FirstAsync();
        Assert.Multiple(async () =>
        {
            Assert.That((await container.GetBlobClient(csv.Name).DownloadContentAsync()).Value.Content.ToString(), Does.Contain(_address));
            Assert.That(_mailgun.Requests.Any(r => r.RawTarget.StartsWith($"/v3/{_domain}/bounces", StringComparison.Ordinal) && r.Status == 200), Is.True,
                "the worker called the fake with the API key");
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
