using MailgunFunctions;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunOps.Tests;

/// <summary>The result of one in-process run of the CLI.</summary>
public sealed record OpsRun(int ExitCode, string Stdout, string Stderr)
{
    public JObject Json => JObject.Parse(Stdout);

    public IReadOnlyList<JObject> JsonLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(JObject.Parse).ToList();

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// Shared Azurite, one Mailgun fake and one DNS responder for the CLI tests. Each test has its own tenant in the registry
/// (<see cref="Tenant"/>, with the domain <see cref="Domain"/>, signing with TestSettings.SigningKey, API key
/// TestSettings.ApiKey), so the fixed tables never show one test's rows to another, and <c>--domain</c> names that tenant.
/// </summary>
public abstract class OpsHarness
{
    protected string Storage { get; private set; } = "";
    protected MailgunFake Mailgun { get; private set; } = null!;
    protected TestDnsServer Dns { get; private set; } = null!;
    protected string Domain { get; private set; } = "";
    protected string Tenant { get; private set; } = "";
    protected string Work { get; private set; } = "";

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        Storage = await Azurite.SharedConnectionStringAsync();
        Mailgun = await MailgunFake.StartAsync(TestSettings.ApiKey);
        Dns = new TestDnsServer();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await Mailgun.DisposeAsync();
        await Dns.DisposeAsync();
    }

    [SetUp]
    public async Task NewTenant()
    {
        EngagementEvents = false;
        StorageShards = 1;
        Mailgun.Reset();
        Dns.Clear();
        Tenant = TestTenants.NewId("t");
        Domain = Tenant + ".example.com";
        await using (var services = TestSettings.Services(TestSettings.Configuration(Storage), (s, c) => s.AddMailgunCore(c), TimeProvider.System))
        {
            await TestTenants.RegisterAsync(services, Tenant, TestSettings.SigningKey, [Domain]);
        }

        Work = Path.Combine(Path.GetTempPath(), "mailgun-ops-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Work);
    }

    [TearDown]
    public void RemoveWork()
    {
        if (Directory.Exists(Work))
        {
            Directory.Delete(Work, recursive: true);
        }
    }

    /// <summary>
    /// Runs the CLI with the test storage, API key and DNS server; Mailgun's base URLs point at the fake (or <paramref name="mailgunUrl"/>).
    /// An empty <paramref name="apiKey"/> leaves out <c>--api-key</c> (commands that store a key refuse it on the command
    /// line); <paramref name="stdin"/> is what is piped to the CLI; <paramref name="storageTimeout"/> replaces the storage
    /// network timeout (30 s).
    /// </summary>
    /// <paramref name="settings"/> are settings over the environment's, as an operator's shell gives them (the shards' connections).
    /// <paramref name="extra"/> registers more services after the harness's (a fault policy).
    protected async Task<OpsRun> RunAsync(string[] args, string? apiKey = null, Uri? mailgunUrl = null, string? storage = null, string? stdin = null, TimeSpan? storageTimeout = null,
        IDictionary<string, string?>? settings = null, Action<IServiceCollection>? extra = null)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        string[] key = apiKey is "" ? [] : ["--api-key", apiKey ?? TestSettings.ApiKey];
        string[] all = [.. args, "--storage", storage ?? Storage, .. key, "--dns-server", Dns.Address];
        int code = await Program.RunAsync(all, stdout, stderr, overrides: services =>
        {
            // The registry's key, as an operator's environment would give it (Tenants__KeyEncryptionKeys__k1).
            services.Configure<MailgunFunctions.Tenants.TenantsOptions>(o => o.KeyEncryptionKeys["k1"] = TestSettings.KeyEncryptionKey);
            services.Configure<MailgunApiOptions>(o =>
            {
                o.UsBaseUrl = mailgunUrl ?? Mailgun.BaseUrl;
                o.EuBaseUrl = mailgunUrl ?? Mailgun.BaseUrl;
                o.MaxRetryAttempts = 0;
                o.AttemptTimeout = TimeSpan.FromSeconds(10);
            });
            services.Configure<MailgunFunctions.Settings.WebhookOptions>(o => o.EngagementEvents = EngagementEvents);
            // Fail fast when a test points at storage that is down.
            services.Configure<StorageOptions>(o =>
            {
                o.MaxRetries = 0;
                // Storage that is down refuses at once; a live Azurite may stall for seconds on a loaded machine.
                o.NetworkTimeout = storageTimeout ?? TimeSpan.FromSeconds(30);
                o.Shards = StorageShards;
            });
            extra?.Invoke(services);
        }, stdin: stdin is null ? null : new StringReader(stdin), settings: settings);
        return new OpsRun(code, stdout.ToString(), stderr.ToString());
    }

