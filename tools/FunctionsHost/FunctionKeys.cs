using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FunctionsHost;

/// <summary>
/// The keys that HTTP triggers with <c>authLevel</c> Function or Admin require, kept in a local JSON file:
/// <code>
/// { "master": "…", "host": { "default": "…" }, "functions": { "MailgunEvents": { "default": "…" } } }
/// </code>
/// The same three kinds as the real host: the master key passes every check (and is the only key for Admin level
/// and the admin API), a host key passes every Function-level check, a function key only its own function's.
/// A key is presented as <c>?code=</c> or in the <c>x-functions-key</c> header.
/// </summary>
public sealed class FunctionKeys
{
    public const string HeaderName = "x-functions-key";
    public const string QueryName = "code";

    private readonly string _master;
    private readonly IReadOnlyDictionary<string, string> _host;
    private readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> _functions;

    public FunctionKeys(string master, IReadOnlyDictionary<string, string>? hostKeys = null, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? functionKeys = null)
    {
        if (string.IsNullOrWhiteSpace(master))
        {
            throw new ArgumentException("the master key must not be empty", nameof(master));
        }

        _master = master;
        _host = hostKeys ?? new Dictionary<string, string>();
        _functions = functionKeys ?? new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.OrdinalIgnoreCase);
    }

    public string MasterKey => _master;

    /// <summary>The host key named "default", which scripts use to call Function-level triggers.</summary>
    public string? DefaultHostKey => _host.GetValueOrDefault("default");

    /// <summary>New random keys: a master key and a "default" host key.</summary>
    public static FunctionKeys Generate() => new(NewKey(), new Dictionary<string, string> { ["default"] = NewKey() });

    /// <summary>Reads a keys file; a missing file is created with <see cref="Generate"/>d keys (the values are never printed).</summary>
    public static FunctionKeys LoadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            var generated = Generate();
            generated.Save(path);
            return generated;
        }

        return Load(path);
    }

    public static FunctionKeys Load(string path)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"keys file {path} is not JSON: {ex.Message}", ex);
        }

        string master = (string?)root?["master"] ?? throw new InvalidDataException($"keys file {path} has no \"master\" key");
        var host = ReadKeys(root?["host"]);
        var functions = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, keys) in root?["functions"]?.AsObject() ?? [])
        {
            functions[name] = ReadKeys(keys);
        }

        return new FunctionKeys(master, host, functions);
    }

    public void Save(string path)
    {
        var functions = new JsonObject();
        foreach (var (name, keys) in _functions)
        {
            functions[name] = new JsonObject(keys.Select(k => KeyValuePair.Create(k.Key, (JsonNode?)k.Value)));
        }

        var root = new JsonObject
        {
            ["master"] = _master,
            ["host"] = new JsonObject(_host.Select(k => KeyValuePair.Create(k.Key, (JsonNode?)k.Value))),
            ["functions"] = functions,
        };
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        if (!OperatingSystem.IsWindows())
        {
            // Readable by its owner only, like other local secrets.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>Whether <paramref name="presented"/> opens a trigger of <paramref name="authLevel"/> on function <paramref name="functionName"/>.</summary>
    public bool Allows(string authLevel, string functionName, string? presented)
    {
        if (authLevel.Equals("anonymous", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (string.IsNullOrEmpty(presented))
        {
            return false;
        }

        if (Matches(_master, presented))
        {
            return true;
        }

        if (!authLevel.Equals("function", StringComparison.OrdinalIgnoreCase))
        {
            // Admin (and the levels the host keeps for itself): the master key only.
            return false;
        }

        return _host.Values.Any(k => Matches(k, presented))
            || (_functions.TryGetValue(functionName, out var own) && own.Values.Any(k => Matches(k, presented)));
    }

    public bool IsMaster(string? presented) => !string.IsNullOrEmpty(presented) && Matches(_master, presented);

    private static bool Matches(string key, string presented) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(presented));

    private static Dictionary<string, string> ReadKeys(JsonNode? node)
    {
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in node?.AsObject() ?? [])
        {
            if ((string?)value is { Length: > 0 } key)
            {
                keys[name] = key;
            }
        }

        return keys;
    }

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
