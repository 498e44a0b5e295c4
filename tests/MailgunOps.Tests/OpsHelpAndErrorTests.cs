using System.CommandLine;
using MailgunFunctions;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunOps.Tests;

/// <summary>What an operator reads: help named mailgun-ops with examples and exit codes; errors first, one line, or JSON under --json.</summary>
[NonParallelizable]
public sealed class OpsHelpAndErrorTests : OpsHarness
{
    private static async Task<(int Code, string Stdout, string Stderr)> RawAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await Program.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static IEnumerable<string> CommandPaths(Command command, string path)
    {
        yield return path;
        foreach (var sub in command.Subcommands)
        {
            foreach (string child in CommandPaths(sub, (path + " " + sub.Name).Trim()))
            {
                yield return child;
            }
        }
    }

    [Test]
    public void Every_command_has_examples_that_use_it()
    {
        var root = OpsCommands.Build(new OpsRuntime(TextWriter.Null, TextWriter.Null, null));
        var paths = CommandPaths(root, "").ToList();
        Assert.That(paths, Has.Count.GreaterThan(30));
        foreach (string path in paths)
        {
            Assert.That(OpsHelp.Examples.TryGetValue(path, out var examples), Is.True, $"'{path}' has no examples");
            Assert.That(examples!, Has.Some.StartWith(("mailgun-ops " + path).Trim()), $"the examples of '{path}' do not run it");
        }

        Assert.That(OpsHelp.Examples.Keys, Is.SubsetOf(paths), "examples for a command that does not exist");
    }

    [TestCase("--help")]
    [TestCase("dnd", "enable", "--help")]
    [TestCase("tenant", "set", "-h")]
    public async Task Help_names_mailgun_ops_shows_examples_and_lists_exit_codes(params string[] args)
    {
        var (code, stdout, _) = await RawAsync(args);
        string path = string.Join(' ', args.Where(a => !a.StartsWith('-')));

        Assert.That(code, Is.EqualTo(ExitCodes.Ok));
        Assert.That(stdout, Does.Contain("Usage:" + Environment.NewLine + "  mailgun-ops " + (path.Length > 0 ? path + " " : "")));
        Assert.That(stdout, Does.Not.Contain("MailgunOps ").And.Not.Contain("testhost "));
        Assert.That(stdout, Does.Contain("Examples:" + Environment.NewLine + "  " + OpsHelp.Examples[path][0]));
        Assert.That(stdout, Does.Contain("Exit codes:").And.Contain("  3  refused by a rule").And.Contain("  7  ran, but"));
        Assert.That(stdout, Does.Contain("--mailgun-base-url"));
    }

    [Test]
    public async Task A_missing_option_prints_the_error_first_then_the_commands_help()
    {
        var (code, stdout, stderr) = await RawAsync("dnd", "enable", "ann@example.org", "--tenant", "loc1");
        var (jsonCode, _, jsonErr) = await RawAsync("dnd", "enable", "ann@example.org", "--tenant", "loc1", "--json");

        Assert.That(code, Is.EqualTo(ExitCodes.Usage));
        Assert.That(stdout, Is.Empty);
        Assert.That(stderr, Does.StartWith("error: Option '--note' is required."));
        Assert.That(stderr.IndexOf("Usage:", StringComparison.Ordinal), Is.GreaterThan(stderr.IndexOf("--note' is required", StringComparison.Ordinal)));
        Assert.That(stderr, Does.Contain("mailgun-ops dnd enable"));
        Assert.That(jsonCode, Is.EqualTo(ExitCodes.Usage));
        var error = JObject.Parse(jsonErr.Trim());
        Assert.That(((string?)error["error"], (int?)error["exitCode"]), Is.EqualTo(("Option '--note' is required.", ExitCodes.Usage)));
    }

