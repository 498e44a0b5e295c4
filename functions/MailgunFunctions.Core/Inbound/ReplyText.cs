using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace MailgunFunctions.Inbound;

/// <summary>
/// Finds the new text of a reply when Mailgun's <c>stripped-text</c> is absent (raw MIME routes, or when
/// Mailgun's own parsing failed): cuts the quoted history at its header line ("On ... wrote:" and its Spanish,
/// French, German and Portuguese forms, Outlook's "-----Original Message-----" and "From:/Sent:" blocks),
/// drops "&gt;" quoted lines, and cuts the signature ("-- " delimiter, "Sent from my ..." lines).
/// </summary>
public static partial class ReplyText
{
    /// <summary>The new text of a plain-text body.</summary>
    public static string NewText(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return "";
        }

        body = Head(body);
        string[] lines = body.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        var kept = new List<string>();
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd();
            string next = i + 1 < lines.Length ? lines[i + 1].Trim() : "";
            if (IsQuoteHeader(line, next, lines, i) || IsSignatureStart(line))
            {
                break;
            }

            if (line.TrimStart().StartsWith('>'))
            {
                continue;
            }

            kept.Add(line);
        }

        return string.Join('\n', kept).Trim();
    }

    /// <summary>The new text of an HTML-only reply: quoted blocks removed, then converted to text and stripped as plain text.</summary>
    public static string NewTextFromHtml(string? html) => NewText(HtmlToText(html));

    /// <summary>Plain text of HTML, without the parts that are never the reply's own words (head, style, script, blockquotes).</summary>
    public static string HtmlToText(string? html)
    {
        if (string.IsNullOrWhiteSpace(html))
        {
            return "";
        }

        string cleaned = Invisible().Replace(Head(html), "");
        // Mail clients quote the history in <blockquote> (Gmail, Apple Mail, Thunderbird) or after a gmail_quote / divRplyFwdMsg block.
        cleaned = QuoteBlocks().Replace(cleaned, "");
        var text = new StringBuilder();
        foreach (string piece in Tags().Split(LineBreakingTags().Replace(cleaned, "\n")))
        {
            text.Append(piece);
        }

        string decoded = WebUtility.HtmlDecode(text.ToString()).Replace('\u00a0', ' ');
        return string.Join('\n', decoded.Replace("\r\n", "\n").Split('\n').Select(l => Spaces().Replace(l, " ").Trim())).Trim();
    }

    /// <summary>
    /// A reply's own words come first; reading only the head of a huge body keeps the regular expressions'
    /// work bounded (the whole message stays in the raw payload).
    /// </summary>
    private static string Head(string text) => text.Length > MaxCharsRead ? text[..MaxCharsRead] : text;

    public const int MaxCharsRead = 256 * 1024;

    private static bool IsQuoteHeader(string line, string next, string[] lines, int index)
    {
        string trimmed = line.Trim();
        if (trimmed.Length == 0)
        {
            return false;
        }

        if (Attribution().IsMatch(trimmed))
        {
            return true;
        }

        // Attribution lines wrapped by the mail client: "On Tue, 3 Mar 2026 at 10:02, Jane Doe <jane@example.org>" / "wrote:".
        if (AttributionStart().IsMatch(trimmed) && Attribution().IsMatch(trimmed + " " + next))
        {
            return true;
        }

        if (OriginalMessage().IsMatch(trimmed) || (Underscores().IsMatch(trimmed) && next.Length > 0 && OutlookFrom().IsMatch(next)))
        {
            return true;
        }

        // Outlook's header block: "From: ..." followed within three lines by "Sent:" / "Date:" (or their translations).
        if (OutlookFrom().IsMatch(trimmed))
        {
            for (int j = index + 1; j < Math.Min(lines.Length, index + 4); j++)
            {
                if (OutlookSent().IsMatch(lines[j].Trim()))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool IsSignatureStart(string line) =>
        line is "--" or "-- " || line.TrimEnd() == "--" || SentFromDevice().IsMatch(line.Trim());

    [GeneratedRegex(@"^(On\s.{1,300}\swrote|El\s.{1,300}\sescribi[oó]|Le\s.{1,300}\sa\s[ée]crit|Am\s.{1,300}\sschrieb.{0,200}|Em\s.{1,300}\sescreveu)\s*:\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Attribution();

    [GeneratedRegex(@"^(On|El|Le|Am|Em)\s.{4,300}$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AttributionStart();

    [GeneratedRegex(@"^-{2,}\s*(Original Message|Mensaje original|Message d'origine|Ursprüngliche Nachricht|Originalnachricht|Mensagem original)\s*-{2,}\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OriginalMessage();

    [GeneratedRegex(@"^_{10,}$")]
    private static partial Regex Underscores();

    [GeneratedRegex(@"^\*?(From|De|Von|Da)\s?\*?:\s*\S", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OutlookFrom();

    [GeneratedRegex(@"^\*?(Sent|Date|Enviado|Fecha|Envoyé|Gesendet|Datum|Data)\s?\*?:\s*\S", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OutlookSent();

    [GeneratedRegex(@"^(Sent from my |Get Outlook for |Enviado desde mi |Envoyé de mon |Von meinem .{1,40} gesendet|Enviado do meu |Enviado de meu )", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SentFromDevice();

    // The HTML expressions run over text a sender writes (up to MaxCharsRead characters). A backtracking engine needs time
    // growing with the square of that on unclosed blocks ("<blockquote" 40,000 times with no end tag), so they use .NET's
    // non-backtracking engine, linear in the input (it has no backreferences: each invisible element has its own branch).
    private const RegexOptions Html = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking;

    [GeneratedRegex(@"<head\b[^>]*>[\s\S]*?</head\s*>|<style\b[^>]*>[\s\S]*?</style\s*>|<script\b[^>]*>[\s\S]*?</script\s*>|<title\b[^>]*>[\s\S]*?</title\s*>|<!--[\s\S]*?-->", Html)]
    private static partial Regex Invisible();

    [GeneratedRegex(@"<blockquote\b[\s\S]*</blockquote\s*>|<div[^>]+(class=""?[^"">]*gmail_quote|id=""?(divRplyFwdMsg|appendonsend))[\s\S]*$", Html)]
    private static partial Regex QuoteBlocks();

    [GeneratedRegex(@"<(br|/p|/div|/li|/tr|/h[1-6])\b[^>]*>", Html)]
    private static partial Regex LineBreakingTags();

    [GeneratedRegex(@"<[^>]*>", RegexOptions.NonBacktracking)]
    private static partial Regex Tags();

    [GeneratedRegex(@"[ \t]+", RegexOptions.NonBacktracking)]
    private static partial Regex Spaces();
}
