using System.Globalization;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.MailgunApi;

/// <summary>
/// One entry of a suppression list, with the fields as Mailgun gives them (strings, untouched) so an export
/// reproduces Mailgun's data. Allowlist entries name their fields differently (<c>value</c>, <c>reason</c>,
/// <c>createdAt</c>): they are mapped onto <see cref="Address"/>, <see cref="Error"/> and <see cref="CreatedAt"/>.
/// </summary>
/// <param name="Address">The suppressed address (for the allowlist: an address or a domain, see <see cref="Type"/>).</param>
/// <param name="Code">Bounces: the SMTP code, a string in most answers and a number in some; kept as text.</param>
/// <param name="Error">Bounces: the SMTP answer; allowlist: the reason.</param>
/// <param name="CreatedAt">When Mailgun added the entry, RFC 2822 text (e.g. <c>Fri, 21 Oct 2011 11:02:55 UTC</c>).</param>
/// <param name="Tags">Unsubscribes: the tags unsubscribed from; <c>["*"]</c> means all mail. Empty for other lists.</param>
/// <param name="Type">Allowlist only: <c>address</c> or <c>domain</c>.</param>
public sealed record SuppressionRecord(string Address, string? Code, string? Error, string? CreatedAt, IReadOnlyList<string> Tags, string? Type = null)
{
    private static readonly string[] Rfc2822Formats =
    [
        "ddd, d MMM yyyy HH:mm:ss 'UTC'",
        "ddd, d MMM yyyy HH:mm:ss 'GMT'",
        "ddd, d MMM yyyy HH:mm:ss zzz",
        "ddd, d MMM yyyy HH:mm:ss K",
        "d MMM yyyy HH:mm:ss 'UTC'",
    ];

    /// <summary><see cref="CreatedAt"/> parsed (RFC 2822, or ISO 8601 as the allowlist has been seen to use); null when absent or unreadable.</summary>
    public DateTimeOffset? CreatedAtUtc => ParseDate(CreatedAt);

    /// <summary>Reads one item of a list page. Lenient: Mailgun adds fields and is inconsistent about types.</summary>
    public static SuppressionRecord FromJson(SuppressionList list, JObject item)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (list == SuppressionList.Allowlist)
        {
            return new SuppressionRecord(
                Text(item["value"]) ?? Text(item["address"]) ?? "",
                null,
                Text(item["reason"]),
                Text(item["createdAt"]) ?? Text(item["created_at"]),
                [],
                Text(item["type"]));
        }

        var tags = item["tags"] is JArray array
            ? array.Select(Text).OfType<string>().ToArray()
            : Text(item["tags"]) is { } single ? [single] : [];
        return new SuppressionRecord(Text(item["address"]) ?? "", Text(item["code"]), Text(item["error"]), Text(item["created_at"]), tags);
    }

    public static DateTimeOffset? ParseDate(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        const DateTimeStyles styles = DateTimeStyles.AllowWhiteSpaces | DateTimeStyles.AssumeUniversal;
        if (DateTimeOffset.TryParseExact(text.Trim(), Rfc2822Formats, CultureInfo.InvariantCulture, styles, out var exact))
        {
            return exact.ToUniversalTime();
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, styles, out var loose) ? loose.ToUniversalTime() : null;
    }

    // "code" arrives as "550" or 550 depending on the record's age: both become the same text.
    private static string? Text(JToken? token) => token switch
    {
        null => null,
        { Type: JTokenType.Null or JTokenType.Undefined } => null,
        JValue value => Convert.ToString(value.Value, CultureInfo.InvariantCulture),
        _ => token.ToString(Newtonsoft.Json.Formatting.None),
    };
}

/// <summary>One page of a suppression list and the URL of the page after it (null when the list ends).</summary>
public sealed record SuppressionPage(IReadOnlyList<SuppressionRecord> Records, Uri? Next);
