using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;

namespace MailgunOps;

public static class Program
{
    public static Task<int> Main(string[] args) => RunAsync(args, Console.Out, Console.Error, stdin: Console.In, interactive: !Console.IsInputRedirected,
        terminalErrors: !Console.IsErrorRedirected, terminalOutput: !Console.IsOutputRedirected);

    /// <summary>
    /// Runs one command line. Tests call this in-process with their own writers; <paramref name="overrides"/> runs after
    /// the Core's registration, so a test can replace the clock or point the Mailgun client at a fake.
    /// </summary>
    /// <paramref name="stdin"/> supplies secrets piped to the CLI (the API key of <c>tenant connect</c>); <paramref name="interactive"/>
    /// says it is a terminal, where a secret is typed without echo. <paramref name="terminalErrors"/> says stderr is a terminal,
    /// where progress rewrites one line (otherwise plain lines, no control codes); <paramref name="terminalOutput"/> says stdout is one.
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, Action<IServiceCollection>? overrides = null,
        TextReader? stdin = null, bool interactive = false, bool terminalErrors = false, bool terminalOutput = false,
        IDictionary<string, string?>? settings = null, CancellationToken cancellationToken = default)
    {
        var runtime = new OpsRuntime(stdout, stderr, overrides, stdin, interactive, terminalErrors, terminalOutput, settings);
        var root = OpsCommands.Build(runtime);
        var parsed = root.Parse(args);
        // A command line with errors may not parse --json itself: its presence decides how the error is written.
        bool json = args.Contains("--json", StringComparer.Ordinal);
        return await OpsHelp.InvokeAsync(root, parsed, json, stdout, stderr, cancellationToken).ConfigureAwait(false);
    }
}
