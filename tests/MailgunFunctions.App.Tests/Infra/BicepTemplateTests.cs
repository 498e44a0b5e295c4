using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MailgunFunctions.Tests.Infra;

/// <summary>
/// CI's compile and lint of the templates: the Bicep CLI from NuGet, offline, with infra/bicepconfig.json raising
/// the linter rules to errors, and any remaining compiler warning (BCP...) failing the test too.
/// </summary>
[TestFixture]
public sealed class BicepTemplateTests
{
    public static IEnumerable<TestCaseData> Templates() => BicepCli.Templates()
        .Select(path => new TestCaseData(path).SetArgDisplayNames(Path.GetRelativePath(BicepCli.RepositoryRoot, path)));

    [Test]
    public void Templates_AreMainAndItsModules()
    {
        var names = BicepCli.Templates().Select(p => Path.GetRelativePath(BicepCli.InfraFolder, p)).ToList();

        Assert.That(names, Does.Contain("main.bicep"));
        Assert.That(names.Count(n => n.StartsWith("modules", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(5));
    }

    [TestCaseSource(nameof(Templates))]
    public async Task Build_CompilesWithoutWarnings(string template)
    {
        var result = await BicepCli.RunAsync("build", template, "--stdout");

        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, result.Diagnostics);
            Assert.That(result.DiagnosticLines, Is.Empty);
            Assert.That(JsonNode.Parse(result.StandardOutput)?["$schema"]?.ToString(), Does.Contain("deploymentTemplate.json"));
        });
    }

    [TestCaseSource(nameof(Templates))]
    public async Task Lint_ReportsNothing(string template)
    {
        var result = await BicepCli.RunAsync("lint", template);

        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, result.Diagnostics);
            Assert.That(result.DiagnosticLines, Is.Empty);
        });
    }

    [Test]
    public async Task Lint_FailsOnAWarningLevelFinding()
    {
        // Proves the configuration makes a linter finding fatal: an unused parameter is only a warning by default.
        string folder = Directory.CreateTempSubdirectory("bicep-lint-probe-").FullName;
        try
        {
            File.Copy(Path.Combine(BicepCli.InfraFolder, "bicepconfig.json"), Path.Combine(folder, "bicepconfig.json"));
            string probe = Path.Combine(folder, "probe.bicep");
            await File.WriteAllTextAsync(probe, "param unused string\n");
            var result = await BicepCli.RunAsync("lint", probe);

            Assert.Multiple(() =>
            {
                Assert.That(result.ExitCode, Is.Not.Zero);
                Assert.That(result.DiagnosticLines, Has.Some.Contains("Error no-unused-params"));
            });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task ParametersFile_NamesOnlyDeclaredParameters_AndEveryRequiredOne()
    {
        var template = new ArmTemplate(await BicepCli.CompiledMainAsync());
        var file = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(BicepCli.InfraFolder, "main.parameters.json")))!;
        var given = file["parameters"]!.AsObject().Select(p => p.Key).ToList();
        var required = template.Parameters.Where(p => p.Value!["defaultValue"] is null).Select(p => p.Key).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(given.Except(template.Parameters.Select(p => p.Key)), Is.Empty, "parameters that main.bicep does not declare");
            Assert.That(required.Except(given), Is.Empty, "required parameters azd would not get from the environment");
        });
    }

    [Test]
    public async Task ParametersFile_TakesValuesFromTheAzdEnvironment_NeverLiterals()
    {
        var template = new ArmTemplate(await BicepCli.CompiledMainAsync());
        var file = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(BicepCli.InfraFolder, "main.parameters.json")))!;
        var values = file["parameters"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!["value"]!.ToString());
        var secrets = values.Where(v => (string?)template.Parameters[v.Key]?["type"] == "securestring").ToList();

        Assert.Multiple(() =>
        {
            Assert.That(values["environmentName"], Is.EqualTo("${AZURE_ENV_NAME}"));
            Assert.That(values["location"], Is.EqualTo("${AZURE_LOCATION}"));
            Assert.That(values.Values, Has.All.Match(@"^\$\{[A-Z_]+(=[a-z0-9]*)?\}$"), "a value written into the file");
            Assert.That(secrets, Has.Count.EqualTo(6));
            // A secret has no default here: azd asks for it, or takes it from `azd env set` (empty only for the optional next key).
            Assert.That(secrets.Select(s => s.Value), Has.All.Match(@"^\$\{[A-Z_]+=?\}$"), "a default value for a secret");
        });
    }

    [Test]
    public async Task AzureYaml_DeploysTheFunctionsProject()
    {
        string yaml = await File.ReadAllTextAsync(Path.Combine(BicepCli.RepositoryRoot, "azure.yaml"));
        string project = Regex.Match(yaml, @"^\s+project:\s*(\S+)\s*$", RegexOptions.Multiline).Groups[1].Value;

        Assert.Multiple(() =>
        {
            Assert.That(yaml, Does.Match(@"(?m)^services:\s*\n\s+functions:\s*$"));
            Assert.That(yaml, Does.Match(@"(?m)^\s+language:\s*dotnet\s*$"));
            Assert.That(yaml, Does.Match(@"(?m)^\s+host:\s*function\s*$"));
            Assert.That(Path.Combine(BicepCli.RepositoryRoot, project, "MailgunFunctions.App.csproj"), Does.Exist);
        });
    }
}
