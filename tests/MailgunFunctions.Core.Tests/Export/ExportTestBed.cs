using Azure.Storage.Blobs;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Export;

/// <summary>
/// What the export and reconciliation tests share: two Mailgun fakes (US and EU, real HTTP) for the fixture, reset
/// before each test, the shared Azurite, and reading what the export wrote to Blob Storage.
/// </summary>
[NonParallelizable]
public abstract class ExportTestBed
{
    protected static readonly DateOnly Day = new(2026, 11, 26);

    protected MailgunFake Us { get; private set; } = null!;

    protected MailgunFake Eu { get; private set; } = null!;

    protected string Storage { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task StartFakes()
    {
        Storage = await Azurite.SharedConnectionStringAsync();
        Us = await MailgunFake.StartAsync(TestSettings.ApiKey);
        Eu = await MailgunFake.StartAsync(TestSettings.ApiKey);
    }

    [OneTimeTearDown]
    public async Task StopFakes()
    {
        await Us.DisposeAsync();
        await Eu.DisposeAsync();
    }

    [SetUp]
    public void ResetFakes()
    {
        Us.Reset();
        Eu.Reset();
    }

    /// <summary>Serves the four suppression lists of <paramref name="domain"/> (empty where not given).</summary>
    protected static void HostLists(MailgunFake fake, string domain, IEnumerable<JObject>? bounces = null, IEnumerable<JObject>? complaints = null,
        IEnumerable<JObject>? unsubscribes = null, IEnumerable<JObject>? allowlist = null)
    {
        fake.SetList(domain, "bounces", bounces ?? []);
        fake.SetList(domain, "complaints", complaints ?? []);
        fake.SetList(domain, "unsubscribes", unsubscribes ?? []);
        fake.SetList(domain, "whitelists", allowlist ?? []);
    }

    protected BlobContainerClient Exports() => new BlobServiceClient(Storage).GetBlobContainerClient(StorageNames.SuppressionExportsContainer);

    /// <summary>The text of an export blob, or null when it does not exist.</summary>
    protected async Task<string?> ReadExportBlob(string name)
    {
        var blob = Exports().GetBlobClient(name);
        return await blob.ExistsAsync() ? (await blob.DownloadContentAsync()).Value.Content.ToString() : null;
    }
}
