namespace MailgunFunctions.Dnd;

/// <summary>
/// The one rule for Mailgun unsubscribes that name tags: an entry of Mailgun's unsubscribes list with tags other than
/// <c>*</c> (the contact used a per-tag unsubscribe link), or an <c>unsubscribed</c> event whose message carried tags.
/// <b>Every unsubscribe is a permanent DND of the address, whatever its tags</b>: the DND is per address (the platform has
/// no per-tag DND), an unsubscribe is the contact's own wish and honouring it too widely is the safe side, the event
/// does not even say whether the click was per tag, and Mailgun itself drops the next send to those tags as
/// <c>suppress-unsubscribe</c> (606), which the classifier already makes a permanent DND. The tags go into the history, so a
/// person can see that the contact asked less and re-enable the address if the platform learns otherwise.
/// Used by the events pipeline (<see cref="DndChange.FromEvent"/>) and the nightly reconciliation
/// (<see cref="DndChange.FromMailgunSuppression"/>).
/// </summary>
public static class UnsubscribeScope
{
    /// <summary>The tags that limit an unsubscribe at Mailgun: every tag but <c>*</c> (all mail), once each.</summary>
    public static IReadOnlyList<string> LimitingTags(IEnumerable<string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        // Tags are the sender's free text: as many and as long as the history keeps of them elsewhere.
        return tags.Where(t => t.Length > 0 && t != "*").Select(t => t.Length > DndChange.MaxTagLength ? t[..DndChange.MaxTagLength] : t)
            .Distinct(StringComparer.Ordinal).Take(DndChange.MaxTags).ToList();
    }

    public static bool IsTagScoped(IEnumerable<string> tags) => LimitingTags(tags).Count > 0;

    /// <summary>The sentence the history's explanation gets for an unsubscribe naming <paramref name="tags"/>; empty when it names none.</summary>
    public static string Note(IEnumerable<string> tags) => LimitingTags(tags) is { Count: > 0 } limiting
        ? $" Mailgun names the tags {string.Join(", ", limiting)} for it: an unsubscribe stops all mail here, whatever its tags (the DND is per address)."
        : "";
}
