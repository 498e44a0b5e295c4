using System.Net;
using MailgunFunctions.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunOps.Tests;

/// <summary>
/// The CLI's output (stdout and stderr, text and JSON) on the commands that use the Mailgun API key: <c>dnd enable</c>
/// with Mailgun failing, refusing the key and accepting it, and <c>export</c> / <c>export status</c> after a refused key.
/// Each run asserts what it did (exit code, the entry's state, the fake's requests and their answers); then no form of
/// the API key, a wrong key or the signing key may be in any output. The tenant commands' output is checked the same
/// way in <see cref="TenantCommandTests"/>.
/// </summary>
[NonParallelizable]
public sealed class CliOutputSecretsTests : OpsHarness
{
    [Test]
    public async Task DndEnableAndExportStatusPrintNoKeyWhetherMailgunFailsRefusesOrAccepts()
    {
        string address = "sec@example.org", wrongKey = "wrong-api-key-" + Guid.NewGuid().ToString("N");
        await ReplayAsync(SignedWebhook.Failed(address, Recent(), domain: Domain));
        var listed = new JObject { ["address"] = address, ["code"] = "550", ["error"] = "x", ["created_at"] = "Mon, 01 Jan 2024 00:00:00 UTC" };
        Mailgun.SetList(Domain, "bounces", [listed]);
        Dns.Mx("example.org", "mx.example.org");
        string[] enable = ["dnd", "enable", address, "--domain", Domain, "--note", "secrets check", "--json"];
        var runs = new List<OpsRun>();

        async Task<string?> StateAsync()
        {
            var get = await RunAsync("dnd", "get", address, "--domain", Domain, "--json");
            runs.Add(get);
            return (string?)get.Json["entry"]!["state"];
        }

        // Mailgun failing on the bounce list: the CLI says Mailgun failed, the entry stays.
        Mailgun.Fail(Domain, "bounces", afterPages: 0, HttpStatusCode.InternalServerError, times: 10);
        int sent = Mailgun.Requests.Count;
        var failing = await RunAsync(enable);
        runs.Add(failing);
        Assert.That(failing.ExitCode, Is.EqualTo(ExitCodes.Remote), failing.ToString());
        Assert.That(Mailgun.Requests.Skip(sent).Select(r => (r.Method, r.Status)), Has.Some.EqualTo(("DELETE", 500)), "the delete was tried and failed");
        Assert.That(await StateAsync(), Is.EqualTo("permanent"), "nothing cleared while Mailgun still lists the address");
        Mailgun.ClearFaults();

        // A key Mailgun refuses.
        sent = Mailgun.Requests.Count;
        var refused = await RunAsync(enable, apiKey: wrongKey);
        runs.Add(refused);
        Assert.That(refused.ExitCode, Is.EqualTo(ExitCodes.Remote), refused.ToString());
        Assert.That(Mailgun.Requests.Skip(sent).Select(r => r.Status), Has.Some.EqualTo(401).And.All.Not.EqualTo(200), "the wrong key was sent and refused");
        Assert.That(await StateAsync(), Is.EqualTo("permanent"));

        // Accepted: the delete reached Mailgun with the key and the entry is cleared.
        sent = Mailgun.Requests.Count;
        var ok = await RunAsync(enable);
        runs.Add(ok);
        Assert.That(ok.ExitCode, Is.EqualTo(ExitCodes.Ok), ok.ToString());
        Assert.That(Mailgun.Requests.Skip(sent).Where(r => r.Method == "DELETE" && r.Status == 200).Select(r => r.RawTarget), Has.Some.Contains("/bounces/"));
        Assert.That(Mailgun.ListContains(Domain, "bounces", address), Is.False);
        Assert.That(await StateAsync(), Is.EqualTo("none"));

        // The nightly export with a refused key, then its status in JSON and text: the failure's message is shown, no key.
        var export = await RunAsync(["export", "--domain", Domain], apiKey: wrongKey);
        runs.Add(export);
        Assert.That(export.ExitCode, Is.Not.EqualTo(ExitCodes.Ok), export.ToString());
        var status = await RunAsync("export", "status", "--tenant", Tenant, "--json");
        var text = await RunAsync("export", "status", "--tenant", Tenant, "--failed");
        runs.AddRange([status, text]);
        Assert.That((string?)status.Json["items"]![0]!["error"], Does.Contain("401"), status.ToString());
        Assert.That(text.Stdout, Does.Contain("401"));

        foreach (var run in runs)
        {
            Assert.That(SecretForms.FoundIn(run.Stdout + run.Stderr, [TestSettings.ApiKey, wrongKey, TestSettings.SigningKey]), Is.Empty, run.ToString());
        }
    }
}
