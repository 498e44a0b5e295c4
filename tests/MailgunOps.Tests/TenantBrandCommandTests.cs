using MailgunFunctions;
using MailgunFunctions.Tenants;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace MailgunOps.Tests;

/// <summary><c>tenant set --brand-name/--brand-logo-url</c>: what the unsubscribe page names, stored in the registry and audited.</summary>
public sealed class TenantBrandCommandTests : OpsHarness
{
    private async Task<Tenant?> StoredAsync()
    {
        await using var services = TestSettings.Services(TestSettings.Configuration(Storage), (s, c) => s.AddMailgunCore(c), TimeProvider.System);
        return await services.GetRequiredService<TenantRegistry>().GetAsync(Tenant, CancellationToken.None);
    }

    [Test]
    public async Task The_brand_and_its_https_logo_are_stored_shown_audited_and_cleared_with_none()
    {
        var set = await RunAsync("tenant", "set", "--tenant", Tenant, "--brand-name", "  Bäckerei Nord & Söhne ", "--brand-logo-url", "https://cdn.example.com/nord.png");
        var stored = await StoredAsync();
        var show = await RunAsync("tenant", "show", "--tenant", Tenant, "--json");
        var audit = await RunAsync("tenant", "audit", "--tenant", Tenant);
        var clear = await RunAsync("tenant", "set", "--tenant", Tenant, "--brand-name", "none", "--brand-logo-url", "none");
        var cleared = await StoredAsync();
        var showCleared = await RunAsync("tenant", "show", "--tenant", Tenant);

        Assert.Multiple(() =>
        {
            Assert.That(set.ExitCode, Is.EqualTo(ExitCodes.Ok), set.ToString());
            Assert.That(stored!.BrandName, Is.EqualTo("Bäckerei Nord & Söhne"));
            Assert.That(stored.BrandLogoUrl, Is.EqualTo(new Uri("https://cdn.example.com/nord.png")));
            Assert.That((string?)show.Json["brandName"], Is.EqualTo("Bäckerei Nord & Söhne"), show.ToString());
            Assert.That((string?)show.Json["brandLogoUrl"], Is.EqualTo("https://cdn.example.com/nord.png"));
            Assert.That(audit.Stdout, Does.Contain("brand").And.Contain("Bäckerei Nord"), audit.ToString());
            Assert.That(clear.ExitCode, Is.EqualTo(ExitCodes.Ok), clear.ToString());
            Assert.That((cleared!.BrandName, cleared.BrandLogoUrl), Is.EqualTo(((string?)null, (Uri?)null)));
            Assert.That(showCleared.Stdout, Does.Contain($"not set (the unsubscribe page shows 'Location {Tenant}')"), showCleared.ToString());
        });
    }

    [TestCase("--brand-logo-url", "http://cdn.example.com/logo.png", "https")]
    [TestCase("--brand-logo-url", "javascript:alert(1)", "https")]
    [TestCase("--brand-logo-url", "https://user:pw@cdn.example.com/logo.png", "user name or password")]
    [TestCase("--brand-logo-url", "/logo.png", "absolute https")]
    [TestCase("--brand-name", "   ", "empty")]
    [TestCase("--brand-name", "Line\nbreak", "control characters")]
    public async Task A_bad_brand_is_refused_naming_the_option_and_nothing_changes(string option, string value, string reason)
    {
        var run = await RunAsync("tenant", "set", "--tenant", Tenant, option, value);
        var stored = await StoredAsync();

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage), run.ToString());
        Assert.That(run.Stderr, Does.Contain(option + ":").And.Contain(reason));
        Assert.That((stored!.BrandName, stored.BrandLogoUrl), Is.EqualTo(((string?)null, (Uri?)null)));
    }

    [Test]
    public async Task A_brand_name_longer_than_the_page_can_show_is_refused()
    {
        var run = await RunAsync("tenant", "set", "--tenant", Tenant, "--brand-name", new string('x', TenantBrand.MaxNameLength + 1));
        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage), run.ToString());
        Assert.That(run.Stderr, Does.Contain($"at most {TenantBrand.MaxNameLength}"));
    }
}
