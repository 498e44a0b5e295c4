using System.CommandLine;
using System.Text;

namespace MailgunOps;

/// <summary>
/// Secrets reach the CLI through a file or standard input, never its command line (which stays in the shell's history
/// and in the process list for every user of the machine to see). At a terminal the secret is typed without echo.
/// </summary>
public static class SecretInput
{
    /// <summary>The environment variable <c>tenant connect|add-domain</c> read the function key from when no file is given.</summary>
    public const string FunctionKeyVariable = "MAILGUN_OPS_FUNCTION_KEY";

    /// <summary>An option naming a file that holds one secret; <c>-</c> means standard input.</summary>
    public static Option<string?> FileOption(string name, string description) => new(name) { Description = description + " '-' reads standard input." };

    /// <summary>
    /// The secret from <paramref name="file"/> (its first non-empty line, trimmed), or from standard input when the file is
    /// <c>-</c> or, with <paramref name="stdinByDefault"/>, not given. Never empty.
    /// </summary>
    public static async Task<string> ReadAsync(OpsContext ctx, string? file, string what, bool stdinByDefault, string optionName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        string? text;
        if (file is { Length: > 0 } path && path != "-")
        {
            if (!File.Exists(path))
            {
                throw new OpsException(ExitCodes.NotFound, $"{optionName}: file '{path}' does not exist");
            }

            text = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        }
        else if (file == "-" || stdinByDefault)
        {
            var runtime = ctx.Runtime ?? throw new InvalidOperationException("no runtime");
            text = runtime.InteractiveStdin ? ReadHidden(runtime.Stderr, what) : await runtime.Stdin.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            throw new OpsException(ExitCodes.Usage, $"give the {what} with {optionName} <file> (or '-' for standard input)");
        }

        string? secret = text?.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0);
        return secret ?? throw new OpsException(ExitCodes.Usage, $"the {what} is empty: put it in a file ({optionName} <file>) or pipe it on standard input");
    }

    /// <summary>The function key: from <paramref name="file"/>, else the environment variable <see cref="FunctionKeyVariable"/>, else null.</summary>
    public static async Task<string?> FunctionKeyAsync(OpsContext ctx, string? file, CancellationToken cancellationToken) =>
        file is { Length: > 0 } ? await ReadAsync(ctx, file, "function key", stdinByDefault: false, "--function-key-file", cancellationToken).ConfigureAwait(false)
        : Environment.GetEnvironmentVariable(FunctionKeyVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment.Trim()
        : null;

    /// <summary>Refuses a secret given on the command line (the global <c>--api-key</c>) for commands that store it.</summary>
    public static void RefuseCommandLineKey(ParseResult parse, OpsRuntime runtime, string command)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(runtime);
        if (parse.GetResult(runtime.ApiKey) is not null)
        {
            throw new OpsException(ExitCodes.Usage,
                $"{command} never takes the API key on the command line (it would stay in the shell history and the process list): pipe it on standard input or give --api-key-file <file>");
        }
    }

    private static string ReadHidden(TextWriter prompt, string what)
    {
        prompt.Write($"{what} (not shown; Enter to finish): ");
        var text = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                prompt.WriteLine();
                return text.ToString();
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (text.Length > 0)
                {
                    text.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                text.Append(key.KeyChar);
            }
        }
    }
}
