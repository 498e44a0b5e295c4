using System.Globalization;
using Azure.Storage.Blobs;
using MailgunFunctions.Export;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.MailgunApi;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Export;

/// <summary>
/// The export streams: a list far bigger than the memory it may use goes from the Mailgun fake to a blob while the
/// live managed heap stays flat. Outside the fast suite (Category Slow). Records: 200,000 by default, or
/// MAILGUNFUNCTIONS_MEMORY_RECORDS (e.g. 1000000). Measures memory, never time.
/// </summary>
[Category("Slow")]
[NonParallelizable]
public class SuppressionExportMemoryTests
{
    // Held in memory, 200,000 of these records would take well over 150 MB of strings alone.
    private const long MaxLiveHeapGrowthBytes = 48L * 1024 * 1024;

    [Test]
    public async Task A_large_list_is_exported_with_a_bounded_live_heap()
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("MAILGUNFUNCTIONS_MEMORY_RECORDS"), out int n) ? n : 200_000;
        string storage = await Azurite.SharedConnectionStringAsync();
        await using var us = await MailgunFake.StartAsync(TestSettings.ApiKey);
        await using var eu = await MailgunFake.StartAsync(TestSettings.ApiKey);
        string domain = $"mem-{Guid.NewGuid():N}"[..12] + ".example.com";
        string error = "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. "
            + new string('x', 150);
        us.SetGeneratedList(domain, "bounces", count, i => new JObject
        {
            ["address"] = $"user{i:D8}@example.net",
            ["code"] = "550",
            ["error"] = error + i.ToString(CultureInfo.InvariantCulture),
            ["created_at"] = "Fri, 01 Jan 2021 10:00:00 UTC",
        });
        foreach (string list in new[] { "complaints", "unsubscribes" })
        {
            us.SetList(domain, list, []);
        }

        // The generated addresses' domain is allowlisted: the reconciliation streams the list again but writes no DND
        // entry (200,000 writes would measure Table Storage, not the export; SuppressionReconcilerMemoryTests covers those).
        us.SetList(domain, "whitelists", [ApiTestServices.Allow("example.net", type: "domain")]);

        var settings = ApiTestServices.Settings(us, eu, (domain, "Us"));
        await using var services = ApiTestServices.Build(storage, settings);
        var export = services.GetRequiredService<SuppressionExport>();

        var (summary, baseline, peak) = await LiveHeapPeak.MeasureAsync(() => export.ExportDomainAsync(new ExportScope("default", domain), new DateOnly(2026, 11, 26), CancellationToken.None));

        var blob = new BlobServiceClient(storage).GetBlobContainerClient(StorageNames.SuppressionExportsContainer).GetBlobClient($"default/{domain}/2026-11-26/bounces.csv");
        long size = (await blob.GetPropertiesAsync()).Value.ContentLength;
        TestContext.Out.WriteLine($"{count} records, CSV {size / 1024 / 1024} MiB, live heap baseline {baseline / 1024 / 1024} MiB, peak {peak / 1024 / 1024} MiB, growth {(peak - baseline) / 1024 / 1024} MiB");
        Assert.Multiple(() =>
        {
            Assert.That(summary.Lists["bounces"].Records, Is.EqualTo(count));
            Assert.That(summary.ReconciliationCounts!["allowlisted"], Is.EqualTo(count));
            Assert.That(size, Is.GreaterThan((long)count * 300), "the whole list reached the blob");
            Assert.That(peak - baseline, Is.LessThan(MaxLiveHeapGrowthBytes));
        });
    }
}