    protected Task<OpsRun> RunAsync(params string[] args) => RunAsync(args, null, null, null);

    /// <summary>Webhooks__EngagementEvents for the CLI runs of a test (off, as shipped, unless a test turns it on).</summary>
    protected bool EngagementEvents { get; set; }

    /// <summary>Storage__Shards for the CLI runs of a test (1 unless a test sets it).</summary>
    protected int StorageShards { get; set; } = 1;

    /// <summary>The events queue and its poison queue, created and emptied, with the host's message encoding (base64).</summary>
    protected async Task<(Azure.Storage.Queues.QueueClient Events, Azure.Storage.Queues.QueueClient Poison)> EmptyEventQueuesAsync()
    {
        var queues = new Azure.Storage.Queues.QueueServiceClient(Storage, new Azure.Storage.Queues.QueueClientOptions { MessageEncoding = Azure.Storage.Queues.QueueMessageEncoding.Base64 });
        var events = queues.GetQueueClient(StorageNames.EventsQueue);
        var poison = queues.GetQueueClient(StorageNames.EventsPoisonQueue);
        foreach (var queue in new[] { events, poison })
        {
            await queue.CreateIfNotExistsAsync();
            await queue.ClearMessagesAsync();
        }

        return (events, poison);
    }

    /// <summary>
    /// Runs the built tool as a real process (<c>dotnet mailgun-ops.dll</c>) with the same storage, API key, DNS server and
    /// Mailgun fake as <see cref="RunAsync(string[], string?, Uri?, string?, string?, TimeSpan?, IDictionary{string, string?}?, Action{IServiceCollection}?)"/>, but configured as an operator's shell
    /// configures it (options and environment variables) and with the retry settings that ship (none overridden).
    /// </summary>
    protected async Task<OpsRun> RunProcessAsync(string[] args, string? apiKey = null, string? storage = null, string? stdin = null)
    {
        string[] key = apiKey is "" ? [] : ["--api-key", apiKey ?? TestSettings.ApiKey];
        var info = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        info.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (string a in (string[])[.. args, "--storage", storage ?? Storage, .. key, "--dns-server", Dns.Address, "--mailgun-base-url", Mailgun.BaseUrl.AbsoluteUri])
        {
            info.ArgumentList.Add(a);
        }

        // The registry's key, as an operator's environment gives it.
        info.Environment["Tenants__KeyEncryptionKeys__k1"] = TestSettings.KeyEncryptionKey;
        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return new OpsRun(process.ExitCode, await stdout, await stderr);
    }

    protected string WriteLines(params JObject[] lines)
    {
        string path = Path.Combine(Work, Guid.NewGuid().ToString("N") + ".jsonl");
        File.WriteAllLines(path, lines.Select(l => l.ToString(Newtonsoft.Json.Formatting.None)));
        return path;
    }

    /// <summary>Replays events into the store through the CLI itself (the same processing as the queue function).</summary>
    protected async Task ReplayAsync(params JObject[] events)
    {
        var run = await RunAsync("replay", "--file", WriteLines(events), "--json");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
    }

    protected static DateTimeOffset Recent(int minutesAgo = 10) => DateTimeOffset.UtcNow.AddMinutes(-minutesAgo);
}
