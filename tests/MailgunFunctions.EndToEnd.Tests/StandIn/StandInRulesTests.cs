using FunctionsHost;
using FunctionsHost.Rpc;
using MailgunFunctions.Testing;

namespace MailgunFunctions.EndToEnd.Tests.StandIn;

/// <summary>The stand-in's own rules, without a worker: host.json and its overrides, keys, schedules, binding settings.</summary>
public class StandInRulesTests
{
    private static readonly IReadOnlyDictionary<string, string> NoSettings = new Dictionary<string, string>();

    [Test]
    public void Host_json_defaults_are_the_real_hosts_when_the_file_names_nothing()
    {
        var folder = Directory.CreateTempSubdirectory("standin-").FullName;
        var json = HostJson.Load(folder, NoSettings);

        Assert.That((json.RoutePrefix, json.Queues.BatchSize, json.Queues.MaxDequeueCount, json.Queues.VisibilityTimeout, json.Queues.MaxPollingInterval, json.Queues.Base64),
            Is.EqualTo(("api", 16, 5, TimeSpan.Zero, TimeSpan.FromMinutes(1), true)));
    }

    [Test]
    public void The_apps_host_json_is_read_and_AzureFunctionsJobHost_settings_override_it()
    {
        var shipped = HostJson.Load(RealWorker.AppDirectory, NoSettings);
        var overridden = HostJson.Load(RealWorker.AppDirectory, new Dictionary<string, string>
        {
            ["AzureFunctionsJobHost__extensions__queues__maxDequeueCount"] = "2",
            ["AzureFunctionsJobHost__Extensions__Http__RoutePrefix"] = "",
            ["AzureFunctionsJobHost__extensions__queues__messageEncoding"] = "none",
        });

        Assert.Multiple(() =>
        {
            Assert.That((shipped.RoutePrefix, shipped.Queues.MaxDequeueCount, shipped.Queues.BatchSize, shipped.Queues.NewBatchThreshold, shipped.Queues.Base64),
                Is.EqualTo(("api", 5, 16, 8, true)), "the repository's host.json");
            Assert.That((overridden.RoutePrefix, overridden.Queues.MaxDequeueCount, overridden.Queues.Base64), Is.EqualTo(("", 2, false)));
        });
    }

    [Test]
    public void Keys_open_what_their_kind_opens_and_nothing_else()
    {
        var keys = new FunctionKeys("master-key", new Dictionary<string, string> { ["default"] = "host-key" },
            new Dictionary<string, IReadOnlyDictionary<string, string>> { ["MailgunEvents"] = new Dictionary<string, string> { ["default"] = "events-key" } });

        Assert.Multiple(() =>
        {
            Assert.That(keys.Allows("Anonymous", "Any", null), Is.True);
            Assert.That(keys.Allows("Function", "MailgunEvents", null), Is.False);
            Assert.That(keys.Allows("Function", "MailgunEvents", "events-key"), Is.True);
            Assert.That(keys.Allows("Function", "MailgunInbound", "events-key"), Is.False, "a function key opens its own function only");
            Assert.That(keys.Allows("Function", "MailgunInbound", "host-key"), Is.True);
            Assert.That(keys.Allows("Function", "MailgunInbound", "master-key"), Is.True);
            Assert.That(keys.Allows("Admin", "Anything", "host-key"), Is.False, "admin level: the master key only");
            Assert.That(keys.Allows("Admin", "Anything", "master-key"), Is.True);
            Assert.That(keys.Allows("Function", "MailgunEvents", "events-ke"), Is.False);
        });
    }

