using System.Diagnostics;

namespace MailgunOps.Tests;

/// <summary>The built tool as a real process: what an operator's shell or a script sees.</summary>
[NonParallelizable]
public sealed class ProcessTests
{
    [Test]
    public async Task HelpListsEveryCommand()
    {
        var (code, stdout, _) = await RunProcessAsync("--help");

        Assert.That(code, Is.EqualTo(0));
        foreach (string command in new[] { "dnd", "classify", "replay", "backfill", "poison", "export", "setup" })
        {
            Assert.That(stdout, Does.Contain(command));
        }
    }

    [TestCase("dnd", "get")]
    [TestCase("dnd", "list")]
    [TestCase("dnd", "enable")]
    [TestCase("dnd", "forget")]
    [TestCase("dnd", "stats")]
    [TestCase("poison", "requeue")]
    [TestCase("setup", "check-dns")]
    public async Task EverySubcommandHasHelp(string group, string command)
    {
        var stdout = new StringWriter();
        int code = await Program.RunAsync([group, command, "--help"], stdout, new StringWriter());

        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout.ToString(), Does.Contain("Usage:").And.Contain(command));
    }

    [Test]
    public async Task ClassifyRunsAsAProcessAndAnUnknownCommandFails()
    {
        var (code, stdout, _) = await RunProcessAsync("classify", "--code", "605", "--json");
        var (badCode, _, badErr) = await RunProcessAsync("dnd", "frobnicate");

        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout, Does.Contain("\"category\""));
        Assert.That(badCode, Is.Not.EqualTo(0));
        Assert.That(badErr, Does.Contain("frobnicate"));
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunProcessAsync(params string[] args)
    {
        string dll = typeof(Program).Assembly.Location;
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
