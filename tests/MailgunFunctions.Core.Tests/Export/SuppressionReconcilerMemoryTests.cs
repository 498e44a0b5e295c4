using System.Globalization;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using MailgunFunctions.Dnd;
using MailgunFunctions.Export;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.MailgunApi;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Export;

/// <summary>
/// The reconciliation of a large domain keeps a bounded live heap: Mailgun's list is streamed three times, the DND
/// partition twice, and only hashes (a Bloom filter and a map of 64-bit keys) are kept. Outside the fast suite
/// (Category Slow). Records: 20,000 by default (Azurite's in-memory tables slow down on larger partitions; set more to measure), or MAILGUNFUNCTIONS_RECONCILE_RECORDS. Measures memory, never time.
/// </summary>
[Category("Slow")]
[NonParallelizable]
public class SuppressionReconcilerMemoryTests
{
    // The addresses alone as .NET strings (about 26 characters, ~80 bytes each with the object header) would take
    // 16 MB per list of 200,000; holding the list and the DND partition as records would take far more than this bound.
    private const long MaxLiveHeapGrowthBytes = 48L * 1024 * 1024;

    [Test]
    public async Task A_large_domain_is_reconciled_with_a_bounded_live_heap()
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("MAILGUNFUNCTIONS_RECONCILE_RECORDS"), out int n) ? n : 20_000;
        int ours = count / 10, fresh = 50;
        string storage = await Azurite.SharedConnectionStringAsync();
        await using var us = await MailgunFake.StartAsync(TestSettings.ApiKey);
        await using var eu = await MailgunFake.StartAsync(TestSettings.ApiKey);
        string domain = $"remem-{Guid.NewGuid():N}"[..14] + ".example.com";
        // Mailgun: `count` bounces already DND here, then `fresh` new ones (addresses sort after the others).
        us.SetGeneratedList(domain, "bounces", count + fresh, i => new JObject
        {
            ["address"] = i < count ? $"user{i:D8}@example.net" : $"zz-new{i:D8}@example.net",
            ["code"] = "550",
            ["error"] = "550 5.1.1 No such user",
            ["created_at"] = "Fri, 01 Jan 2021 10:00:00 UTC",
        });
        foreach (string list in new[] { "complaints", "unsubscribes", "whitelists" })
        {
            us.SetList(domain, list, []);
        }

        // A tenant of its own (the registry on), so the DND table compared is this test's only.
        string tenant = TestTenants.NewId("remem");
        var settings = ApiTestServices.Settings(us, eu);
        settings["Tenants:KeyEncryptionKeys:k1"] = TestSettings.KeyEncryptionKey;
        await using var services = ApiTestServices.Build(storage, settings);
        await TestTenants.RegisterAsync(services, tenant, TestTenants.NewSigningKey(), [domain]);

        // DND here: the same `count` addresses plus `ours` of our own that Mailgun does not list (review items).
        await SeedAsync(storage, tenant, Enumerable.Range(0, count).Select(i => $"user{i:D8}@example.net")
            .Concat(Enumerable.Range(0, ours).Select(i => $"ours{i:D8}@example.net")));

        var export = services.GetRequiredService<SuppressionExport>();

        var (summary, baseline, peak) = await LiveHeapPeak.MeasureAsync(() => export.ExportDomainAsync(new ExportScope(tenant, domain), new DateOnly(2026, 11, 26), CancellationToken.None));

        var container = new BlobServiceClient(storage).GetBlobContainerClient(StorageNames.SuppressionExportsContainer);
        long dndSize = (await container.GetBlobClient($"{tenant}/{domain}/2026-11-26/dnd.csv").GetPropertiesAsync()).Value.ContentLength;
        var counts = summary.ReconciliationCounts!;
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{count + fresh} Mailgun records, {count + ours} DND entries, dnd.csv {dndSize / 1024} KiB, live heap baseline {baseline / 1024 / 1024} MiB, peak {peak / 1024 / 1024} MiB, growth {(peak - baseline) / 1024 / 1024} MiB; {string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}"))}"));
        Assert.Multiple(() =>
        {
            Assert.That(counts["applied"], Is.EqualTo(fresh));
            Assert.That(counts["already-dnd"], Is.EqualTo(count));
            Assert.That(counts["point-reads"], Is.Zero, "the DND map fitted");
            Assert.That(counts["review"], Is.InRange(ours - ours / 100, ours), "the filter may hide about 0.1 %");
            Assert.That(counts["dnd-entries"], Is.EqualTo(count + ours + fresh));
            Assert.That(peak - baseline, Is.LessThan(MaxLiveHeapGrowthBytes));
        });
    }

    /// <summary>Writes permanent DND entries straight into the table, 100 per transaction (one partition: the tenant).</summary>
    private static async Task SeedAsync(string storage, string tenant, IEnumerable<string> addresses)
    {
        var table = new TableServiceClient(storage).GetTableClient(StorageNames.DndEntriesTable);
        await table.CreateIfNotExistsAsync();
        var at = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var options = new DndOptions();
        var batches = addresses.Select(a =>
        {
            var entry = DndEntry.Empty(tenant, a).Apply(DndChange.PlatformUnsubscribe(at, "seed-" + a));
            return new TableTransactionAction(TableTransactionActionType.Add, DndEntryCodec.ToEntity(entry, DndPolicy.Evaluate(entry, at, options), at));
        }).Chunk(100);
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (batch, ct) => await table.SubmitTransactionAsync(batch, ct));
    }
}
