using System.Diagnostics;
using System.Globalization;
using System.Text;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Benchmarks;

/// <summary>
/// Harness 7: <c>mailgun-ops replay</c> of a file of distinct hard bounces, run in this process through the CLI's own
/// entry point (file read, services built, every event through EventProcessor, summary), one event at a time (as the CLI
/// replayed before) against the default concurrency (24, as the queue trigger runs). Both runs use the same Azurite, each
/// with its own tenant: a tenant is one DndEntries partition, and Azurite's point operations slow down as a partition grows
/// (see ProcessingLoad), so neither run starts from the other's rows. The floor is the one-at-a-time replay: the goal is the
/// concurrent replay in at most a quarter of its time.
/// </summary>
public static class ReplayLoad
{
    private const int WarmUpEvents = 300;

    /// <param name="events">Events of the concurrent run.</param>
    /// <param name="sequentialEvents">Events of the one-at-a-time run: fewer than <paramref name="events"/> to keep a full run
    /// in minutes; its time is then scaled to <paramref name="events"/> (said in the result).</param>
    public static async Task<string> RunAsync(int events, int sequentialEvents)
    {
        await using var azurite = await Azurite.StartDedicatedAsync(persistent: false);
        var cpu = new CpuProfile(azurite);
        string work = Path.Combine(Path.GetTempPath(), "mailgun-bench-replay-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            string warm = await TenantAsync(azurite, "warm");
            string one = await TenantAsync(azurite, "seq");
            string many = await TenantAsync(azurite, "conc");

            // JIT, table creation, connections: not part of either measured run.
            await ReplayAsync(azurite, cpu, Write(work, "warm", WarmUpEvents), warm, 24, WarmUpEvents);
            string loadAverage = LoadAverage();
            var (sequential, sequentialCpu) = await ReplayAsync(azurite, cpu, Write(work, "seq", sequentialEvents), one, 1, sequentialEvents);
            var (concurrent, concurrentCpu) = await ReplayAsync(azurite, cpu, Write(work, "conc", events), many, 24, events);
            string loadAfter = LoadAverage();

            double scaledSequential = sequential.TotalSeconds * events / sequentialEvents;
            double ratio = concurrent.TotalSeconds / scaledSequential;
            string Cpu(CpuUse use, int count) => string.Create(CultureInfo.InvariantCulture,
                $"{use.BenchProcess.TotalMilliseconds / count:F2} | {use.Azurite.TotalMilliseconds / count:F2} | {(use.BenchProcess + use.Azurite).TotalSeconds:F1} s");
            var table = new StringBuilder()
                .AppendLine("| Run | Events | Concurrency | Time | Events/s | Time against one at a time | CPU ms/event: bench process (CLI) | CPU ms/event: Azurite | CPU both |")
                .AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
                .AppendLine(CultureInfo.InvariantCulture, $"| one at a time (before) | {sequentialEvents:N0} | 1 | {sequential.TotalSeconds:F1} s | {sequentialEvents / sequential.TotalSeconds:F0} | 1.00 | {Cpu(sequentialCpu, sequentialEvents)} |")
                .AppendLine(CultureInfo.InvariantCulture, $"| default concurrency | {events:N0} | 24 | {concurrent.TotalSeconds:F1} s | {events / concurrent.TotalSeconds:F0} | **{ratio:F2}** (goal ≤ 0.25) | {Cpu(concurrentCpu, events)} |")
                .AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"Load average (1, 5, 15 min) before the measured runs: {loadAverage}; after: {loadAfter}.")
                .AppendLine("When the CPU of both processes over a run comes close to its time multiplied by the cores this run actually got, the replay is bound by CPU, not by waiting: on a shared machine more concurrency then cannot shorten it.");
            if (sequentialEvents != events)
            {
                table.AppendLine(CultureInfo.InvariantCulture,
                    $"The one-at-a-time run replayed {sequentialEvents:N0} events and its time is scaled linearly to {events:N0} ({scaledSequential:F0} s): an extrapolation, not a measurement. Its smaller partition is faster per event on Azurite, so the scaled time is if anything too short and the ratio too high.");
            }

            return table.ToString();
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<string> TenantAsync(Azurite azurite, string prefix)
    {
        string id = TestTenants.NewId(prefix);
        await using var services = TestSettings.Services(TestSettings.Configuration(azurite.ConnectionString), (s, c) => s.AddMailgunCore(c), TimeProvider.System);
        await TestTenants.RegisterAsync(services, id, TestSettings.SigningKey, [id + ".example.com"]);
        return id;
    }

    private static string Write(string work, string prefix, int count)
    {
        string path = Path.Combine(work, prefix + ".jsonl");
        var at = DateTimeOffset.UtcNow.AddHours(-1);
        File.WriteAllLines(path, Enumerable.Range(0, count).Select(i => SignedWebhook.Failed($"{prefix}{i}@example.com", at).ToString(Newtonsoft.Json.Formatting.None)));
        return path;
    }

    private static async Task<(TimeSpan Time, CpuUse Cpu)> ReplayAsync(Azurite azurite, CpuProfile cpu, string file, string tenant, int concurrency, int expected)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var before = cpu.Read();
        var watch = Stopwatch.StartNew();
        int code = await MailgunOps.Program.RunAsync(
            ["replay", "--file", file, "--tenant", tenant, "--concurrency", concurrency.ToString(CultureInfo.InvariantCulture), "--json", "--storage", azurite.ConnectionString],
            stdout, stderr,
            services => services.Configure<MailgunFunctions.Tenants.TenantsOptions>(o => o.KeyEncryptionKeys["k1"] = TestSettings.KeyEncryptionKey));
        watch.Stop();
        var used = cpu.Read() - before;
        if (code != 0 || (long?)JObject.Parse(stdout.ToString())["stateChanges"]?["none->permanent"] != expected)
        {
            throw new InvalidOperationException($"replay of {file} did not do the work (exit {code}): {stdout} {stderr}");
        }

        return (watch.Elapsed, used);
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
