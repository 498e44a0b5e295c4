using System.Text.RegularExpressions;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.Infra;

namespace MailgunFunctions.Tests.Docs;

/// <summary>
/// Every setting the app reads (the option discovery the infra tests use: options classes and binding expressions) is
/// documented in a settings table of the docs, and every setting those tables name is still read. A settings table is a
/// Markdown table whose first column is headed "Setting" and names settings as app settings in backticks
/// (<c>Section__Property</c>; dictionaries and lists as <c>Section__Name__&lt;id&gt;</c>, <c>__*</c> or <c>__0__Property</c>).
/// </summary>
public partial class SettingsDocsTests
{
    /// <summary>Documented settings: code spans in the first column of "Setting" tables that look like app settings.</summary>
    private static IReadOnlyList<(string Name, string Where)> DocumentedSettings() => MarkdownDocs
        .TableRows(MarkdownDocs.DocumentationPages())
        .Where(r => r.Header.Count > 0 && r.Header[0] == "Setting")
        .SelectMany(r => r.FirstCellCodeSpans.Where(s => AppSettingName().IsMatch(s)).Select(s => (s, r.Where)))
        .ToList();

    /// <summary>Settings the platform, the host or the SDKs read rather than an options class.</summary>
    private static bool IsPlatformSetting(string name) =>
        name == StorageNames.ConnectionSetting
        || name.StartsWith(AppSettingsTemplateTests.StorageConnectionPrefix, StringComparison.Ordinal)
        || name.StartsWith(StorageNames.ShardConnectionPrefix, StringComparison.Ordinal)
        || AppSettingsTemplateTests.PlatformSettings.Contains(name, StringComparer.Ordinal);

    private static bool Documents(string documented, RequiredSetting setting) => setting.IsPrefix
        ? documented.StartsWith(setting.Name + "__", StringComparison.Ordinal)
        : documented == setting.Name;

    [Test]
    public void Every_setting_the_app_reads_is_documented()
    {
        var documented = DocumentedSettings();
        var missing = AppConfigurationSurface.RequiredSettings()
            .Where(required => !documented.Any(d => Documents(d.Name, required)))
            .Select(required => $"{required.Display} (read by {required.Owner})")
            .ToList();

        Assert.Multiple(() =>
        {
            Assert.That(documented, Has.Count.GreaterThan(40), "the scan finds the settings tables of the docs");
            Assert.That(missing, Is.Empty,
                "Settings the app reads that no \"Setting\" table of the docs names (add a row to the feature's page):\n  " + string.Join("\n  ", missing));
        });
    }

    [Test]
    public void Every_documented_setting_is_still_read()
    {
        var required = AppConfigurationSurface.RequiredSettings();
        var stale = DocumentedSettings()
            .Where(d => !IsPlatformSetting(d.Name) && !required.Any(r => Documents(d.Name, r)))
            .Select(d => $"{d.Where}: {d.Name}")
            .ToList();

        Assert.That(stale, Is.Empty, "Documented settings that no options class or binding reads (renamed or gone):\n  " + string.Join("\n  ", stale));
    }

    [Test]
    public void A_setting_table_row_is_read_as_the_test_expects()
    {
        // Guards the reader: a renamed header or a short name after a slash would silently document nothing.
        var row = MarkdownDocs.Cells("| `Notifications__FirstRetryDelay` / `Notifications__MaxRetryDelay` | `00:00:30` / `01:00:00` | back-off with `a|b` |");

        Assert.Multiple(() =>
        {
            Assert.That(row, Has.Count.EqualTo(3));
            Assert.That(MarkdownDocs.CodeSpans(row[0]), Is.EqualTo(new[] { "Notifications__FirstRetryDelay", "Notifications__MaxRetryDelay" }));
            Assert.That(AppSettingName().IsMatch("messageEncoding"), Is.False, "host.json settings are not app settings");
            Assert.That(AppSettingName().IsMatch("EXPORT_SCHEDULE") && AppSettingName().IsMatch("Mailgun__SigningKeys__<id>"), Is.True);
        });
    }

    // Starts with an upper-case letter: Section__Property, EXPORT_SCHEDULE, AzureWebJobsStorage, Keys__<id>, __*.
    [GeneratedRegex(@"^[A-Z][A-Za-z0-9_]*(__([A-Za-z0-9_]+|<[a-z]+>|\*))*$")]
    private static partial Regex AppSettingName();
}
