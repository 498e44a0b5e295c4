using MailgunFunctions.App;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Tests;

/// <summary>The app's real container, built by the same AddMailgunFunctions that Program.cs calls.</summary>
public class RegistrationTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Test]
    public void Every_function_class_resolves_from_the_app_container()
    {
        using var app = new AppServices(Azurite.Unreachable(), Now);
        var classes = FunctionsMetadataTests.FunctionMethods().Select(m => m.DeclaringType!).Distinct().ToArray();
        Assert.That(classes, Is.Not.Empty);
        foreach (var type in classes)
        {
            Assert.That(ActivatorUtilities.CreateInstance(app.Provider, type), Is.Not.Null, type.Name);
        }
    }

    [Test]
    public void Start_up_validation_passes_with_the_documented_settings()
    {
        using var app = new AppServices(Azurite.Unreachable(), Now);
        var validators = app.Provider.GetServices<IStartupValidator>().ToArray();
        Assert.That(validators, Is.Not.Empty);
        Assert.DoesNotThrow(() => validators.ToList().ForEach(v => v.Validate()));
    }

    [Test]
    public void Missing_signing_key_and_registry_key_stops_start_up_naming_both_settings()
    {
        using var app = new AppServices(Azurite.Unreachable(), Now, new Dictionary<string, string?>
        {
            ["Mailgun:SigningKeys:primary"] = null,
            ["Mailgun:SigningKeys:next"] = "",
            ["Tenants:KeyEncryptionKeys:k1"] = "",
        });
        var ex = Assert.Throws<OptionsValidationException>(() => app.Provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.That(ex!.Message, Does.Contain("Mailgun__SigningKeys__primary").And.Contain("Tenants__KeyEncryptionKeys__k1"));
    }

    [Test]
    public void A_registry_alone_is_enough_to_start_without_a_single_account()
    {
        using var app = new AppServices(Azurite.Unreachable(), Now, new Dictionary<string, string?>
        {
            ["Mailgun:SigningKeys:primary"] = null,
            ["Mailgun:SigningKeys:next"] = "",
            ["Mailgun:ApiKey"] = "",
        });
        Assert.DoesNotThrow(() => app.Provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.That(app.Get<MailgunFunctions.Tenants.TenantDirectory>().Implicit, Is.Null);
    }

    [TestCase("Tenants:KeyEncryptionKeys:k1", "too-short")]
    [TestCase("Tenants:DefaultTenantId", "no spaces allowed")]
    [TestCase("Tenants:ActiveKeyId", "k9")]
    public void Weak_or_inconsistent_tenant_settings_stop_start_up(string key, string value)
    {
        using var app = new AppServices(Azurite.Unreachable(), Now, new Dictionary<string, string?> { [key] = value });
        var ex = Assert.Throws<OptionsValidationException>(() => app.Provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.That(ex!.Message, Does.Contain("Tenants__"));
    }

    [Test]
    public void Api_key_used_as_signing_key_stops_start_up()
    {
        using var app = new AppServices(Azurite.Unreachable(), Now, new Dictionary<string, string?>
        {
            ["Mailgun:SigningKeys:next"] = TestSettings.ApiKey,
        });
        var ex = Assert.Throws<OptionsValidationException>(() => app.Provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.That(ex!.Message, Does.Contain("never with the private API key"));
    }

    [TestCase("Webhooks:MaxSignatureAge", "00:00:10")]
    [TestCase("Webhooks:MaxEventBodyBytes", "10")]
    [TestCase("Storage:MaxRetries", "99")]
    [TestCase("Inbound:MaxRequestBytes", "1000")]
    [TestCase("Inbound:RawRetentionDays", "0")]
    public void Out_of_range_options_stop_start_up(string key, string value)
    {
        using var app = new AppServices(Azurite.Unreachable(), Now, new Dictionary<string, string?> { [key] = value });
        Assert.Throws<OptionsValidationException>(() => app.Provider.GetRequiredService<IStartupValidator>().Validate());
    }

    [Test]
    public void Storage_without_any_setting_fails_with_a_message_naming_the_setting()
    {
        using var app = new AppServices("", Now);
        var ex = Assert.Throws<InvalidOperationException>(() => app.Provider.GetRequiredService<MailgunFunctions.Storage.StorageClients>());
        Assert.That(ex!.Message, Does.Contain("AzureWebJobsStorage__accountName"));
    }

    [Test]
    public void Identity_based_storage_settings_build_clients_for_the_account()
    {
        using var app = new AppServices("", Now, new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = null,
            ["AzureWebJobsStorage:accountName"] = "mgfuncstore",
            ["AzureWebJobsStorage:credential"] = "managedidentity",
            ["AzureWebJobsStorage:clientId"] = "00000000-0000-0000-0000-000000000001",
        });
        var clients = app.Provider.GetRequiredService<MailgunFunctions.Storage.StorageClients>();
        Assert.Multiple(() =>
        {
            Assert.That(clients.Queues.Uri.Host, Is.EqualTo("mgfuncstore.queue.core.windows.net"));
            Assert.That(clients.Tables.Uri.Host, Is.EqualTo("mgfuncstore.table.core.windows.net"));
            Assert.That(clients.Blobs.Uri.Host, Is.EqualTo("mgfuncstore.blob.core.windows.net"));
        });
    }
}