    [Test]
    [Platform("Linux,MacOsX")]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void A_missing_keys_file_is_created_with_random_keys_readable_by_its_owner_only_and_read_back()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("standin-").FullName, "local.keys.json");

        var created = FunctionKeys.LoadOrCreate(path);
        var again = FunctionKeys.LoadOrCreate(path);

        Assert.Multiple(() =>
        {
            Assert.That(created.MasterKey, Has.Length.GreaterThanOrEqualTo(40));
            Assert.That(created.DefaultHostKey, Is.Not.EqualTo(created.MasterKey));
            Assert.That((again.MasterKey, again.DefaultHostKey), Is.EqualTo((created.MasterKey, created.DefaultHostKey)));
            Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        });
    }

    [TestCase("*/2 * * * * *", "2026-03-01T10:00:01Z", "2026-03-01T10:00:02Z")]
    [TestCase("0 0 2 * * *", "2026-03-01T10:00:00Z", "2026-03-02T02:00:00Z")]
    [TestCase("30 2 * * *", "2026-03-01T02:31:00Z", "2026-03-02T02:30:00Z")]
    [TestCase("00:05:00", "2026-03-01T10:00:00Z", "2026-03-01T10:05:00Z")]
    public void Timer_schedules_give_the_next_occurrence_in_UTC(string schedule, string after, string expected)
    {
        var next = TimerTrigger.Parse(schedule, "F")(DateTimeOffset.Parse(after, System.Globalization.CultureInfo.InvariantCulture));

        Assert.That(next, Is.EqualTo(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [TestCase("every night")]
    [TestCase("0 0 25 * * *")]
    [TestCase("-00:05:00")]
    public void An_invalid_schedule_is_refused_with_the_functions_name(string schedule)
    {
        var ex = Assert.Throws<InvalidDataException>(() => TimerTrigger.Parse(schedule, "ExportSuppressions"));

        Assert.That(ex!.Message, Does.Contain("ExportSuppressions").And.Contain(schedule));
    }

    [Test]
    public void Binding_properties_take_app_settings_by_percent_name_and_an_unset_one_is_named()
    {
        var metadata = new RpcFunctionMetadata { Name = "Nightly", FunctionId = "1" };
        metadata.RawBindings.Add("""{"name":"timer","type":"timerTrigger","direction":"In","schedule":"%NIGHTLY%"}""");
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["NIGHTLY"] = "0 0 3 * * *" };

        var function = new HostedFunction(metadata, settings);
        var missing = Assert.Throws<InvalidDataException>(() => new HostedFunction(metadata, NoSettings));

        Assert.Multiple(() =>
        {
            Assert.That((function.Kind, function.TriggerName, function.Property("schedule")), Is.EqualTo((TriggerKind.Timer, "timer", "0 0 3 * * *")));
            Assert.That(missing!.Message, Does.Contain("NIGHTLY"));
        });
    }

    [Test]
    public void An_http_trigger_without_route_or_level_is_at_its_name_with_Function_level_as_in_the_real_host()
    {
        var metadata = new RpcFunctionMetadata { Name = "Ping", FunctionId = "2" };
        metadata.RawBindings.Add("""{"name":"req","type":"httpTrigger","direction":"In","methods":["get","Post"]}""");

        var function = new HostedFunction(metadata, NoSettings);

        Assert.That((function.Kind, function.Route, function.AuthLevel, string.Join(",", function.HttpMethods)), Is.EqualTo((TriggerKind.Http, "Ping", "Function", "GET,POST")));
    }

    [Test]
    public void Local_settings_values_yield_to_the_environment_as_with_Core_Tools()
    {
        string name = "STANDIN_TEST_" + Guid.NewGuid().ToString("N");
        string path = Path.Combine(Directory.CreateTempSubdirectory("standin-").FullName, "local.settings.json");
        File.WriteAllText(path, $$"""{ "IsEncrypted": false, "Values": { "{{name}}": "from-file", "Other": "kept", "Count": 3 } }""");
        Environment.SetEnvironmentVariable(name, "from-environment");
        try
        {
            var report = new StringWriter();
            var values = LocalSettings.ValuesNotInEnvironment(path, report);

            Assert.Multiple(() =>
            {
                Assert.That(values.ContainsKey(name), Is.False);
                Assert.That((values["Other"], values["Count"]), Is.EqualTo(("kept", "3")));
                Assert.That(report.ToString(), Does.Contain(name).And.Not.Contain("from-file"));
            });
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }
}
