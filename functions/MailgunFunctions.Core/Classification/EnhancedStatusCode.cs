using System.Text.RegularExpressions;

namespace MailgunFunctions.Classification;

/// <summary>An RFC 3463 enhanced status code <c>class.subject.detail</c> of a failure (class 4 or 5).</summary>
internal readonly partial record struct EnhancedStatusCode(int Class, int Subject, int Detail)
{
    public bool IsPermanent => Class == 5;

    public override string ToString() => $"{Class}.{Subject}.{Detail}";

    /// <summary>Reads a field that holds only a code, like <c>enhanced-code</c> "5.1.1" (surrounding blanks allowed).</summary>
    public static bool TryParse(string? text, out EnhancedStatusCode code)
    {
        code = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var match = EnhancedCodePattern().Match(text);
        if (!match.Success || text.AsSpan().Trim().Length != match.Length)
        {
            return false;
        }

        return TryRead(text.AsSpan(match.Index, match.Length), out code);
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

    private static bool TryRead(ReadOnlySpan<char> s, out EnhancedStatusCode code)
    {
        code = default;
        int first = s.IndexOf('.');
        int second = s[(first + 1)..].IndexOf('.') + first + 1;
        if (first != 1 || second <= first
            || !int.TryParse(s[..first], out int cls)
            || !int.TryParse(s[(first + 1)..second], out int subject)
            || !int.TryParse(s[(second + 1)..], out int detail)
            || (cls != 4 && cls != 5))
        {
            // Class 2 (success) says nothing about a failure.
            return false;
        }

        code = new EnhancedStatusCode(cls, subject, detail);
        return true;
    }

    // Stricter than \b[245]\.\d{1,3}\.\d{1,3}\b: the look-arounds keep "2.3.4" out of an IP address like
    // "[1.2.3.4]", which providers quote in the same answers ("550 5.7.1 ... from [1.2.3.4] ...").
    [GeneratedRegex(@"(?<![\w.])[245]\.[0-9]{1,3}\.[0-9]{1,3}(?!\.?[0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex EnhancedCodePattern();
}
