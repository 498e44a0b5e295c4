using System.Text;
using System.Text.RegularExpressions;

namespace MailgunFunctions.Inbound;

/// <summary>
/// Recognises "take me off your list" in a human reply, in English, Spanish, French, German and Portuguese.
/// Deliberately conservative, because a false positive silences a contact who wanted mail: only the first
/// lines of the new text count, only short sentences, and a sentence with a negation never counts
/// ("don't stop sending me offers", "no quiero darme de baja"). A bare word ("stop", "baja") counts only
/// when it is the whole sentence, as in SMS-style replies.
/// </summary>
public static partial class UnsubscribeIntent
{
    /// <summary>Lines of the new text that are read; people put the request first.</summary>
    public const int LinesRead = 5;

    /// <summary>Longer sentences are conversation, not a request.</summary>
    public const int MaxWords = 12;

    /// <summary>
    /// Characters of a line that are read: a request of twelve words fits many times over, and the expressions then never
    /// meet a line of megabytes (a sender can write one), whose separators some of them would try at every position.
    /// </summary>
    public const int MaxLineChars = 2000;

    /// <summary>Whole-sentence requests (after dropping courtesy words). Accents are folded before comparing.</summary>
    private static readonly HashSet<string> WholeSentences = new(StringComparer.Ordinal)
    {
        "stop", "unsubscribe", "unsubscribe me", "remove me", "remove", "opt out", "stop emails", "no more emails",
        "baja", "dar de baja", "darme de baja", "de baja", "alto", "cancelar suscripcion",
        "desabonner", "me desabonner", "desinscrire", "me desinscrire", "desinscription", "desabonnement", "arret", "stop svp",
        "abmelden", "austragen", "abbestellen", "stopp", "bitte abmelden", "bitte austragen",
        "descadastrar", "descadastrar-me", "descadastre-me", "cancelar inscricao", "cancelar a inscricao", "sair", "parar", "pare",
    };

    /// <summary>Phrases that state the request inside a short sentence. Accents are folded before matching.</summary>
    [GeneratedRegex(@"\b(unsubscribe|remove me|take me off|opt me out|stop (sending|emailing|mailing|contacting) me|" +
        @"darme de baja|darse de baja|dar de baja|dame de baja|denme de baja|eliminarme de|borrarme de|quitenme de|quitarme de|sacarme de|" +
        @"desabonner|desabonnez-moi|desinscrire|desinscrivez-moi|retirez-moi|" +
        @"abmelden|austragen|abbestellen|melden sie mich (bitte )?ab|tragen sie mich (bitte )?aus|nehmen sie mich (bitte )?(aus|von)|loschen sie mich|" +
        @"descadastrar|descadastre-me|cancelar (a |minha )?inscricao|remova-me|me remova|remover (meu|o meu) (e-?mail|endereco))\b",
        RegexOptions.CultureInvariant)]
    private static partial Regex RequestPhrase();

    [GeneratedRegex(@"\b(not|don't|dont|do not|never|no|nicht|kein|keine|keinen|nie|niemals|ne|pas|n'|jamais|nunca|nao|nem|ni)\b|n't\b", RegexOptions.CultureInvariant)]
    private static partial Regex Negation();

    [GeneratedRegex(@"\b(link|button|page|boton|enlace|lien|bouton|knopf|schaltflache|botao)\b", RegexOptions.CultureInvariant)]
    private static partial Regex AboutTheLink();

    [GeneratedRegex(@"^(please|pls|plz|por favor|porfavor|s'il vous plait|s'il te plait|svp|merci|bitte|danke|thanks|thank you|gracias|obrigado|obrigada|ok)\b[\s,]*|[\s,]*\b(please|pls|plz|por favor|s'il vous plait|svp|merci|bitte|danke|thanks|thank you|gracias|obrigado|obrigada)$", RegexOptions.CultureInvariant)]
    private static partial Regex Courtesy();

    [GeneratedRegex(@"(?<=[.!?;])\s+")]
    private static partial Regex SentenceEnd();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    /// <summary>The line that asks to unsubscribe, as written (trimmed), or null.</summary>
    public static string? Find(string newText)
    {
        if (string.IsNullOrWhiteSpace(newText))
        {
            return null;
        }

        foreach (string line in newText.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).Take(LinesRead).Select(l => l.Length > MaxLineChars ? l[..MaxLineChars] : l))
        {
            foreach (string sentence in SentenceEnd().Split(line))
            {
                if (Asks(sentence))
                {
                    return line.Length > 500 ? line[..500] : line;
                }
            }
        }

        return null;
    }

    private static bool Asks(string sentence)
    {
        string folded = Normalize(sentence);
        string core = folded;
        for (int i = 0; i < 3; i++)
        {
            core = Courtesy().Replace(core, "").Trim(' ', ',', '.', '!');
        }

        if (WholeSentences.Contains(core))
        {
            return true;
        }

        if (folded.Length == 0 || folded.Split(' ').Length > MaxWords || Negation().IsMatch(folded))
        {
            return false;
        }

        return RequestPhrase().IsMatch(folded) && !AboutTheLink().IsMatch(folded);
    }

    /// <summary>Lower case, accents folded (invariant globalization has no normalization tables to rely on), punctuation at the ends dropped.</summary>
    private static string Normalize(string sentence)
    {
        var builder = new StringBuilder(sentence.Length);
        foreach (char c in sentence.ToLowerInvariant())
        {
            builder.Append(c switch
            {
                'á' or 'à' or 'â' or 'ä' or 'ã' => 'a',
                'é' or 'è' or 'ê' or 'ë' => 'e',
                'í' or 'ì' or 'î' or 'ï' => 'i',
                'ó' or 'ò' or 'ô' or 'ö' or 'õ' => 'o',
                'ú' or 'ù' or 'û' or 'ü' => 'u',
                'ç' => 'c',
                'ñ' => 'n',
                '’' => '\'',
                _ => c,
            });
        }

        string text = builder.ToString().Replace("ß", "ss");
        return Spaces().Replace(text, " ").Trim().Trim('.', '!', '?', ';', ':', ',', '¡', '¿', '"', '\'', '*', '-', ' ');
    }
}
