using Azure.Data.Tables;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace MailgunFunctions.Tests.Tenants;

/// <summary>The registry on a real Azurite: secrets sealed at rest, one owner per domain, conditional writes, an audit without secrets.</summary>
public class TenantRegistryTests
{
    private ServiceProvider _services = null!;
    private FakeTimeProvider _time = null!;
    private string _storage = "";

    [SetUp]
    public async Task SetUp()
    {
        _storage = await Azurite.SharedConnectionStringAsync();
        _time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        _services = TestSettings.Services(TestSettings.Configuration(_storage), (s, c) => s.AddMailgunCore(c), _time);
    }

    [TearDown]
    public async Task TearDown() => await _services.DisposeAsync();

    private TenantRegistry Registry => _services.GetRequiredService<TenantRegistry>();

    private static string NewDomain() => $"mg{Guid.NewGuid():N}"[..14] + ".example.com";

    [Test]
    public async Task A_saved_tenant_reads_back_whole_and_its_secrets_are_never_plain_text_in_the_table()
    {
        string id = TestTenants.NewId(), domain = NewDomain(), signing = TestTenants.NewSigningKey();
        var tenant = new Tenant
        {
            Id = id,
            DisplayName = "Shop Berlin",
            Region = MailgunRegion.Eu,
            Domains = [new TenantDomain(domain, MailgunRegion.Eu)],
            ApiKey = "key-api-plain-0001",
            SigningKeys = [new TenantSigningKey("primary", signing, DateTimeOffset.UnixEpoch)],
            Notifications = new TenantNotifications(new Uri("https://platform.example/hooks/dnd"), "notify-secret-0001"),
            BrandName = "Shop Berlin GmbH",
        };

        await Registry.SaveAsync(tenant, "ops:alice", "connect", CancellationToken.None);
        var read = await Registry.GetAsync(id, CancellationToken.None);
        var raw = (await new TableClient(_storage, StorageNames.TenantsTable).GetEntityAsync<TableEntity>(id, "")).Value;
        string rawText = string.Join("\n", raw.Select(p => $"{p.Key}={p.Value}"));

        Assert.Multiple(() =>
        {
            Assert.That(read!.ApiKey, Is.EqualTo("key-api-plain-0001"));
            Assert.That(read.SigningKeys.Single().Secret, Is.EqualTo(signing));
            Assert.That(read.Notifications!.Secret, Is.EqualTo("notify-secret-0001"));
            Assert.That(read.Domains.Single(), Is.EqualTo(new TenantDomain(domain, MailgunRegion.Eu)));
            Assert.That(read.BrandName, Is.EqualTo("Shop Berlin GmbH"));
            Assert.That(rawText, Does.Not.Contain("key-api-plain-0001").And.Not.Contain(signing).And.Not.Contain("notify-secret-0001"));
            Assert.That(SecretBox.IsSealed(raw.GetString("ApiKey")), Is.True);
        });
    }

    [Test]
    public async Task A_domain_belongs_to_one_tenant_and_is_free_again_once_removed()
    {
        string a = TestTenants.NewId(), b = TestTenants.NewId(), domain = NewDomain();
        var tenantA = await TestTenants.RegisterAsync(_services, a, TestTenants.NewSigningKey(), [domain]);

        var taken = Assert.ThrowsAsync<DomainTakenException>(() => TestTenants.RegisterAsync(_services, b, TestTenants.NewSigningKey(), [domain]));
        Assert.That(taken!.Owner, Is.EqualTo(a));
        Assert.That(await Registry.GetAsync(b, CancellationToken.None), Is.Null, "a refused save writes no tenant");

        await Registry.SaveAsync(tenantA with { Domains = [] }, "ops", "remove-domain", CancellationToken.None);
        await TestTenants.RegisterAsync(_services, b, TestTenants.NewSigningKey(), [domain]);

        Assert.That(await Registry.TenantOfDomainAsync(domain.ToUpperInvariant(), CancellationToken.None), Is.EqualTo(b));
    }

    [Test]
    public async Task A_claim_left_by_a_save_that_stopped_is_taken_over_by_the_next_save()
    {
        string stale = TestTenants.NewId(), b = TestTenants.NewId(), domain = NewDomain();
        // As if a save claimed the domain and stopped before writing its tenant row.
        await new TableClient(_storage, StorageNames.TenantDomainsTable).UpsertEntityAsync(new TableEntity(domain, "") { ["TenantId"] = stale });

        await TestTenants.RegisterAsync(_services, b, TestTenants.NewSigningKey(), [domain]);

        Assert.That(await Registry.TenantOfDomainAsync(domain, CancellationToken.None), Is.EqualTo(b));
    }

    [Test]
    public async Task A_save_that_meets_a_change_made_since_its_read_writes_nothing_and_says_so()
    {
        string id = TestTenants.NewId();
        var saved = await TestTenants.RegisterAsync(_services, id, TestTenants.NewSigningKey(), [NewDomain()]);
        var competitor = new CompetingTenantWrite(new TableClient(_storage, StorageNames.TenantsTable), id);
        await using var services = TestSettings.Services(TestSettings.Configuration(_storage), (s, c) => s.AddMailgunCore(c), TimeProvider.System,
            before: s => s.AddSingleton<Azure.Core.Pipeline.HttpPipelinePolicy>(competitor));

        // The competitor renames the tenant between this save's read and its write.
        Assert.ThrowsAsync<TenantChangedException>(() => services.GetRequiredService<TenantRegistry>().SaveAsync(saved with { DisplayName = "mine" }, "ops:a", "rename", CancellationToken.None));

        Assert.Multiple(async () =>
        {
            Assert.That(competitor.Fired, Is.True, "the interleaving happened");
            Assert.That((await Registry.GetAsync(id, CancellationToken.None))!.DisplayName, Is.EqualTo("theirs"));
        });
    }

