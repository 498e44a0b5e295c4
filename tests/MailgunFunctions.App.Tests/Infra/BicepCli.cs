using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;

namespace MailgunFunctions.Tests.Infra;

/// <summary>
/// The Bicep CLI from the NuGet package <c>Azure.Bicep.CommandLine.linux-x64</c> (restored by this project's
/// PackageDownload item), run on the repository's <c>infra/</c> folder. Works offline: the templates use no
/// registry modules.
/// </summary>
public static class BicepCli
{
    private static readonly Lazy<Task<JsonObject>> CompiledMain = new(() => CompileAsync(MainTemplate));

    public static string RepositoryRoot { get; } = Metadata("RepositoryRoot");

    public static string InfraFolder => Path.Combine(RepositoryRoot, "infra");

    public static string MainTemplate => Path.Combine(InfraFolder, "main.bicep");

    /// <summary>Every .bicep file under infra/ (main and modules).</summary>
    public static IEnumerable<string> Templates() => Directory
        .EnumerateFiles(InfraFolder, "*.bicep", SearchOption.AllDirectories)
        .Order(StringComparer.Ordinal);

    /// <summary>infra/main.bicep compiled to ARM JSON, once per test run.</summary>
    public static Task<JsonObject> CompiledMainAsync() => CompiledMain.Value;

    public static async Task<BicepResult> RunAsync(params string[] arguments)
    {
        string bicep = Metadata("BicepPath");
        if (!File.Exists(bicep))
        {
            throw new FileNotFoundException(
                $"The Bicep CLI is missing at {bicep}: restore tests/MailgunFunctions.App.Tests (PackageDownload Azure.Bicep.CommandLine.linux-x64).");
        }

        // NuGet extraction keeps the execute bit on Linux today; set it if an older client dropped it.
        if (!OperatingSystem.IsWindows() && !File.GetUnixFileMode(bicep).HasFlag(UnixFileMode.UserExecute))
        {
            File.SetUnixFileMode(bicep, File.GetUnixFileMode(bicep) | UnixFileMode.UserExecute);
        }

        var start = new ProcessStartInfo(bicep)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // No telemetry and no update checks: CI has no network beyond the package registries.
        start.Environment["BICEP_TELEMETRY_ENABLED"] = "false";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bicep did not start");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish within 2 minutes");
        }

        return new BicepResult(process.ExitCode, await stdout, await stderr);
    }

    private static async Task<JsonObject> CompileAsync(string template)
    {
        var result = await RunAsync("build", template, "--stdout");
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"bicep build {template} failed ({result.ExitCode}):\n{result.Diagnostics}");
        }

        return JsonNode.Parse(result.StandardOutput)?.AsObject()
            ?? throw new InvalidOperationException("bicep build printed no template");
    }

    private static string Metadata(string key) => typeof(BicepCli).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .SingleOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"Assembly metadata '{key}' is missing (set in MailgunFunctions.App.Tests.csproj).");
}

public sealed record BicepResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Warning and error lines ("file(line,col) : Warning rule: ..."), from either stream.</summary>
    public IReadOnlyList<string> DiagnosticLines => (StandardError + "\n" + StandardOutput)
        .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Where(line => line.Contains(" : Warning ", StringComparison.Ordinal) || line.Contains(" : Error ", StringComparison.Ordinal))
        .ToList();

    public string Diagnostics => StandardError.Length > 0 ? StandardError : StandardOutput;
}
