namespace MailgunFunctions.MailgunApi;

/// <summary>
/// The one rule for showing a URL that may carry a secret: Mailgun cannot send headers, so our webhook URLs carry the
/// function key as <c>?code=</c>, and other integrations' URLs on the same webhooks carry their own tokens. Every query
/// value (and any user info) becomes <see cref="Hidden"/>; scheme, host, path and parameter names stay, so an operator
/// can still tell the URLs apart.
/// </summary>
public static partial class UrlMask
{
    public const string Hidden = "***";

    /// <summary><paramref name="url"/> with every query value and any user info replaced by <see cref="Hidden"/>.</summary>
    public static string Mask(string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            return url ?? "";
        }

        string text = url;
        int fragment = text.IndexOf('#', StringComparison.Ordinal);
        string tail = "";
        if (fragment >= 0)
        {
            // A fragment never reaches the server but may still hold a token: hide it whole.
            tail = "#" + Hidden;
            text = text[..fragment];
        }

        int query = text.IndexOf('?', StringComparison.Ordinal);
        string head = query >= 0 ? text[..query] : text;
        head = MaskUserInfo(head);
        if (query < 0)
        {
            return head + tail;
        }

        var pairs = text[(query + 1)..].Split('&').Select(pair =>
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            // A bare token without a name ("?abc123") is a value too.
            return equals < 0 ? (pair.Length == 0 ? pair : Hidden) : pair[..equals] + "=" + Hidden;
        });
        return head + "?" + string.Join('&', pairs) + tail;
    }

    public static string Mask(Uri? url) => url is null ? "" : Mask(url.OriginalString);

    /// <summary>Every http(s) URL inside <paramref name="text"/> masked (error messages may quote a URL Mailgun echoed).</summary>
    public static string MaskAll(string? text) =>
        string.IsNullOrEmpty(text) ? text ?? "" : UrlsInText().Replace(text, m => Mask(m.Value));

    [System.Text.RegularExpressions.GeneratedRegex(@"https?://[^\s""'<>()]+", System.Text.RegularExpressions.RegexOptions.CultureInvariant | System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex UrlsInText();

    private static string MaskUserInfo(string head)
    {
        int scheme = head.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return head;
        }

        int start = scheme + 3;
        int slash = head.IndexOf('/', start);
        int end = slash < 0 ? head.Length : slash;
        int at = head.LastIndexOf('@', end - 1, end - start);
        return at < 0 ? head : head[..start] + Hidden + head[at..];
    }
}
