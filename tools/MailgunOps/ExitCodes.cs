namespace MailgunOps;

/// <summary>Exit codes scripts can rely on (docs/cli.md lists them).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The command line itself is wrong (System.CommandLine's parse errors also exit 1).</summary>
    public const int Usage = 1;
    /// <summary>Nothing found: unknown address, unknown message id.</summary>
    public const int NotFound = 2;
    /// <summary>Refused by a rule: locked (complaint) entry without override, invalid address.</summary>
    public const int Refused = 3;
    /// <summary>Configuration is missing or invalid (API key, domain, options).</summary>
    public const int Configuration = 4;
    /// <summary>Mailgun's API or DNS failed (down, refused the key, answered an error).</summary>
    public const int Remote = 5;
    /// <summary>Table, queue or blob storage failed.</summary>
    public const int Storage = 6;
    /// <summary>The command ran but some inputs failed or a check found problems (see the output).</summary>
    public const int Problems = 7;
    /// <summary>A check found nothing failing but something the platform's guide asks otherwise (<c>setup check</c>).</summary>
    public const int Warnings = 8;

    /// <summary>What each code means, for the help (the README's table says the same at more length).</summary>
    public static IReadOnlyList<(int Code, string Meaning)> Meanings { get; } =
    [
        (Ok, "done"),
        (Usage, "the command line is wrong (unknown command or option, missing or bad value)"),
        (NotFound, "not found (no entry, tenant, domain or message; no entry with that reason)"),
        (Refused, "refused by a rule (complaint lock or unsubscribe without override, address that takes no mail)"),
        (Configuration, "configuration missing or invalid (names the setting)"),
        (Remote, "Mailgun's API or DNS failed"),
        (Storage, "storage failed (unreachable, authentication failed)"),
        (Problems, "ran, but some inputs failed or a check found problems"),
        (Warnings, "a check found only warnings, nothing failing (setup check)"),
    ];
}

/// <summary>A failure the operator can act on: printed as is, with its exit code.</summary>
public sealed class OpsException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
