using System.Text.RegularExpressions;

namespace MailgunFunctions.Classification;

/// <summary>An RFC 3463 enhanced status code <c>class.subject.detail</c> of a failure (class 4 or 5).</summary>
internal readonly partial record struct EnhancedStatusCode(int Class, int Subject, int Detail)
{
    public bool IsPermanent => Class == 5;

    public override string ToString() => $"{Class}.{Subject}.{Detail}";

    /// <summary>
    /// <see cref="ToString"/>, kept per code for the codes servers use (subject under 8, detail under 1000): the
    /// classifier names the code of nearly every failure, and one string per code is enough.
    /// </summary>
    public string Text
    {
        get
        {
            if (Class is not (4 or 5) || Subject >= 8 || Detail >= 1000)
            {
                return ToString();
            }

            int index = ((Class - 4) * 8 + Subject) * 1000 + Detail;
            return Texts[index] ??= ToString();
        }
    }

    private static readonly string?[] Texts = new string?[2 * 8 * 1000];

    /// <summary>Reads a field that holds only a code, like <c>enhanced-code</c> "5.1.1" (surrounding blanks allowed).</summary>
    public static bool TryParse(string? text, out EnhancedStatusCode code)
    {
        code = default;
        return text is not null && TryRead(text.AsSpan().Trim(), out code);
    }

    /// <summary>The first class 4 or 5 code written in a server's answer, e.g. "550-5.7.1 [1.2.3.4] Our system...".</summary>
    public static bool TryFind(ReadOnlySpan<char> text, out EnhancedStatusCode code)
    {
        foreach (var m in EnhancedCodePattern().EnumerateMatches(text))
        {
            if (TryRead(text.Slice(m.Index, m.Length), out code))
            {
                return true;
            }
        }

        code = default;
        return false;
    }

    /// <summary>Exactly <c>class.subject.detail</c>: class 4 or 5 (class 2, success, says nothing about a failure), 1 to 3 digits each.</summary>
    private static bool TryRead(ReadOnlySpan<char> s, out EnhancedStatusCode code)
    {
        code = default;
        if (s.Length < 5 || s[0] is not ('4' or '5') || s[1] != '.')
        {
            return false;
        }

        var rest = s[2..];
        int dot = rest.IndexOf('.');
        if (!TryDigits(dot < 0 ? default : rest[..dot], out int subject) || !TryDigits(rest[(dot + 1)..], out int detail))
        {
            return false;
        }

        code = new EnhancedStatusCode(s[0] - '0', subject, detail);
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<char> s, out int value)
    {
        value = 0;
        if (s.Length is < 1 or > 3)
        {
            return false;
        }

        foreach (char c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }

    // Stricter than \b[245]\.\d{1,3}\.\d{1,3}\b: the look-arounds keep "2.3.4" out of an IP address like
    // "[1.2.3.4]", which providers quote in the same answers ("550 5.7.1 ... from [1.2.3.4] ...").
    [GeneratedRegex(@"(?<![\w.])[245]\.[0-9]{1,3}\.[0-9]{1,3}(?!\.?[0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex EnhancedCodePattern();
}
