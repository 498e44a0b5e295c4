using MailgunFunctions.Dnd;
using MailgunFunctions.PlatformUnsubscribe;
using MailgunFunctions.Tenants;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace MailgunFunctions.Tests.PlatformUnsubscribe;

/// <summary>
/// A person in a real browser (headless Chromium from Debian's package, driven by Playwright, JavaScript off as the
/// pages need none) at a small phone's, a common phone's and a laptop's width, in the browser's language: open the link,
/// confirm, open it again (already unsubscribed), undo. The DND table is checked after each step, and each page must fit
/// the width (no horizontal scroll) with its texts visible. A screenshot of each page is written under the test's output
/// folder (screenshots/) and attached to the test.
/// </summary>
public class UnsubscribeBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";
    private const string Brand = "Bäckerei & Konditorei Nordstadt-Süd";
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [TestCase(320, "de-DE", "de")]
    [TestCase(320, "fr-FR", "fr")]
    [TestCase(390, "pt-BR", "pt")]
    [TestCase(390, "es-ES", "es")]
    [TestCase(1366, "en-US", "en")]
    public async Task A_person_unsubscribes_sees_it_done_on_reopening_and_undoes_it(int width, string locale, string language)
    {
        Assert.That(File.Exists(Chromium), Is.True, "Chromium is needed: apt-get install -y chromium (the test command's CI script installs it)");
        await using var host = await UnsubscribeHost.StartAsync(await Azurite.SharedConnectionStringAsync(), Now);
        string tenant = TestTenants.NewId("mg"), address = $"ana.maria.{Guid.NewGuid():N}@example.org";
        var registered = await TestTenants.RegisterAsync(host.Services, tenant, TestTenants.NewSigningKey(), [tenant + ".example"]);
        await host.Services.GetRequiredService<TenantRegistry>().SaveAsync(registered with { BrandName = Brand }, "test", "test-brand", default);
        host.Services.GetRequiredService<TenantDirectory>().Forget(tenant);
        var texts = UnsubscribeTexts.All[language];
        string link = host.LinkFor(tenant, address);
        string shots = Path.Combine(TestContext.CurrentContext.WorkDirectory, "screenshots");
        Directory.CreateDirectory(shots);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        // Locale sets the Accept-Language header Chromium sends, as a browser set to that language does.
        await using var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = 800 }, JavaScriptEnabled = false, Locale = locale });
        var page = await context.NewPageAsync();

        async Task Check(string step, string heading, params string[] visible)
        {
            Assert.That(await page.GetAttributeAsync("html", "lang"), Is.EqualTo(language), step);
            Assert.That((await page.TextContentAsync("h1"))?.Trim(), Is.EqualTo(heading), step);
            int scrollWidth = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
            Assert.That(scrollWidth, Is.LessThanOrEqualTo(width), $"{step}: the page scrolls sideways at {width} px");
            foreach (string selector in visible.Prepend("h1"))
            {
                var element = page.Locator(selector).First;
                Assert.That(await element.IsVisibleAsync(), Is.True, $"{step}: {selector} is not visible");
                var box = await element.BoundingBoxAsync();
                Assert.That(box, Is.Not.Null, $"{step}: {selector}");
                Assert.That(box!.X >= 0 && box.X + box.Width <= width, Is.True, $"{step}: {selector} runs outside the {width} px width ({box.X} + {box.Width})");
            }

            string path = Path.Combine(shots, $"unsubscribe-{width}-{language}-{step}.png");
            await page.ScreenshotAsync(new() { Path = path, FullPage = true });
            TestContext.AddTestAttachment(path, $"{step} at {width} px ({language})");
        }

        async Task<DndState> State() => (await host.Store.GetStatusAsync(tenant, address, default)).Status.State;

        var response = await page.GotoAsync(link);
        Assert.That(response!.Status, Is.EqualTo(200));
        await Check("1-confirm", texts.ConfirmHeading, "header.brand", "main p", "#confirm");
        Assert.That(await page.TextContentAsync("header.brand"), Is.EqualTo(Brand));
        Assert.That(await page.TextContentAsync("main p"), Does.Contain(Brand).And.Contain("a•••@e•••.org"));
        Assert.That(await State(), Is.EqualTo(DndState.None), "opening the page must not unsubscribe");

        await page.ClickAsync("#confirm");
        await page.WaitForSelectorAsync("#done");
        await Check("2-done", texts.DoneHeading, "main p", "#undo");
        Assert.That(await State(), Is.EqualTo(DndState.Permanent));

        await page.GotoAsync(link);
        await Check("3-already", texts.AlreadyHeading, "main p", "#undo");
        Assert.That(await page.Locator("#confirm").CountAsync(), Is.Zero, "reopening does not ask again");

        host.Time.Advance(TimeSpan.FromMinutes(1));
        await page.ClickAsync("#undo");
        await page.WaitForSelectorAsync("#resubscribed");
        await Check("4-resubscribed", texts.ResubscribedHeading, "main p", "#confirm");
        Assert.That(await State(), Is.EqualTo(DndState.None));

        var bad = await page.GotoAsync(link[..^4] + "AAAA");
        Assert.That(bad!.Status, Is.EqualTo(400));
        await Check("5-invalid", texts.InvalidHeading, "main p");
    }
}
