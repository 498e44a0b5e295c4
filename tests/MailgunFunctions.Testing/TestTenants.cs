using MailgunFunctions.MailgunApi;
using MailgunFunctions.Tenants;
using Microsoft.Extensions.DependencyInjection;

namespace MailgunFunctions.Testing;

/// <summary>Tenants in the registry for tests: each with its own id, signing key, API key and domain, so tests never share one.</summary>
public static class TestTenants
{
    /// <summary>A new tenant id (no dot, lower case), unique to the test.</summary>
    public static string NewId(string prefix = "loc") => prefix + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A signing key of the shape Mailgun gives (never the API key).</summary>
    public static string NewSigningKey() => "key-" + Guid.NewGuid().ToString("N");

    /// <summary>Registers a connected tenant with one signing key ("primary") and its domains, through the app's own registry.</summary>
    public static async Task<Tenant> RegisterAsync(IServiceProvider services, string id, string signingKey, string[] domains, string apiKey = TestSettings.ApiKey,
        string? parentAccount = null, string? mailgunAccountId = null, MailgunRegion region = MailgunRegion.Us, TenantNotifications? notifications = null,
        int shard = 0)
    {
        var registry = services.GetRequiredService<TenantRegistry>();
        var tenant = new Tenant
        {
            Id = id,
            DisplayName = "Location " + id,
            Region = region,
            Domains = domains.Select(d => new TenantDomain(d, region)).ToList(),
            State = TenantState.Connected,
            ApiKey = apiKey,
            SigningKeys = [new TenantSigningKey("primary", signingKey, DateTimeOffset.UnixEpoch)],
            ParentAccount = parentAccount,
            MailgunAccountId = mailgunAccountId,
            Notifications = notifications,
            Shard = shard,
        };
        var saved = await registry.SaveAsync(tenant, "test", "test-register", CancellationToken.None);
        services.GetRequiredService<TenantDirectory>().Forget(id);
        return saved;
    }
}