    [Test]
    public async Task Under_json_a_failure_is_one_json_object_on_stderr()
    {
        var notFound = await RunAsync("dnd", "get", "nobody@example.org", "--tenant", Tenant, "--json");
        var unknownTenant = await RunAsync("dnd", "list", "--tenant", "nosuchtenant", "--json");

        Assert.That(notFound.ExitCode, Is.EqualTo(ExitCodes.NotFound), notFound.ToString());
        Assert.That(notFound.Stdout, Is.Empty);
        var error = JObject.Parse(notFound.Stderr.Trim());
        Assert.That((int?)error["exitCode"], Is.EqualTo(ExitCodes.NotFound));
        Assert.That((string?)error["error"], Does.Contain("nobody@example.org"));
        Assert.That(unknownTenant.ExitCode, Is.EqualTo(ExitCodes.NotFound), unknownTenant.ToString());
        Assert.That((string?)JObject.Parse(unknownTenant.Stderr.Trim())["error"], Does.Contain("no tenant 'nosuchtenant'"));
    }

    [Test]
    public async Task An_unknown_reason_or_tenant_or_domain_is_an_error_naming_what_to_fix_not_an_empty_table()
    {
        await ReplayAsync(SignedWebhook.Simple("complained", "eve@example.org", Recent(), domain: Domain));

        var typo = await RunAsync("dnd", "list", "--tenant", Tenant, "--reason", "complant");
        var known = await RunAsync("dnd", "list", "--tenant", Tenant, "--reason", "complaint", "--state", "permanent");
        var tenant = await RunAsync("dnd", "list", "--tenant", "nosuchtenant");
        var invalid = await RunAsync("dnd", "list", "--domain", "not a domain");

        Assert.Multiple(() =>
        {
            Assert.That(typo.ExitCode, Is.EqualTo(ExitCodes.NotFound), typo.ToString());
            Assert.That(typo.Stderr.Trim().Split('\n'), Has.Length.EqualTo(1));
            Assert.That(typo.Stderr, Does.Contain("reason 'complant'").And.Contain("reasons it has: complaint"));
            Assert.That(typo.Stdout, Is.Empty, "no empty table");
            Assert.That(known.ExitCode, Is.EqualTo(ExitCodes.Ok), "a reason the tenant has, with no entry in that state, is an honest empty answer");
            Assert.That(tenant.ExitCode, Is.EqualTo(ExitCodes.NotFound), tenant.ToString());
            Assert.That(tenant.Stderr, Does.Contain("tenant list"));
            Assert.That(invalid.ExitCode, Is.EqualTo(ExitCodes.Usage), invalid.ToString());
            Assert.That(invalid.Stderr, Does.Contain("not a domain name"));
        });
    }

    [Test]
    public async Task Mailgun_base_url_points_the_run_at_another_endpoint()
    {
        await ReplayAsync(SignedWebhook.Failed("carl@example.org", Recent(), domain: Domain));
        Mailgun.SetList(Domain, "bounces", [new JObject { ["address"] = "carl@example.org", ["code"] = "550", ["error"] = "x", ["created_at"] = "Mon, 01 Jan 2024 00:00:00 UTC" }]);
        Dns.Mx("example.org", "mx.example.org");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        // Without the harness's own pointing at the fake: only the option says where Mailgun is.
        int code = await Program.RunAsync(
            ["dnd", "enable", "carl@example.org", "--tenant", Tenant, "--note", "fixed", "--storage", Storage, "--api-key", TestSettings.ApiKey, "--dns-server", Dns.Address,
                "--mailgun-base-url", Mailgun.BaseUrl.AbsoluteUri],
            stdout, stderr, services => services.Configure<MailgunFunctions.Tenants.TenantsOptions>(o => o.KeyEncryptionKeys["k1"] = TestSettings.KeyEncryptionKey));
        var bad = await RunAsync("dnd", "get", "carl@example.org", "--tenant", Tenant, "--mailgun-base-url", "ftp://example.org");

        Assert.That(code, Is.EqualTo(ExitCodes.Ok), stdout + "\n" + stderr);
        Assert.That(Mailgun.ListContains(Domain, "bounces", "carl@example.org"), Is.False, "the fake got the delete");
        Assert.That(bad.ExitCode, Is.EqualTo(ExitCodes.Usage), bad.ToString());
        Assert.That(bad.Stderr, Does.Contain("--mailgun-base-url"));
    }
}
