using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using MailgunFunctions.App;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests;

public class SuppressionExportFunctionTests
{
    [Test]
    public void The_timer_binding_takes_its_schedule_from_EXPORT_SCHEDULE_without_RunOnStartup()
    {
        string metadata = Path.Combine(Path.GetDirectoryName(typeof(SuppressionExportFunction).Assembly.Location)!, "functions.metadata");
        var function = JArray.Parse(File.ReadAllText(metadata)).Single(f => (string?)f["name"] == "ExportSuppressions");
        var binding = (JObject)function["bindings"]!.Single();

        Assert.Multiple(() =>
        {
            Assert.That((string?)binding["type"], Is.EqualTo("timerTrigger"));
            Assert.That((string?)binding["schedule"], Is.EqualTo("%EXPORT_SCHEDULE%"));
            Assert.That((bool?)binding["runOnStartup"], Is.False);
            Assert.That((bool?)binding["useMonitor"], Is.True);
        });
    }

    [Test]
    public async Task ExportSuppressions_queues_a_job_per_domain_for_the_UTC_date_of_now_and_the_job_function_exports_it()
    {
        string storage = await Azurite.SharedConnectionStringAsync();
        await using var mailgun = await MailgunFake.StartAsync(TestSettings.ApiKey);
        string domain = $"app-{Guid.NewGuid():N}"[..12] + ".example.com";
        mailgun.SetList(domain, "bounces", [new JObject { ["address"] = "a@example.net", ["code"] = "550", ["error"] = "no", ["created_at"] = "Fri, 01 Jan 2021 10:00:00 UTC" }]);
        var configuration = TestSettings.Configuration(storage, new Dictionary<string, string?>
        {
            ["MailgunApi:UsBaseUrl"] = mailgun.BaseUrl.AbsoluteUri,
            ["MailgunApi:EuBaseUrl"] = mailgun.BaseUrl.AbsoluteUri,
            ["MailgunApi:Domains:0:Name"] = domain,
            // Single-account only: other tests' registry tenants in the shared Azurite are not this run's.
            ["Tenants:KeyEncryptionKeys:k1"] = "",
        });
        // 23:30 in New York is already the next day in UTC: the export is named by the UTC date.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 23, 30, 0, TimeSpan.FromHours(-5)));
        await using var services = TestSettings.Services(configuration, (s, c) => s.AddMailgunFunctions(c), time);
        var timer = ActivatorUtilities.CreateInstance<SuppressionExportFunction>(services);

        await timer.RunAsync(new TimerInfo(), CancellationToken.None);

        // The timer only queued: nothing is exported yet.
        var container = new BlobServiceClient(storage).GetBlobContainerClient(StorageNames.SuppressionExportsContainer);
        Assert.That((await container.GetBlobClient($"default/{domain}/2026-11-27/summary.json").ExistsAsync()).Value, Is.False);
        var queue = new QueueClient(storage, StorageNames.ExportJobsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        // The queue is shared with other tests' jobs: take batches until ours is among them (the others reappear in 30 s).
        var ours = new List<Azure.Storage.Queues.Models.QueueMessage>();
        for (int batch = 0; batch < 10 && ours.Count == 0; batch++)
        {
            ours.AddRange((await queue.ReceiveMessagesAsync(32)).Value.Where(m => m.Body.ToString().Contains(domain, StringComparison.Ordinal)));
        }

        Assert.That(ours.Select(m => m.Body.ToString()), Is.EqualTo(new[] { $"{{\"tenant\":\"default\",\"domain\":\"{domain}\",\"date\":\"2026-11-27\",\"continuation\":0}}" }));

        var job = ActivatorUtilities.CreateInstance<SuppressionExportJobFunction>(services);
        await job.RunAsync(ours[0], CancellationToken.None);
        await queue.DeleteMessageAsync(ours[0].MessageId, ours[0].PopReceipt);

        Assert.That((await container.GetBlobClient($"default/{domain}/2026-11-27/summary.json").ExistsAsync()).Value, Is.True);
        Assert.That((await container.GetBlobClient($"default/{domain}/2026-11-27/bounces.csv").DownloadContentAsync()).Value.Content.ToString(),
            Does.Contain("\"a@example.net\",\"550\",\"no\","));
    }
}
