namespace MailgunFunctions.Testing;

/// <summary>What the fuzz tests share to report a case.</summary>
public static class Fuzz
{
    /// <summary>An input cut for a failure message: its start and end, and its length.</summary>
    public static string Shorten(string text) => text.Length <= 4000 ? text : text[..2000] + $"…({text.Length} chars)…" + text[^1000..];
}
