namespace MailgunFunctions.EndToEnd.Tests;

/// <summary>
/// A test class with one real worker for all its tests: started before the first test, stopped after the last
/// (also when tests failed), and its invocations and warnings printed under a failed test.
/// </summary>
public abstract class WorkerTests
{
    protected RealWorker Worker { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task StartWorker() => Worker = await StartAsync();

    [OneTimeTearDown]
    public async Task StopWorker()
    {
        if (Worker is not null)
        {
            await Worker.DisposeAsync();
        }
    }

    [TearDown]
    public void ShowWorkerOnFailure()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Failed && Worker is not null)
        {
            TestContext.Out.WriteLine(Worker.Diagnostics());
        }
    }

    /// <summary>Starts this class's worker (with its own settings, when it needs any).</summary>
    protected virtual Task<RealWorker> StartAsync() => RealWorker.StartAsync();
}
