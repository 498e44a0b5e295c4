using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Testing;

/// <summary>One Mailgun payload shape of MailgunPayloads/ with the DND effect the platform's rules give it (cases.json).</summary>
public sealed record MailgunPayloadCase(string File, string Event, string Variant, string Source, string Expected, string Why)
{
    public override string ToString() => File;

    /// <summary>The event-data with the tenant's sending domain in place of the <c>{{domain}}</c> placeholder.</summary>
    public JObject EventData(string domain) =>
        JObject.Parse(System.IO.File.ReadAllText(Path.Combine(MailgunPayloads.Folder, File)).Replace("{{domain}}", domain, StringComparison.Ordinal));
}

/// <summary>Mailgun's payload shapes (see MailgunPayloads/SOURCES.md): current documented ones, dashboard test webhooks, older and trimmed ones.</summary>
public static class MailgunPayloads
{
    public static string Folder { get; } = Path.Combine(AppContext.BaseDirectory, "MailgunPayloads");

    public static IReadOnlyList<MailgunPayloadCase> Cases() =>
        ((JArray)JObject.Parse(File.ReadAllText(Path.Combine(Folder, "cases.json")))["cases"]!)
        .Select(c => new MailgunPayloadCase((string)c["file"]!, (string)c["event"]!, (string)c["variant"]!, (string)c["source"]!, (string)c["expected"]!, (string)c["why"]!))
        .ToList();
}
