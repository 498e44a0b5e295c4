using MailgunFunctions.Dnd;
using MailgunFunctions.Testing;
using Microsoft.Playwright;

namespace MailgunFunctions.Tests.PlatformUnsubscribe;

/// <summary>
/// A person in a real browser (headless Chromium from Debian's package, driven by Playwright): open the link,
/// confirm, see the done page, undo. The DND table is checked after each step; a screenshot of each page is saved
/// under artifacts/screenshots and attached to the test.
/// </summary>
public class UnsubscribeBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Test]
    public async Task A_person_unsubscribes_and_undoes_it_in_a_real_browser()
    {
        Assert.That(File.Exists(Chromium), Is.True, "Chromium is needed: apt-get install -y chromium (the test command's CI script installs it)");
        await using var host = await UnsubscribeHost.StartAsync(await Azurite.SharedConnectionStringAsync(), Now);
        string tenant = TestTenants.NewId("mg"), address = $"ana.{Guid.NewGuid():N}@example.org";
        string link = host.LinkFor(tenant, address);
        string shots = Path.Combine(RepositoryRoot.Find(), "artifacts", "screenshots");
        Directory.CreateDirectory(shots);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 390, Height = 844 }, JavaScriptEnabled = false });

        async Task Shot(string name)
        {
            string path = Path.Combine(shots, $"unsubscribe-{name}.png");
            await page.ScreenshotAsync(new() { Path = path, FullPage = true });
            TestContext.AddTestAttachment(path, name);
        }

        async Task<DndState> State() => (await host.Store.GetStatusAsync(tenant, address, default)).Status.State;

        var response = await page.GotoAsync(link);
        Assert.That(response!.Status, Is.EqualTo(200));
        Assert.That(await page.TextContentAsync("h1"), Is.EqualTo("Unsubscribe?"));
        await Shot("1-confirm");
        Assert.That(await State(), Is.EqualTo(DndState.None), "opening the page must not unsubscribe");

        await page.ClickAsync("#confirm");
        await page.WaitForSelectorAsync("#done");
        await Shot("2-done");
        Assert.That(await State(), Is.EqualTo(DndState.Permanent));

        host.Time.Advance(TimeSpan.FromMinutes(1));
        await page.ClickAsync("#undo");
        await page.WaitForSelectorAsync("#resubscribed");
        await Shot("3-resubscribed");
        Assert.That(await State(), Is.EqualTo(DndState.None));

        var bad = await page.GotoAsync(link[..^4] + "AAAA");
        Assert.That(bad!.Status, Is.EqualTo(400));
        Assert.That(await page.TextContentAsync("h1"), Is.EqualTo("This link is not valid"));
        await Shot("4-invalid");
    }
}
