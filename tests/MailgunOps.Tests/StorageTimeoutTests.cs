using System.Net;
using System.Net.Sockets;
using MailgunFunctions.Testing;
using NUnit.Framework;

namespace MailgunOps.Tests;

/// <summary>
/// Storage that accepts connections and never answers (a hung account endpoint, a black-holing firewall): every request
/// times out. The CLI must say it is a storage problem, with its exit code, not crash with a stack trace.
/// </summary>
public sealed class StorageTimeoutTests : OpsHarness
{
    [Test]
    public async Task Storage_that_never_answers_exits_with_a_storage_error_naming_the_timeout()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var held = new List<TcpClient>();
        using var stop = new CancellationTokenSource();
        // Accept and hold every connection, read nothing back: the client waits for an answer until its timeout.
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    held.Add(await silent.AcceptTcpClientAsync(stop.Token));
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        string hung = Azurite.At(port);

        var run = await RunAsync(["dnd", "get", "x@example.org", "--tenant", Tenant], storage: hung, storageTimeout: TimeSpan.FromSeconds(2));

        await stop.CancelAsync();
        await accepting;
        held.ForEach(c => c.Dispose());
        Assert.That(held, Is.Not.Empty, "the CLI reached the silent storage");
        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Storage), run.ToString());
        Assert.That(run.Stderr, Does.StartWith("error: storage: no answer in time").And.Contain("AzureWebJobsStorage"), run.ToString());
        Assert.That(run.Stdout + run.Stderr, Does.Not.Contain("   at "), "no stack trace");
    }
}
