using MailgunFunctions.App;
using MailgunFunctions.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Infra;

/// <summary>local.settings.sample.json documents every setting, and the app starts with it as scripts/run.sh prepares it.</summary>
public class LocalSettingsSampleTests
{
    private static Dictionary<string, string?> Sample() =>
        JObject.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "local.settings.sample.json")))["Values"]!
            .Cast<JProperty>().ToDictionary(p => p.Name, p => (string?)p.Value);

    [Test]
    public void The_sample_names_every_setting_the_app_reads()
    {
        var names = Sample().Keys.ToList();
        var missing = AppConfigurationSurface.RequiredSettings().Where(r => !r.IsSatisfiedBy(names)).Select(r => r.Display).ToList();
        Assert.That(missing, Is.Empty, "add these to local.settings.sample.json");
    }

    [Test]
    public void The_sample_has_one_shard_and_switches_off_every_shard_trigger()
    {
        // scripts/run.sh with K = 1 starts no shard trigger: their connections (StorageShard{k}) are not set, and a
        // started trigger with no connection is an error in the host's log.
        var sample = Sample();
        var triggers = ShardTemplateTests.ShardTriggers();
        Assert.Multiple(() =>
        {
            Assert.That(sample.GetValueOrDefault("Storage__Shards"), Is.EqualTo("1"));
            Assert.That(triggers, Has.Count.EqualTo(2 * (MailgunFunctions.Storage.StorageNames.MaxShards - 1)));
            foreach (var (function, _) in triggers)
            {
                Assert.That(sample.GetValueOrDefault($"AzureWebJobs.{function}.Disabled"), Is.EqualTo("true"), function);
            }
        });
    }

    [Test]
    public void The_app_starts_with_the_sample_once_run_sh_has_filled_in_the_local_keys()
    {
        var values = Sample();
        values["Mailgun__SigningKeys__primary"] = "local-dev-0123456789abcdef";
        values["Unsubscribe__Keys__k1"] = "local-link-0123456789abcdef0123456789abcdef";
        values["AzureWebJobsStorage"] = Azurite.Unreachable();
        // Functions reads app settings as environment variables: "__" separates sections.
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => kv.Value))
            .Build();
        using var services = TestSettings.Services(configuration, (s, c) => s.AddMailgunFunctions(c), new FakeTimeProvider());
        Assert.DoesNotThrow(() => services.GetRequiredService<IStartupValidator>().Validate());
    }
}
