using System.Text.RegularExpressions;

namespace MailgunFunctions.Inbound;

/// <summary>
/// Whether Mailgun authenticated a reply for the domain of its From address, from the verdicts its spam filter adds to
/// routed messages when the domain's spam filter is set to "mark spam with MIME headers": <c>X-Mailgun-Dkim-Check-Result</c>
/// (Pass / Fail) and <c>X-Mailgun-Spf</c> (Pass / Neutral / Fail / SoftFail). A sender can add headers of the same names to
/// its own message, so a verdict counts as a pass only when every copy of the header says Pass, and a missing verdict is no
/// pass. A pass must also be for the From domain (alignment, as DMARC asks):
/// <list type="bullet">
/// <item>DKIM: every <c>DKIM-Signature</c> of the message is by the From domain or a parent of it (Mailgun's verdict does
/// not say which signature passed, so a message also signed by another domain is not counted);</item>
/// <item>SPF: it checks the envelope sender (the <c>sender</c> field, SMTP MAIL FROM), so every posted <c>sender</c> value
/// must be in the From domain or a parent of it.</item>
/// </list>
/// A parent domain controls its subdomains; the other direction is not counted, because subdomains are sometimes handed to
/// other people.
/// </summary>
public static partial class SenderAuthentication
{
    public const string Dkim = "dkim";
    public const string Spf = "spf";

    /// <summary>The headers <see cref="VerifiedBy"/> reads.</summary>
    public static readonly IReadOnlyList<string> HeadersRead = ["X-Mailgun-Dkim-Check-Result", "X-Mailgun-Spf", "DKIM-Signature"];

    /// <summary>"dkim" or "spf" when Mailgun's verdict passed for the From domain, else null.</summary>
    /// <param name="headers">Every value of a header, by name (case-insensitive).</param>
    public static string? VerifiedBy(Func<string, IReadOnlyList<string>> headers, string? fromAddress, IReadOnlyList<string> envelopeSenders)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(envelopeSenders);
        if (ReplyAddress.DomainOf(fromAddress) is not { } fromDomain)
        {
            return null;
        }

        var signatures = headers("DKIM-Signature");
        if (AllPass(headers("X-Mailgun-Dkim-Check-Result")) && signatures.Count > 0
            && signatures.All(s => SigningDomain().Match(s) is { Success: true } d && Covers(d.Groups[1].Value, fromDomain)))
        {
            return Dkim;
        }

        if (AllPass(headers("X-Mailgun-Spf")) && envelopeSenders.Count > 0
            && envelopeSenders.All(s => ReplyAddress.DomainOf(s) is { } envelopeDomain && Covers(envelopeDomain, fromDomain)))
        {
            return Spf;
        }

        return null;
    }

    /// <summary>At least one verdict, and every one of them "Pass".</summary>
    private static bool AllPass(IReadOnlyList<string> verdicts) =>
        verdicts.Count > 0 && verdicts.All(v => v.Trim().Equals("pass", StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether <paramref name="authenticated"/> is <paramref name="fromDomain"/> or a parent domain of it.</summary>
    private static bool Covers(string authenticated, string fromDomain)
    {
        string a = authenticated.Trim().TrimEnd('.').ToLowerInvariant();
        return a.Contains('.', StringComparison.Ordinal)
            && (fromDomain == a || fromDomain.EndsWith("." + a, StringComparison.Ordinal));
    }

    /// <summary>The <c>d=</c> tag of a DKIM-Signature header (RFC 6376: tag=value pairs separated by ';', folding white space allowed).</summary>
    [GeneratedRegex(@"(?:^|;)\s*d\s*=\s*([^;\s]+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SigningDomain();
}
