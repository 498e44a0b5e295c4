using System.Diagnostics;
using FunctionsHost;
using MailgunFunctions.Testing;

namespace MailgunFunctions.EndToEnd.Tests;

/// <summary>Starting and stopping the real worker: a start-up failure is reported in the worker's words, and a stop leaves no process behind.</summary>
public class HostLifecycleTests
{
    [Test]
    public void Missing_signing_key_stops_the_worker_at_start_up_with_a_message_naming_the_setting()
    {
        // Neither a single-account signing key nor a tenant registry key: no event could ever be verified.
        var overrides = new Dictionary<string, string?> { ["Mailgun__SigningKeys__primary"] = "", ["Mailgun__SigningKeys__next"] = "", ["Tenants__KeyEncryptionKeys__k1"] = "" };

        var failure = Assert.ThrowsAsync<WorkerStartException>(async () => await RealWorker.StartAsync(overrides));

        Assert.That(failure!.Message, Does.Contain("exited with code").And.Contain("Mailgun__SigningKeys__primary"));
    }

    [Test]
    public async Task Stopping_the_host_ends_the_worker_process()
    {
        var settings = RealWorker.Settings(await Azurite.SharedConnectionStringAsync());
        var host = await StandInHost.StartAsync(RealWorker.Options(settings, FunctionKeys.Generate()));
        int pid = host.WorkerProcessId;
        Assert.That(IsRunning(pid), Is.True, "the worker runs while the host does");

        await host.DisposeAsync();

        Assert.Multiple(() =>
        {
            Assert.That(host.WorkerExited.IsCompleted, Is.True);
            Assert.That(IsRunning(pid), Is.False, $"worker process {pid} is gone");
        });
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
