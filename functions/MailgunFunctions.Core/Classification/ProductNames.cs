namespace MailgunFunctions.Classification;

/// <summary>
/// The kebab-case names of categories and signals (DND states: DndEffects) used by the CLI, JSON output and the docs:
/// the one place where they are spelled.
/// </summary>
public static class ProductNames
{
    public static string ToProductName(this BounceCategory category) => category switch
    {
        BounceCategory.NoEffect => "no-effect",
        BounceCategory.HardBounce => "hard-bounce",
        BounceCategory.SoftBounce => "soft-bounce",
        BounceCategory.Blocked => "blocked",
        BounceCategory.SenderIssue => "sender-issue",
        BounceCategory.Complaint => "complaint",
        BounceCategory.Unsubscribe => "unsubscribe",
        _ => throw new ArgumentOutOfRangeException(nameof(category), category, "Unknown bounce category."),
    };

    public static string ToProductName(this ClassificationSignal signal) => signal switch
    {
        ClassificationSignal.None => "none",
        ClassificationSignal.EventType => "event-type",
        ClassificationSignal.MailgunCode => "mailgun-code",
        ClassificationSignal.Reason => "reason",
        ClassificationSignal.CarrierCode => "carrier-code",
        ClassificationSignal.EnhancedCode => "enhanced-code",
        ClassificationSignal.SmtpCode => "smtp-code",
        ClassificationSignal.Words => "words",
        ClassificationSignal.Severity => "severity",
        ClassificationSignal.BounceType => "bounce-type",
        _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "Unknown signal."),
    };

    /// <summary>Reads a category name as the CLI accepts it (kebab-case, case-insensitive).</summary>
    public static bool TryParseCategory(string? name, out BounceCategory category) => TryParse(name, ToProductName, out category);

    /// <summary>Reads a name of <typeparamref name="T"/> by the names <paramref name="nameOf"/> gives (case-insensitive, trimmed).</summary>
    public static bool TryParse<T>(string? name, Func<T, string> nameOf, out T value)
        where T : struct, Enum
    {
        foreach (T candidate in Enum.GetValues<T>())
        {
            if (string.Equals(nameOf(candidate), name?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                value = candidate;
                return true;
            }
        }

        value = default;
        return false;
    }
}
