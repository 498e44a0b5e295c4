using System.Text;
using System.Text.RegularExpressions;

namespace MailgunFunctions;

/// <summary>
/// The one rule for showing a URL to people (CLI output, errors, logs): its query values and any user information are
/// secrets. Mailgun cannot send headers, so the function key travels as <c>?code=</c>, and other integrations put their
/// tokens in the query too. The scheme, host, path and parameter names stay, so a masked URL still says which endpoint it
/// is: <c>https://app.example.net/api/mailgun/events?code=***</c>.
/// </summary>
public static partial class UrlMask
{
    public const string Hidden = "***";

    /// <summary>One URL with its query values, fragment and user information replaced; text that is no absolute URL is masked from its first '?' on.</summary>
    public static string Mask(string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            return url ?? "";
        }

        return Uri.TryCreate(url, UriKind.Absolute, out var uri) ? Mask(uri) : BeforeQuery(url);
    }

    public static string Mask(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            // Not an http(s) URL (a mistyped --url; other schemes keep '?' in the path): everything from the first '?' or '#' goes.
            return BeforeQuery(url.OriginalString);
        }

        var masked = new StringBuilder(url.Scheme).Append("://");
        if (url.UserInfo.Length > 0)
        {
            masked.Append(Hidden).Append('@');
        }

        masked.Append(url.Authority).Append(url.AbsolutePath);
        if (url.Query.Length > 1)
        {
            masked.Append('?').AppendJoin('&', url.Query[1..].Split('&').Select(pair =>
            {
                int equals = pair.IndexOf('=');
                return equals < 0 ? Hidden : pair[..(equals + 1)] + Hidden;
            }));
        }

        if (url.Fragment.Length > 1)
        {
            masked.Append('#').Append(Hidden);
        }

        return masked.ToString();
    }

    private static string BeforeQuery(string text)
    {
        int query = text.IndexOfAny(['?', '#']);
        return query < 0 ? text : text[..query] + "?" + Hidden;
    }

    /// <summary>Every http(s) URL inside <paramref name="text"/> masked (an error text from Mailgun may name the URL it refused).</summary>
    public static string InText(string? text) =>
        string.IsNullOrEmpty(text) ? text ?? "" : Urls().Replace(text, m => Mask(m.Value));

    /// <summary>An http(s) URL runs until white space, a quote or an angle bracket (how URLs end inside error texts and JSON).</summary>
    [GeneratedRegex(@"https?://[^\s""'<>]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Urls();
}
