using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;

namespace MailgunOps;

public static class Program
{
    public static Task<int> Main(string[] args) => RunAsync(args, Console.Out, Console.Error);

    /// <summary>
    /// Runs one command line. Tests call this in-process with their own writers; <paramref name="overrides"/> runs after
    /// the Core's registration, so a test can replace the clock or point the Mailgun client at a fake.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, Action<IServiceCollection>? overrides = null, CancellationToken cancellationToken = default)
    {
        var runtime = new OpsRuntime(stdout, stderr, overrides);
        var root = OpsCommands.Build(runtime);
        var parsed = root.Parse(args);
        return await parsed.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, cancellationToken).ConfigureAwait(false);
    }
}
