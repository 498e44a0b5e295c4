using System.ComponentModel;
using System.Globalization;

namespace MailgunFunctions.Tests.Infra;

/// <summary>
/// infra/main.bicep sets every setting the app reads, and nothing the app doesn't know. When an options class
/// gains a property, this fails with the exact setting names to add to the <c>appSettings</c> object of main.bicep
/// (options with defaults: a parameter with the same default, checked below).
/// </summary>
[TestFixture]
public sealed class AppSettingsTemplateTests
{
    /// <summary>Settings read by the platform or the SDKs rather than by an options class.</summary>
    internal static readonly string[] PlatformSettings =
    [
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        "AZURE_CLIENT_ID",
    ];

    /// <summary>The Functions host's and StorageClients' identity-based connection (StorageNames.ConnectionSetting).</summary>
    internal const string StorageConnectionPrefix = "AzureWebJobsStorage__";

    /// <summary>
    /// Settings the template provisions ahead of the options class that will read them (the unsubscribe-link key
    /// is in Key Vault already). Remove an entry once its options class exists: the test below insists.
    /// </summary>
    private static readonly string[] AwaitingTheirOptions = [];

    [Test]
    public void Discovery_FindsTheKnownOptionsClasses()
    {
        // Guards the reflection itself: if it found nothing, the next test would pass vacuously.
        var sections = AppConfigurationSurface.OptionsTypes().Select(t => AppConfigurationSurface.SectionOf(t)).ToList();
        var names = AppConfigurationSurface.RequiredSettings().Select(s => s.Display).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(sections, Is.SupersetOf(new[] { "Mailgun", "Webhooks", "Storage" }));
            Assert.That(names, Is.SupersetOf(new[] { "Mailgun__SigningKeys__*", "Mailgun__ApiKey", "Webhooks__MaxSignatureAge", "Storage__NetworkTimeout" }));
            Assert.That(names, Has.None.EqualTo("Mailgun__Keys"), "get-only properties are not settings");
        });
    }

    [Test]
    public async Task Template_SetsEverySettingTheAppReads()
    {
        var settings = new ArmTemplate(await BicepCli.CompiledMainAsync()).AppSettings.Keys.ToList();

        var missing = AppConfigurationSurface.RequiredSettings()
            .Where(required => !required.IsSatisfiedBy(settings))
            .ToList();

        // The list is exactly the names to add; where each is read follows, to help choose a value or default.
        Assert.That(missing.Select(m => m.Display), Is.Empty,
            "App settings missing from the appSettings object in infra/main.bicep (read by: "
            + string.Join("; ", missing.Select(m => $"{m.Display} <- {m.Owner}")) + ")");
    }

    [Test]
    public async Task Template_SetsNoSettingTheAppDoesNotRead()
    {
        // A typo ("Webhook__MaxSignatureAge") or a renamed option would otherwise be silently ignored by the app.
        var template = new ArmTemplate(await BicepCli.CompiledMainAsync());
        var required = AppConfigurationSurface.RequiredSettings();
        var unknown = template.AppSettings.Keys.Concat(template.RotationSettingNames)
            .Where(name => !required.Any(r => r.Covers(name))
                && !PlatformSettings.Contains(name, StringComparer.OrdinalIgnoreCase)
                && !name.StartsWith(StorageConnectionPrefix, StringComparison.OrdinalIgnoreCase)
                && !ShardTemplateTests.IsShardSetting(name)
                && !AwaitingTheirOptions.Contains(name, StringComparer.OrdinalIgnoreCase))
            .ToList();

        Assert.That(unknown, Is.Empty, "App settings in infra/main.bicep that no options class or binding reads:\n  " + string.Join("\n  ", unknown));
    }

    [Test]
    public void SettingsAwaitingTheirOptions_AreNotYetReadByAnyOption()
    {
        var required = AppConfigurationSurface.RequiredSettings();

        Assert.That(AwaitingTheirOptions.Where(name => required.Any(r => r.Covers(name))), Is.Empty,
            "now read by an options class: remove from AwaitingTheirOptions");
    }

    [Test]
    public async Task OptionParameters_HaveTheOptionsClassDefaults()
    {
        var template = new ArmTemplate(await BicepCli.CompiledMainAsync());
        var options = AppConfigurationSurface.OptionsSettings().Where(s => s.Property is not null && !s.IsPrefix).ToList();
        var checkedCount = 0;
        var mismatches = new List<string>();
        foreach (var (name, value) in template.AppSettings)
        {
            var option = options.FirstOrDefault(o => o.Covers(name));
            string? parameter = ArmTemplate.ParameterOf(value);
            if (option?.Property is null || parameter is null
                || template.Parameters[parameter]?["defaultValue"] is not { } bicepDefault
                || option.Property.DeclaringType?.GetConstructor(Type.EmptyTypes) is not { } constructor)
            {
                continue;
            }

            object? optionDefault = option.Property.GetValue(constructor.Invoke(null));
            var converter = TypeDescriptor.GetConverter(option.Property.PropertyType);
            object? templateDefault = converter.ConvertFromInvariantString(bicepDefault.ToString());
            checkedCount++;
            if (!Equals(optionDefault, templateDefault))
            {
                mismatches.Add($"{name}: options default {Format(optionDefault)}, parameter '{parameter}' default {bicepDefault}");
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(checkedCount, Is.GreaterThanOrEqualTo(5), "option settings taken from parameters with defaults");
            Assert.That(mismatches, Is.Empty, string.Join("\n", mismatches));
        });
    }

    private static string Format(object? value) => value switch
    {
        TimeSpan span => span.ToString("c", CultureInfo.InvariantCulture),
        null => "null",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
