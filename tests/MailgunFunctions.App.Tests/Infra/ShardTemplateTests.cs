using System.Reflection;
using System.Text.RegularExpressions;
using MailgunFunctions.App;
using MailgunFunctions.Storage;
using Microsoft.Azure.Functions.Worker;

namespace MailgunFunctions.Tests.Infra;

/// <summary>
/// infra/main.bicep and the storage shards (docs/scaling.md): the parameter storageShards (K) creates shards 1 to
/// K-1 with their role assignments, and the app settings name every shard slot's connection and switch off the
/// queue triggers of the slots at or past K. The function names and connections are read from the app itself
/// (<see cref="ShardQueueFunctions"/>), so a renamed trigger cannot leave a setting that disables nothing.
/// </summary>
[TestFixture]
public sealed partial class ShardTemplateTests
{
    private ArmTemplate template = null!;

    [OneTimeSetUp]
    public async Task Compile() => template = new ArmTemplate(await BicepCli.CompiledMainAsync());

    /// <summary>The shard queue triggers of the app: (function name, shard of its connection).</summary>
    internal static IReadOnlyList<(string Function, int Shard)> ShardTriggers() => typeof(ShardQueueFunctions)
        .GetMethods(BindingFlags.Public | BindingFlags.Instance)
        .Select(m => (Function: m.GetCustomAttribute<FunctionAttribute>()?.Name,
            Connection: m.GetParameters().Select(p => p.GetCustomAttribute<QueueTriggerAttribute>()?.Connection).SingleOrDefault(c => c is not null)))
        .Where(t => t.Function is not null && t.Connection is not null)
        .Select(t => (t.Function!, ShardOf(t.Connection!)))
        .OrderBy(t => t.Item2).ThenBy(t => t.Item1, StringComparer.Ordinal)
        .ToList();

    /// <summary>Settings of the shard slots: StorageShard{k}__... and AzureWebJobs.{shard trigger}.Disabled.</summary>
    internal static bool IsShardSetting(string name) =>
        ShardConnectionSetting().Match(name) is { Success: true } connection
           && int.Parse(connection.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) is > 0 and < StorageNames.MaxShards
        || ShardTriggers().Any(t => string.Equals(name, DisabledSetting(t.Function), StringComparison.OrdinalIgnoreCase));

    private static string DisabledSetting(string function) => $"AzureWebJobs.{function}.Disabled";

    private static int ShardOf(string connection) =>
        connection.StartsWith(StorageNames.ShardConnectionPrefix, StringComparison.Ordinal)
        && int.TryParse(connection.AsSpan(StorageNames.ShardConnectionPrefix.Length), out int k) ? k : -1;

    [Test]
    public void The_app_has_two_triggers_per_shard_slot()
    {
        // Guards the reflection: without it the next tests would pass on nothing.
        Assert.That(ShardTriggers().Select(t => t.Shard), Is.EqualTo(Enumerable.Range(1, StorageNames.MaxShards - 1).SelectMany(k => new[] { k, k })));
    }

    [Test]
    public void Every_shard_trigger_is_switched_off_from_K_and_on_below_it()
    {
        var settings = template.AppSettings;
        Assert.Multiple(() =>
        {
            foreach (var (function, shard) in ShardTriggers())
            {
                Assert.That(settings.GetValueOrDefault(DisabledSetting(function)), Is.EqualTo($"[variables('shardTriggersDisabled')[{shard}]]"), function);
            }

            // Slot k's value: 'false' (on) below storageShards, 'true' (off) from it.
            Assert.That(LoopVariable("shardTriggersDisabled"),
                Is.EqualTo("[if(less(range(0, 8)[copyIndex('shardTriggersDisabled')], parameters('storageShards')), 'false', 'true')]"));
        });
    }

    [Test]
    public void Every_shard_slot_has_an_identity_based_connection_and_unused_slots_point_home()
    {
        var settings = template.AppSettings;
        Assert.Multiple(() =>
        {
            foreach (int k in ShardTriggers().Select(t => t.Shard).Distinct())
            {
                string prefix = StorageNames.ShardConnectionSetting(k) + "__";
                Assert.That(settings.GetValueOrDefault(prefix + "accountName"), Is.EqualTo($"[variables('shardAccountNames')[{k}]]"), prefix);
                Assert.That(settings.GetValueOrDefault(prefix + "credential"), Is.EqualTo("managedidentity"), prefix);
                Assert.That(settings.GetValueOrDefault(prefix + "clientId"), Is.EqualTo(settings["AzureWebJobsStorage__clientId"]), prefix);
                Assert.That(settings.Keys, Has.None.EqualTo(StorageNames.ShardConnectionSetting(k)), "no connection string: identity only");
            }

            // Shards 1 to K-1 are their own accounts; slot 0 and the slots from K are the home account.
            string names = LoopVariable("shardAccountNames");
            Assert.That(names, Does.StartWith("[if(and(greater(range(0, 8)[copyIndex('shardAccountNames')], 0), less(range(0, 8)[copyIndex('shardAccountNames')], parameters('storageShards')))"));
            Assert.That(names, Does.EndWith(", variables('storageAccountName'))]"));
        });
    }

    [Test]
    public void Storage_shards_1_to_K_minus_1_are_created_with_the_identitys_data_roles()
    {
        var module = template.ModuleLoop("shardStorage");
        var rbac = template.Module("rbac")["properties"]!["parameters"]!;
        var parameter = template.Parameters["storageShards"]!;
        Assert.Multiple(() =>
        {
            Assert.That(module["copy"]!["count"]!.ToString(), Is.EqualTo("[length(range(1, sub(parameters('storageShards'), 1)))]"));
            Assert.That(module["properties"]!["parameters"]!["name"]!["value"]!.ToString(), Is.EqualTo("[variables('shardAccountNames')[range(1, sub(parameters('storageShards'), 1))[copyIndex()]]]"));
            // No deployment package in a shard: the module's container is declared only for the home account.
            Assert.That(module["properties"]!["parameters"]!.AsObject().ContainsKey("deploymentContainerName"), Is.False);
            // The role assignments cover exactly the accounts the module loop creates.
            Assert.That(rbac["shardStorageAccountNames"]!["copy"]!.AsArray().Single()!["input"]!.ToString(),
                Is.EqualTo("[variables('shardAccountNames')[range(1, sub(parameters('storageShards'), 1))[copyIndex('value')]]]"));
            Assert.That((int?)parameter["minValue"], Is.EqualTo(1));
            Assert.That((int?)parameter["maxValue"], Is.EqualTo(StorageNames.MaxShards));
            Assert.That((int?)parameter["defaultValue"], Is.EqualTo(new StorageOptions().Shards));
        });
    }

    private string LoopVariable(string name) =>
        template.Variables["copy"]!.AsArray().Single(c => (string?)c!["name"] == name)!["input"]!.ToString();

    [GeneratedRegex(@"^StorageShard(\d+)__[A-Za-z]+$")]
    private static partial Regex ShardConnectionSetting();
}
