using System.Diagnostics;
using System.Globalization;
using System.Text;
using MailgunFunctions.Export;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Benchmarks;

/// <summary>
/// Harness 4: one suppression list of N records paged from the Mailgun fake (a real HTTP server) into Blob Storage
/// (Azurite) by SuppressionExport. Each size runs in its own child process, because peak working set is process-wide
/// and never goes down: sizes run one after the other in one process would hide each other.
/// </summary>
public static class ExportLoad
{
    public const string ChildMode = "export-child";

    public static async Task<string> RunAsync(int[] sizes)
    {
        await using var azurite = await Azurite.StartDedicatedAsync(persistent: false);
        var report = new StringBuilder()
            .AppendLine("| Records | Records/s | Peak working set (process) | Peak managed heap | CSV size | Goal: peak < 256 MB |")
            .AppendLine("|---:|---:|---:|---:|---:|---|");
        foreach (int size in sizes)
        {
            string[] result = await RunChildAsync(size, azurite.ConnectionString);
            double seconds = double.Parse(result[2], CultureInfo.InvariantCulture);
            long workingSet = long.Parse(result[3], CultureInfo.InvariantCulture);
            long heap = long.Parse(result[4], CultureInfo.InvariantCulture);
            long csv = long.Parse(result[5], CultureInfo.InvariantCulture);
            report.AppendLine($"| {size:N0} | {size / seconds:F0} | {Mb(workingSet)} | {Mb(heap)} | {Mb(csv)} | {(workingSet < 256L * 1024 * 1024 ? "met" : "MISSED")} |");
            Console.WriteLine($"export: {size} records done");
        }

        return report.ToString();
    }

    private static string Mb(long bytes) => $"{bytes / 1024d / 1024d:F0} MB";

    private static async Task<string[]> RunChildAsync(int size, string storage)
    {
        string self = Environment.ProcessPath!;
        var start = new ProcessStartInfo { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.FileName = self;
            start.ArgumentList.Add(typeof(ExportLoad).Assembly.Location);
        }
        else
        {
            start.FileName = self;
        }

        start.ArgumentList.Add(ChildMode);
        start.ArgumentList.Add(size.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(storage);
        using var child = Process.Start(start)!;
        string output = await child.StandardOutput.ReadToEndAsync();
        await child.WaitForExitAsync();
        string? line = output.Split('\n').LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        if (child.ExitCode != 0 || line is null)
        {
            throw new InvalidOperationException($"export child for {size} records failed ({child.ExitCode}): {output}");
        }

        return line.Trim().Split(' ');
    }

    /// <summary>The child: exports one list of the size in <paramref name="args"/> and prints RESULT size seconds peakWorkingSet peakHeap csvBytes.</summary>
    public static async Task<int> RunChildAsync(string[] args)
    {
        int size = int.Parse(args[1], CultureInfo.InvariantCulture);
        string storage = args[2];
        await using var us = await MailgunFake.StartAsync(TestSettings.ApiKey);
        await using var eu = await MailgunFake.StartAsync(TestSettings.ApiKey);
        string domain = $"export{size}.example.com";
        string error = "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces.";
        us.SetGeneratedList(domain, "bounces", size, i => new JObject
        {
            ["address"] = $"user{i:D8}@example.net",
            ["code"] = "550",
            ["error"] = error,
            ["created_at"] = "Fri, 01 Jan 2021 10:00:00 UTC",
        });
        foreach (string list in new[] { "complaints", "unsubscribes" })
        {
            us.SetList(domain, list, []);
        }

        // The generated addresses' domain is allowlisted, so the nightly reconciliation that follows the export re-reads
        // the list but writes no DND entry: a million DND writes would measure Table Storage, not the export.
        us.SetList(domain, "whitelists",
        [
            new JObject { ["value"] = "example.net", ["type"] = "domain", ["reason"] = "benchmark", ["createdAt"] = "Mon, 04 Jan 2021 10:00:00 UTC" },
        ]);

        var settings = new Dictionary<string, string?>
        {
            ["MailgunApi:UsBaseUrl"] = us.BaseUrl.AbsoluteUri,
            ["MailgunApi:EuBaseUrl"] = eu.BaseUrl.AbsoluteUri,
            ["MailgunApi:Domains:0:Name"] = domain,
            ["MailgunApi:Domains:0:Region"] = "Us",
            ["Storage:MaxRetries"] = "2",
        };
        await using var services = TestSettings.Services(TestSettings.Configuration(storage, settings), (s, c) => s.AddMailgunCore(c), TimeProvider.System);
        var export = services.GetRequiredService<SuppressionExport>();

        long peakHeap = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                // Heap size after the last GC plus what was allocated since: what the managed heap holds, garbage included.
                peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(forceFullCollection: false));
                try
                {
                    await Task.Delay(50, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        });

        var clock = Stopwatch.StartNew();
        var summary = await export.ExportDomainAsync(new MailgunFunctions.Export.ExportScope("default", domain), new DateOnly(2026, 11, 26), CancellationToken.None);
        double seconds = clock.Elapsed.TotalSeconds;
        await stop.CancelAsync();
        await sampler;
        if (summary.Lists["bounces"].Records != size)
        {
            Console.Error.WriteLine($"exported {summary.Lists["bounces"].Records} of {size} records");
            return 1;
        }

        var blob = new Azure.Storage.Blobs.BlobServiceClient(storage).GetBlobContainerClient(Storage.StorageNames.SuppressionExportsContainer)
            .GetBlobClient($"default/{domain}/2026-11-26/bounces.csv");
        long csv = (await blob.GetPropertiesAsync()).Value.ContentLength;
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {size} {seconds} {self.PeakWorkingSet64} {peakHeap} {csv}"));
        return 0;
    }
}
