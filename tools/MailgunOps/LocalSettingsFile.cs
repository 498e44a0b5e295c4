using FunctionsHost;

namespace MailgunOps;

/// <summary>
/// The local app's <c>local.settings.json</c> (<c>--settings</c>): the CLI run beside <c>scripts/run.sh</c> sees the settings the
/// local app runs with (its signing keys make the single-account tenant, its registry key opens the tenants), without the
/// operator exporting them. Read by the stand-in host's rules (<see cref="LocalSettings"/>): the environment wins over the
/// file, as it does for the local host; a missing file is no error.
/// </summary>
public static class LocalSettingsFile
{
    public const string DefaultName = "local.settings.json";

    /// <summary>The file's <c>Values</c> as configuration keys (<c>A__B</c> as <c>A:B</c>), for the names the environment does not set.</summary>
    public static Dictionary<string, string?> ValuesNotInEnvironment(FileInfo? file)
    {
        if (file is not { Exists: true })
        {
            return [];
        }

        try
        {
            return LocalSettings.ValuesNotInEnvironment(file.FullName, TextWriter.Null)
                .ToDictionary(s => s.Key.Replace("__", ":", StringComparison.Ordinal), s => (string?)s.Value);
        }
        catch (InvalidDataException ex)
        {
            throw new OpsException(ExitCodes.Configuration, ex.Message + " (--settings)");
        }
    }
}
