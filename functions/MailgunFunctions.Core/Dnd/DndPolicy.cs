namespace MailgunFunctions.Dnd;

/// <summary>The visible DND of an entry at a given time, and why.</summary>
/// <param name="State">None, Temporary, Permanent or Locked.</param>
/// <param name="Since">When the cause that decides the state happened.</param>
/// <param name="Until">End of a temporary DND (a later delivery ends it earlier); null otherwise.</param>
/// <param name="Reason">The rule behind the state, e.g. "complaint", a classifier rule, "soft-bounce-escalation".</param>
public sealed record DndStatus(DndState State, DateTimeOffset? Since, DateTimeOffset? Until, string Reason)
{
    public static readonly DndStatus None = new(DndState.None, null, null, "none");
}

/// <summary>
/// The DND policy: a pure function of an entry's aggregate, the clock and the options. Precedence
/// locked &gt; permanent &gt; temporary &gt; none.
/// </summary>
public static class DndPolicy
{
    public const string ComplaintReason = "complaint";
    public const string EscalationReason = "soft-bounce-escalation";
    public const string SoftBounceReason = "soft-bounce";

    /// <summary>
    /// Whether the contact's own unsubscribe (Mailgun's list or event, the platform's link, a reply asking for it) is what
    /// keeps the address in DND now: sending again then needs the contact's consent, as a complaint does.
    /// </summary>
    public static bool IsUnsubscribed(DndEntry? entry, DndStatus status) =>
        status.State == DndState.Permanent && entry?.LatestPermanentCause is { } cause && cause.At == status.Since && cause.Label == status.Reason
        && cause.Detail == DndNames.Of(Classification.BounceCategory.Unsubscribe);

    public static DndStatus Evaluate(DndEntry entry, DateTimeOffset now, DndOptions options)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(options);

        // Locked: a complaint later than the latest admin override. Nothing else clears it.
        DateTimeOffset? overrideAt = entry.LastOverride?.At;
        if (entry.LatestComplaintAt is { } complained && !(overrideAt >= complained))
        {
            DateTimeOffset since = overrideAt is null ? entry.FirstComplaintAt ?? complained : complained;
            return new DndStatus(DndState.Locked, since, null, ComplaintReason);
        }

        // An operator re-enable (or an override, which is stronger) clears every cause that happened before it.
        DateTimeOffset? clearedAt = Later(entry.LastReenable?.At, overrideAt);

        if (entry.LatestPermanentCause is { } cause && !(clearedAt >= cause.At))
        {
            return new DndStatus(DndState.Permanent, cause.At, null, cause.Label);
        }

        var softBounces = entry.SoftBounces.Where(s => !(clearedAt >= s.At)).Select(s => s.At).Order().ToArray();
        if (EscalatedAt(softBounces, options) is { } escalated)
        {
            return new DndStatus(DndState.Permanent, escalated, null, EscalationReason);
        }

        if (softBounces.Length > 0)
        {
            DateTimeOffset latest = softBounces[^1];
            DateTimeOffset until = latest + options.TemporaryDuration;
            // A delivery after the latest soft bounce proves the mailbox takes mail again.
            if (!(entry.LastDeliveredAt >= latest) && now < until)
            {
                return new DndStatus(DndState.Temporary, latest, until, SoftBounceReason);
            }
        }

        return DndStatus.None;
    }

    /// <summary>
    /// The first time <see cref="DndOptions.SoftBounceEscalationCount"/> distinct messages soft-bounced within
    /// <see cref="DndOptions.SoftBounceEscalationWindow"/> (times ascending, one per message), or null.
    /// </summary>
    internal static DateTimeOffset? EscalatedAt(IReadOnlyList<DateTimeOffset> ascending, DndOptions options)
    {
        int n = options.SoftBounceEscalationCount;
        for (int i = 0; i + n - 1 < ascending.Count; i++)
        {
            if (ascending[i + n - 1] - ascending[i] <= options.SoftBounceEscalationWindow)
            {
                return ascending[i + n - 1];
            }
        }

        return null;
    }

    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a >= b ? a : b;
}
