using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunOps;

/// <summary>
/// The local app's <c>local.settings.json</c> (<c>--settings</c>): the CLI run beside <c>scripts/run.sh</c> sees the settings the
/// local app runs with (its signing keys make the single-account tenant, its registry key opens the tenants), without the
/// operator exporting them. The environment wins over the file, as it does for the local host; a missing file is no error.
/// </summary>
public static class LocalSettingsFile
{
    public const string DefaultName = "local.settings.json";

    /// <summary>The file's <c>Values</c> as configuration keys (<c>A__B</c> as <c>A:B</c>), for the names the environment does not set.</summary>
    public static Dictionary<string, string?> ValuesNotInEnvironment(FileInfo? file)
    {
        var values = new Dictionary<string, string?>();
        if (file is not { Exists: true })
        {
            return values;
        }

        JToken? settings;
        try
        {
            settings = JObject.Parse(File.ReadAllText(file.FullName))["Values"];
        }
        catch (JsonException ex)
        {
            throw new OpsException(ExitCodes.Configuration, $"{file.FullName} (--settings) is not JSON: {ex.Message}");
        }

        foreach (var setting in settings?.Children<JProperty>() ?? [])
        {
            if (Environment.GetEnvironmentVariable(setting.Name) is null)
            {
                values[setting.Name.Replace("__", ":", StringComparison.Ordinal)] = setting.Value.Type == JTokenType.String ? (string?)setting.Value : setting.Value.ToString(Formatting.None);
            }
        }

        return values;
    }
}
