using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Newtonsoft.Json.Serialization;

namespace MailgunOps;

/// <summary>Tables for people on stdout, or JSON for scripts (one document, or one line per item for streams); progress on stderr.</summary>
public sealed class Output(TextWriter stdout, TextWriter stderr, bool json)
{
    private static readonly JsonSerializer Serializer = JsonSerializer.Create(new JsonSerializerSettings
    {
        ContractResolver = new DefaultContractResolver { NamingStrategy = new CamelCaseNamingStrategy { ProcessDictionaryKeys = false } },
        NullValueHandling = NullValueHandling.Ignore,
        DateFormatString = "yyyy-MM-dd'T'HH:mm:ss.fffK",
    });

    public bool Json { get; } = json;
    public TextWriter Out { get; } = stdout;
    public TextWriter Error { get; } = stderr;

    public void Document(object value) => Out.WriteLine(ToJson(value).ToString(Formatting.Indented));

    public void Line(object value) => Out.WriteLine(ToJson(value).ToString(Formatting.None));

    public void Text(string line) => Out.WriteLine(line);

    public void Progress(string line) => Error.WriteLine(line);

    public static JToken ToJson(object value) => JToken.FromObject(value, Serializer);

    /// <summary>A table whose column widths fit every row (for results that are already complete).</summary>
    public void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string?>> rows)
    {
        var all = rows.ToList();
        int[] widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => (r[i] ?? "").Length))).ToArray();
        WriteRow(headers, widths);
        WriteRow(widths.Select(w => new string('-', w)).ToArray(), widths);
        foreach (var row in all)
        {
            WriteRow(row, widths);
        }
    }

    /// <summary>Fixed widths, so a stream can print each row as it arrives (long values are not cut, the row just gets wider).</summary>
    public void StreamRow(IReadOnlyList<string?> cells, IReadOnlyList<int> widths) => WriteRow(cells, widths);

    private void WriteRow(IReadOnlyList<string?> cells, IReadOnlyList<int> widths) =>
        Out.WriteLine(string.Join("  ", cells.Select((c, i) => (c ?? "").PadRight(widths[i]))).TrimEnd());

    public static string? Time(DateTimeOffset? t) => t?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
