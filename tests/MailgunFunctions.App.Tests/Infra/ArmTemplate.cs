using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MailgunFunctions.Tests.Infra;

/// <summary>Reads the compiled ARM JSON of infra/main.bicep: resources of every nested module, and the app settings.</summary>
public sealed partial class ArmTemplate(JsonObject root)
{
    public JsonObject Root { get; } = root;

    /// <summary>Every resource, including those inside module deployments (nested templates), depth first.</summary>
    public IEnumerable<JsonObject> AllResources() => ResourcesOf(Root);

    public IEnumerable<JsonObject> ResourcesOfType(string type) => AllResources()
        .Where(r => string.Equals((string?)r["type"], type, StringComparison.OrdinalIgnoreCase));

    public JsonObject Module(string deploymentName) => ResourcesOfType("Microsoft.Resources/deployments")
        .Single(r => (string?)r["name"] == deploymentName);

    /// <summary>A module declared in a loop (<c>module x '...' = [for ...]</c>), by its symbolic name.</summary>
    public JsonObject ModuleLoop(string symbolicName) => ResourcesOfType("Microsoft.Resources/deployments")
        .Single(r => (string?)r["copy"]?["name"] == symbolicName);

    /// <summary>Main template variables (name to value or expression); loop variables are under <c>copy</c>.</summary>
    public JsonObject Variables => Root["variables"]!.AsObject();

    /// <summary>Main template parameters (name to declaration).</summary>
    public JsonObject Parameters => Root["parameters"]!.AsObject();

    /// <summary>The settings the functionapp module always applies (name to ARM value or expression).</summary>
    public IReadOnlyDictionary<string, string> AppSettings =>
        Module("functionapp")["properties"]!["parameters"]!["appSettings"]!["value"]!.AsObject()
            .ToDictionary(p => p.Key, p => p.Value!.ToString(), StringComparer.OrdinalIgnoreCase);

    /// <summary>Names of the settings that exist only while a signing key is being rotated (a conditional object expression).</summary>
    public IReadOnlyList<string> RotationSettingNames => SettingNameInExpression()
        .Matches(Module("functionapp")["properties"]!["parameters"]!["rotationSettings"]!.ToString())
        .Select(m => m.Groups[1].Value)
        .ToList();

    /// <summary>The expression of a conditional rotation setting (it is built inside one <c>if(...)</c>).</summary>
    public string RotationSettingsExpression =>
        Module("functionapp")["properties"]!["parameters"]!["rotationSettings"]!.ToString();

    /// <summary>Names of the Key Vault secrets the templates create (last literal segment of each secret's name).</summary>
    public IReadOnlySet<string> SecretNames => ResourcesOfType("Microsoft.KeyVault/vaults/secrets")
        .Select(r => SecretNameInResourceName().Match((string)r["name"]!))
        .Where(m => m.Success)
        .Select(m => m.Groups[1].Value)
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>If <paramref name="value"/> is a Key Vault reference, the secret it names.</summary>
    public static string? ReferencedSecret(string value)
    {
        var match = KeyVaultReference().Match(value);
        return match.Success ? match.Groups[1].Value : null;
    }

    /// <summary>If <paramref name="value"/> is exactly a main-template parameter (possibly through <c>string()</c>), its name.</summary>
    public static string? ParameterOf(string value)
    {
        var match = ParameterExpression().Match(value);
        return match.Success ? match.Groups[1].Value : null;
    }

    private static IEnumerable<JsonObject> ResourcesOf(JsonObject template)
    {
        // Symbolic-name templates (languageVersion 2.0) keep resources in an object, classic ones in an array.
        IEnumerable<JsonNode?> resources = template["resources"] switch
        {
            JsonArray array => array,
            JsonObject map => map.Select(p => p.Value),
            _ => [],
        };
        foreach (var resource in resources.OfType<JsonObject>())
        {
            yield return resource;
            if (resource["properties"] is JsonObject { } properties && properties["template"] is JsonObject nested)
            {
                foreach (var inner in ResourcesOf(nested))
                {
                    yield return inner;
                }
            }
        }
    }

    [GeneratedRegex(@"@Microsoft\.KeyVault\(VaultName=[^;]+;SecretName=([A-Za-z0-9-]+)\)")]
    private static partial Regex KeyVaultReference();

    [GeneratedRegex(@"'([A-Za-z0-9-]+)'\)\]$")]
    private static partial Regex SecretNameInResourceName();

    [GeneratedRegex(@"^\[(?:string\()?parameters\('([A-Za-z0-9_]+)'\)\)?\]$")]
    private static partial Regex ParameterExpression();

    [GeneratedRegex(@"'([A-Za-z0-9_]+__[A-Za-z0-9_]+(?:__[A-Za-z0-9_]+)*)'")]
    private static partial Regex SettingNameInExpression();
}
