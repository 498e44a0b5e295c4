using MailgunFunctions.App;
using MailgunFunctions.Testing;

namespace MailgunFunctions.Tests;

/// <summary>The check scripts/run.sh runs before handing over to the Functions host.</summary>
public class StartupCheckTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Test]
    public async Task Passes_with_valid_settings_and_reachable_storage()
    {
        using var app = new AppServices(await Azurite.SharedConnectionStringAsync(), Now);
        var output = new StringWriter();
        Assert.That(await StartupCheck.RunAsync(app.Provider, output), Is.EqualTo(0), output.ToString());
        Assert.That(output.ToString(), Does.Contain("storage reachable"));
    }

    [Test]
    public async Task Fails_naming_the_setting_when_the_signing_key_is_missing()
    {
        using var app = new AppServices(await Azurite.SharedConnectionStringAsync(), Now, new Dictionary<string, string?>
        {
            ["Mailgun:SigningKeys:primary"] = null,
            ["Mailgun:SigningKeys:next"] = null,
            ["Tenants:KeyEncryptionKeys:k1"] = null,
        });
        var output = new StringWriter();
        Assert.That(await StartupCheck.RunAsync(app.Provider, output), Is.EqualTo(1));
        Assert.That(output.ToString(), Does.Contain("Mailgun__SigningKeys__primary"));
    }

    [Test]
    public async Task Fails_without_crashing_when_storage_is_down()
    {
        using var app = new AppServices(Azurite.Unreachable(), Now);
        var output = new StringWriter();
        Assert.That(await StartupCheck.RunAsync(app.Provider, output), Is.EqualTo(1));
        Assert.That(output.ToString(), Does.Contain("storage is not reachable"));
    }

    [Test]
    public async Task Reaches_every_shard_account_when_there_are_several()
    {
        await using var shard1 = await Azurite.StartDedicatedAsync(persistent: false);
        using var app = new AppServices(await Azurite.SharedConnectionStringAsync(), Now, new Dictionary<string, string?>
        {
            ["Storage:Shards"] = "2",
            ["StorageShard1"] = shard1.ConnectionString,
        });
        var output = new StringWriter();
        Assert.That(await StartupCheck.RunAsync(app.Provider, output), Is.EqualTo(0), output.ToString());
        Assert.That(output.ToString(), Does.Contain("storage shard 1 reachable"));
    }

    [Test]
    public async Task Fails_naming_the_shard_setting_when_it_is_missing()
    {
        using var app = new AppServices(await Azurite.SharedConnectionStringAsync(), Now, new Dictionary<string, string?> { ["Storage:Shards"] = "2" });
        var output = new StringWriter();
        Assert.That(await StartupCheck.RunAsync(app.Provider, output), Is.EqualTo(1), output.ToString());
        Assert.That(output.ToString(), Does.Contain("check FAILED").And.Contain("StorageShard1"));
    }

    [Test]
    public async Task Checks_every_shard_and_names_the_one_that_is_unreachable()
    {
        await using var shard1 = await Azurite.StartDedicatedAsync(persistent: false);
        using var app = new AppServices(await Azurite.SharedConnectionStringAsync(), Now, new Dictionary<string, string?>
        {
            ["Storage:Shards"] = "3",
            ["StorageShard1"] = shard1.ConnectionString,
            ["StorageShard2"] = Azurite.Unreachable(),
        });
        var output = new StringWriter();
        Assert.That(await StartupCheck.RunAsync(app.Provider, output), Is.EqualTo(1), output.ToString());
        Assert.That(output.ToString(), Does.Contain("storage shard 1 reachable").And.Contain("storage shard 2 is not reachable: check StorageShard2"));
        Assert.That(output.ToString(), Does.Not.Contain("AccountKey"), "no secret in the check's output");
    }
}
