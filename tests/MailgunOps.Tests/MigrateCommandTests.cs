using MailgunFunctions;
using MailgunFunctions.Dnd;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunOps.Tests;

/// <summary>
/// <c>mailgun-ops migrate</c> on a populated Azurite. Before tenants, the tenant of every row was the sending domain
/// (DndKeys.TenantKey of the domain): the old rows are written here the way that code wrote them, through the same
/// store with the domain as the tenant, then moved to the tenant that owns each domain.
/// </summary>
[NonParallelizable]
public sealed class MigrateCommandTests : OpsHarness
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow.AddDays(-3);

    [Test]
    public async Task WithMoreThanOneStorageShardTheMigrationRefusesBeforeReadingAnything()
    {
        StorageShards = 2;

        var run = await RunAsync("migrate", "--dry-run", "--json");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Refused), run.ToString());
            Assert.That(run.Stderr, Does.Contain("migrate before raising Storage__Shards"));
        });
    }

    [Test]
    public async Task OldDomainPartitionsMoveToTheirTenantMergedAndARerunMovesNothing()
    {
        string owner = TestTenants.NewId("m");
        string a = owner + "-a.example.com", b = owner + "-b.example.com", unowned = owner + "-legacy.example.com";
        const string both = "both@example.net", onlyA = "only-a@example.net", onlyB = "only-b@example.net", old = "old@example.net";
        await using (var services = TestSettings.Services(TestSettings.Configuration(Storage), (s, c) => s.AddMailgunCore(c), TimeProvider.System))
        {
            await TestTenants.RegisterAsync(services, owner, TestTenants.NewSigningKey(), [a, b]);
            var store = services.GetRequiredService<DndStore>();
            // The old layout: the domain was the tenant.
            await store.ApplyAsync(a, both, DndChange.FromMailgunSuppression("complaints", both, T0, "c1"), CancellationToken.None);
            await store.ApplyAsync(a, onlyA, DndChange.FromMailgunSuppression("bounces", onlyA, T0, "c2", "550", "no such user"), CancellationToken.None);
            await store.ApplyAsync(b, both, DndChange.FromMailgunSuppression("bounces", both, T0.AddHours(1), "c3", "550", "no such user"), CancellationToken.None);
            await store.ApplyAsync(b, onlyB, DndChange.FromMailgunSuppression("unsubscribes", onlyB, T0, "c4"), CancellationToken.None);
            await store.ApplyAsync(unowned, old, DndChange.FromMailgunSuppression("bounces", old, T0, "c5", "550", "gone"), CancellationToken.None);
        }

        // Without a single-account tenant the unowned domain stays; a dry run writes nothing.
        var dry = await RunAsync(["migrate", "--dry-run", "--json"], apiKey: "");
        var dryEntries = await EntriesAsync(a, both);
        var moved = await RunAsync(["migrate", "--json"], apiKey: "");
        var unownedAfterMove = await EntriesAsync(unowned, old);
        // With the single-account tenant (the one-account install), the rest is its.
        var single = await RunAsync(["migrate", "--json"]);
        var again = await RunAsync(["migrate", "--json"]);

        await using var check = TestSettings.Services(TestSettings.Configuration(Storage), (s, c) => s.AddMailgunCore(c), TimeProvider.System);
        var dnd = check.GetRequiredService<DndStore>();
        var merged = await dnd.GetStatusAsync(owner, both, CancellationToken.None);
        var history = new List<DndHistoryRecord>();
        await foreach (var record in dnd.HistoryAsync(owner, both, CancellationToken.None))
        {
            history.Add(record);
        }

        var onlyAStatus = (await dnd.GetStatusAsync(owner, onlyA, CancellationToken.None)).Status.State;
        var onlyBStatus = (await dnd.GetStatusAsync(owner, onlyB, CancellationToken.None)).Status.State;
        var oldRowAfter = await EntriesAsync(a, both);
        var singleAccountStatus = (await dnd.GetStatusAsync("default", old, CancellationToken.None)).Status.State;
        var afterRerun = await dnd.GetStatusAsync(owner, both, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(dry.ExitCode, Is.EqualTo(ExitCodes.Problems), dry.ToString());
            var dryMine = Mine(dry, owner);
            Assert.That((string?)dryMine[a]["tenant"], Is.EqualTo(owner));
            Assert.That((string?)dryMine[a]["owner"], Is.EqualTo("registry"));
            Assert.That((int)dryMine[a]["tables"]![StorageNamesDndEntries]!["rows"]!, Is.EqualTo(2));
            Assert.That((string?)dryMine[unowned]["owner"], Is.EqualTo("none"));
            Assert.That(dry.Stderr, Does.Contain($"domain {unowned}").And.Contain("stay"));
            Assert.That(dryEntries, Is.Not.Null, "a dry run moves nothing");

            Assert.That(moved.ExitCode, Is.EqualTo(ExitCodes.Problems), moved.ToString());
            var mine = Mine(moved, owner);
            Assert.That((int)mine[b]["tables"]![StorageNamesDndEntries]!["merged"]!, Is.EqualTo(1), "both domains held the address");
            Assert.That(merged.Status.State, Is.EqualTo(DndState.Locked), "the complaint under one domain locks the address for the whole tenant");
            Assert.That(merged.Entry!.LatestPermanentCause, Is.Not.Null, "and the bounce under the other domain is kept");
            Assert.That(merged.Entry.FirstComplaintAt, Is.EqualTo(T0).Within(TimeSpan.FromSeconds(1)));
            Assert.That(history, Has.Count.EqualTo(2), "the history of both domains");
            Assert.That(onlyAStatus, Is.EqualTo(DndState.Permanent));
            Assert.That(onlyBStatus, Is.EqualTo(DndState.Permanent));
            Assert.That(oldRowAfter, Is.Null, "the old row is gone");
            Assert.That(unownedAfterMove, Is.Not.Null, "no tenant owns it: it stays");

            Assert.That(single.ExitCode, Is.EqualTo(ExitCodes.Ok), single.ToString());
            Assert.That((string?)Mine(single, owner)[unowned]["owner"], Is.EqualTo("single-account"));
            Assert.That(singleAccountStatus, Is.EqualTo(DndState.Permanent));

            Assert.That(again.ExitCode, Is.EqualTo(ExitCodes.Ok), again.ToString());
            Assert.That(Mine(again, owner), Is.Empty, "nothing of these domains is left to move");
            Assert.That(afterRerun.Status, Is.EqualTo(merged.Status), "a rerun changes nothing");
        });
    }

    private const string StorageNamesDndEntries = MailgunFunctions.Storage.StorageNames.DndEntriesTable;

    /// <summary>The report's domains of this test (the shared Azurite may hold other tests' rows).</summary>
    private static Dictionary<string, JObject> Mine(OpsRun run, string owner) =>
        ((JArray)run.Json["domains"]!).Cast<JObject>().Where(d => ((string)d["domain"]!).StartsWith(owner, StringComparison.Ordinal))
            .ToDictionary(d => (string)d["domain"]!);

    private async Task<DndEntry?> EntriesAsync(string tenant, string address)
    {
        await using var services = TestSettings.Services(TestSettings.Configuration(Storage), (s, c) => s.AddMailgunCore(c), TimeProvider.System);
        return await services.GetRequiredService<DndStore>().GetAsync(tenant, address, CancellationToken.None);
    }
}
