using System.Text.RegularExpressions;

namespace MailgunFunctions.Inbound;

/// <summary>
/// Tells automatic replies (out of office, vacation, auto-responders) from human ones. Headers first, as RFC 3834
/// asks responders to mark themselves (Auto-Submitted) and common responders add X-Autoreply / X-Autorespond /
/// Precedence; then the subject and opening wording in English, Spanish, French, German and Portuguese, for
/// responders that mark nothing.
/// </summary>
public static partial class AutoReplyDetector
{
    /// <summary>The headers <see cref="Detect"/> reads.</summary>
    public static readonly IReadOnlyList<string> HeadersRead = ["Auto-Submitted", "X-Autoreply", "X-Autorespond", "X-Autoresponder", "Precedence"];

    /// <summary>The opening read for wording: a few lines, at most this many characters (the wording is short; a line can be MBs).</summary>
    private const int MaxOpeningChars = 4096;

    /// <summary>Why the reply is automatic ("header Auto-Submitted: auto-replied", "subject", "wording"), or null for a human reply.</summary>
    public static string? Detect(Func<string, string?> header, string? subject, string newText)
    {
        // RFC 3834: any value but "no" means machine-generated.
        if (header("Auto-Submitted") is { } autoSubmitted && !FirstToken(autoSubmitted).Equals("no", StringComparison.OrdinalIgnoreCase))
        {
            return $"header Auto-Submitted: {Short(autoSubmitted)}";
        }

        foreach (string name in new[] { "X-Autoreply", "X-Autorespond", "X-Autoresponder" })
        {
            if (header(name) is { } value && !value.Trim().Equals("no", StringComparison.OrdinalIgnoreCase))
            {
                return $"header {name}: {Short(value)}";
            }
        }

        if (header("Precedence") is { } precedence && precedence.Trim().ToLowerInvariant() is "auto_reply" or "bulk" or "junk")
        {
            return $"header Precedence: {Short(precedence)}";
        }

        if (!string.IsNullOrWhiteSpace(subject) && AutoSubject().IsMatch(subject))
        {
            return "subject";
        }

        string opening = string.Join(' ', newText.Split('\n').Where(l => l.Trim().Length > 0).Take(6));
        opening = opening.Length > MaxOpeningChars ? opening[..MaxOpeningChars] : opening;
        return OutOfOfficeWording().IsMatch(opening) ? "wording" : null;
    }

    /// <summary>The keyword of a structured header value, without parameters (";") or RFC 5322 comments ("(...)").</summary>
    private static string FirstToken(string value) =>
        new(value.TrimStart().TakeWhile(c => char.IsLetterOrDigit(c) || c == '-' || c == '_').ToArray());

    private static string Short(string value) => value.Trim() is { Length: > 40 } v ? v[..40] : value.Trim();

    [GeneratedRegex(@"^\s*((re|aw|rv|r|sv|wg|tr)\s*:\s*)?(out of (the )?office|automatic reply|auto(matic)?[- ]?reply|autoreply|auto:|respuesta autom[aá]tica|fuera de la oficina|r[ée]ponse automatique|absence du bureau|absent du bureau|abwesenheitsnotiz|automatische antwort|abwesend|resposta autom[aá]tica|aus[eê]ncia tempor[aá]ria|fora do escrit[oó]rio)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AutoSubject();

    [GeneratedRegex(@"\b(i am|i'm|i will be|i'll be) (currently |now )?(out of (the )?office|away from (the )?office|on (annual |parental |sick )?leave|on vacation|on holiday)|\b(estoy|estar[eé]) (fuera de la oficina|de vacaciones|ausente)|\bje (suis|serai) (actuellement )?(absente?|en cong[ée]s?|en vacances)|\bich bin (derzeit |zurzeit |bis .{1,30} )?(nicht im b[üu]ro|abwesend|im urlaub)|\b(estou|estarei) (fora do escrit[oó]rio|ausente|de f[ée]rias)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OutOfOfficeWording();
}