    /// <summary>Before the first write (PUT) to the tenant's row, writes the row itself: a second operator saving at the same time.</summary>
    private sealed class CompetingTenantWrite(TableClient table, string id) : Azure.Core.Pipeline.HttpPipelineSynchronousPolicy
    {
        public bool Fired { get; private set; }

        public override void OnSendingRequest(Azure.Core.HttpMessage message)
        {
            if (!Fired && message.Request.Method == Azure.Core.RequestMethod.Put && message.Request.Uri.Path.Contains($"/{StorageNames.TenantsTable}(PartitionKey='{id}'", StringComparison.Ordinal))
            {
                Fired = true;
                var row = table.GetEntity<TableEntity>(id, "").Value;
                row["DisplayName"] = "theirs";
                table.UpdateEntity(row, row.ETag, TableUpdateMode.Merge);
            }
        }
    }

    [Test]
    public async Task Every_change_is_audited_with_who_and_what_and_never_a_secret()
    {
        string id = TestTenants.NewId(), d1 = NewDomain(), d2 = NewDomain();
        string oldKey = TestTenants.NewSigningKey(), newKey = TestTenants.NewSigningKey();
        var saved = await TestTenants.RegisterAsync(_services, id, oldKey, [d1], apiKey: "key-api-audit-1");
        _time.Advance(TimeSpan.FromSeconds(1));
        await Registry.SaveAsync(saved with
        {
            Domains = [.. saved.Domains, new TenantDomain(d2, MailgunRegion.Us)],
            SigningKeys = [.. saved.SigningKeys, new TenantSigningKey("next", newKey, DateTimeOffset.UnixEpoch)],
            ApiKey = "key-api-audit-2",
        }, "ops:bob", "add-domain", CancellationToken.None);

        var trail = new List<TenantAuditRecord>();
        await foreach (var r in Registry.AuditTrailAsync(id, CancellationToken.None))
        {
            trail.Add(r);
        }

        string all = string.Join("\n", trail.Select(t => $"{t.Actor} {t.Action} {t.Detail}"));
        Assert.Multiple(() =>
        {
            Assert.That(trail.Select(t => t.Action), Is.EqualTo(new[] { "add-domain", "test-register" }), "newest first");
            Assert.That(trail[0].Actor, Is.EqualTo("ops:bob"));
            Assert.That(trail[0].Detail, Does.Contain("+" + d2).And.Contain("signing keys: +next").And.Contain("api key: changed"));
            Assert.That(all, Does.Not.Contain(oldKey).And.Not.Contain(newKey).And.Not.Contain("key-api-audit"));
        });
    }

    [Test]
    public async Task Rewrap_moves_every_secret_to_a_new_key_encryption_key()
    {
        string id = TestTenants.NewId(), signing = TestTenants.NewSigningKey();
        await TestTenants.RegisterAsync(_services, id, signing, [NewDomain()], apiKey: "key-api-rewrap");
        var rotated = TestSettings.Configuration(_storage, new Dictionary<string, string?>
        {
            ["Tenants:KeyEncryptionKeys:k2"] = "test-kek-two-0123456789abcdef01234567890",
            ["Tenants:ActiveKeyId"] = "k2",
        });
        await using var services = TestSettings.Services(rotated, (s, c) => s.AddMailgunCore(c), TimeProvider.System);

        var (rewrapped, skipped) = await services.GetRequiredService<TenantRegistry>().RewrapAsync("ops:kek", CancellationToken.None);

        var raw = (await new TableClient(_storage, StorageNames.TenantsTable).GetEntityAsync<TableEntity>(id, "")).Value;
        var onlyK2 = TestSettings.Configuration(_storage, new Dictionary<string, string?>
        {
            ["Tenants:KeyEncryptionKeys:k1"] = "",
            ["Tenants:KeyEncryptionKeys:k2"] = "test-kek-two-0123456789abcdef01234567890",
        });
        await using var withoutOld = TestSettings.Services(onlyK2, (s, c) => s.AddMailgunCore(c), TimeProvider.System);
        var read = await withoutOld.GetRequiredService<TenantRegistry>().GetAsync(id, CancellationToken.None);
        Assert.Multiple(() =>
        {
            Assert.That(rewrapped, Is.GreaterThanOrEqualTo(1));
            Assert.That(skipped, Is.Zero);
            Assert.That(SecretBox.KeyIdOf(raw.GetString("ApiKey")), Is.EqualTo("k2"));
            Assert.That(SecretBox.KeyIdOf(raw.GetString("SigningKeys")), Is.EqualTo("k2"));
            Assert.That(read!.ApiKey, Is.EqualTo("key-api-rewrap"));
            Assert.That(read.SigningKeys.Single().Secret, Is.EqualTo(signing));
        });
    }
}
