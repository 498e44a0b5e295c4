namespace MailgunOps.Tests;

public sealed class LocalSettingsFileTests
{
    [Test]
    public void The_files_values_fill_what_the_environment_lacks_and_the_environment_wins()
    {
        string set = "MailgunOpsTest_" + Guid.NewGuid().ToString("N"), unset = "MailgunOpsTest_" + Guid.NewGuid().ToString("N");
        string path = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, new Newtonsoft.Json.Linq.JObject
        {
            ["IsEncrypted"] = false,
            ["Values"] = new Newtonsoft.Json.Linq.JObject { [set + "__Key"] = "from file", [unset + "__Key"] = "from file", [unset + "__Count"] = 3 },
        }.ToString());
        Environment.SetEnvironmentVariable(set + "__Key", "from environment");
        try
        {
            var values = LocalSettingsFile.ValuesNotInEnvironment(new FileInfo(path));
            Assert.Multiple(() =>
            {
                Assert.That(values.ContainsKey(set + ":Key"), Is.False, "the environment's value is left to the environment");
                Assert.That(values[unset + ":Key"], Is.EqualTo("from file"));
                Assert.That(values[unset + ":Count"], Is.EqualTo("3"));
            });
        }
        finally
        {
            Environment.SetEnvironmentVariable(set + "__Key", null);
            File.Delete(path);
        }
    }

    [Test]
    public void A_missing_file_gives_nothing_and_a_broken_one_a_configuration_error()
    {
        string path = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".json");
        Assert.That(LocalSettingsFile.ValuesNotInEnvironment(new FileInfo(path)), Is.Empty);
        File.WriteAllText(path, "{\"Values\": ");
        try
        {
            var error = Assert.Throws<OpsException>(() => LocalSettingsFile.ValuesNotInEnvironment(new FileInfo(path)));
            Assert.That(error!.ExitCode, Is.EqualTo(ExitCodes.Configuration));
            Assert.That(error.Message, Does.Contain(path).And.Contain("--settings"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
