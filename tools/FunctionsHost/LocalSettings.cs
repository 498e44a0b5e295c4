using System.Text.Json;
using System.Text.Json.Nodes;

namespace FunctionsHost;

/// <summary>
/// The "Values" of a local.settings.json, the file Core Tools reads app settings from for a local run. Also compiled into
/// mailgun-ops (linked in its project file), so the CLI reads the file by the same rules as the stand-in: internal in each.
/// </summary>
internal static class LocalSettings
{
    public static Dictionary<string, string> Read(string path)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {ex.Message}", ex);
        }

        if ((bool?)root?["IsEncrypted"] == true)
        {
            throw new InvalidDataException($"{path} is encrypted (IsEncrypted: true); the stand-in reads plain values only");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in root?["Values"]?.AsObject() ?? [])
        {
            values[name] = value?.GetValueKind() == JsonValueKind.String ? (string)value! : value?.ToJsonString() ?? "";
        }

        return values;
    }

    /// <summary>
    /// The values not already set in the environment: like Core Tools, a variable of the environment wins over the
    /// file (and the skipped names are reported, never their values).
    /// </summary>
    public static Dictionary<string, string> ValuesNotInEnvironment(string path, TextWriter report)
    {
        var values = Read(path);
        foreach (string name in values.Keys.Where(n => Environment.GetEnvironmentVariable(n) is not null).ToList())
        {
            report.WriteLine($"Skipping '{name}' from {Path.GetFileName(path)}: it is already set in the environment.");
            values.Remove(name);
        }

        return values;
    }
}
