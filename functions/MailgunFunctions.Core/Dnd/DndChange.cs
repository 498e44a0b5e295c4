using System.Globalization;
using MailgunFunctions.Classification;
using MailgunFunctions.Events;

namespace MailgunFunctions.Dnd;

/// <summary>Who asked for a change.</summary>
public enum DndChangeSource
{
    /// <summary>"mailgun-event": an event Mailgun sent to the webhook.</summary>
    MailgunEvent,
    /// <summary>"operator": a person through the CLI (re-enable, admin override).</summary>
    Operator,
    /// <summary>"platform-link": the platform's own unsubscribe link.</summary>
    PlatformLink,
    /// <summary>"inbound-reply": a contact's reply forwarded by a Mailgun route (an unsubscribe request, a bounce report).</summary>
    InboundReply,
    /// <summary>"mailgun-suppression": an entry of Mailgun's bounce, complaint or unsubscribe list found by the nightly reconciliation.</summary>
    MailgunSuppression,
}

/// <summary>What a change does to the aggregate of an entry.</summary>
public enum DndChangeKind
{
    /// <summary>Spam complaint: locks.</summary>
    Complaint,
    /// <summary>Hard bounce, block or unsubscribe: permanent.</summary>
    PermanentCause,
    /// <summary>Soft bounce of one message: temporary, escalates when repeated over distinct messages.</summary>
    SoftBounce,
    /// <summary>Delivered: activity; ends an earlier temporary DND.</summary>
    Delivered,
    /// <summary>Opened: activity only.</summary>
    Opened,
    /// <summary>Clicked: activity only.</summary>
    Clicked,
    /// <summary>Any other event worth remembering as the last event (a sender-side failure, a failure with no effect).</summary>
    Activity,
    /// <summary>Operator re-enable: clears permanent and temporary causes up to its time; never a lock.</summary>
    Reenable,
    /// <summary>Audited admin override: clears everything up to its time, the lock included.</summary>
    AdminOverride,
    /// <summary>
    /// A bounce recorded but not applied: Mailgun's allowlist holds the address or its domain (<see cref="Allowlist.Exempt"/>).
    /// Written to the history only; the entry keeps no cause from it.
    /// </summary>
    Exempted,
}

/// <summary>
/// One input to an entry. Every change has a time and a stable identity <see cref="Key"/>, so applying it is a
/// join: order and repetition do not matter.
/// </summary>
public sealed record DndChange
{
    /// <summary>Longest message text kept in history (Table strings hold 32K characters; a bounce text is rarely over 1K).</summary>
    public const int MaxMessageLength = 1024;

    /// <summary>Longest explanation kept: the classifier's and the rules' own words, with the tags an unsubscribe names.</summary>
    public const int MaxExplanationLength = 4096;

    public required DndChangeSource Source { get; init; }
    public required DndChangeKind Kind { get; init; }

    /// <summary>When it happened: the event's own time (not when we heard of it), or the operator's clock. Whole milliseconds.</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>Stable identity (32 hex): for events a hash of type, id, timestamp and recipient, as Mailgun's id is unique only within a day.</summary>
    public required string Key { get; init; }

    public string? EventType { get; init; }
    public string? EventId { get; init; }
    public string? MessageId { get; init; }
    public BounceCategory? Category { get; init; }
    public int? Code { get; init; }
    public string? EnhancedCode { get; init; }
    public string? Message { get; init; }

    /// <summary>The rule that fired (classifier rule, or the operator action).</summary>
    public string Rule { get; init; } = "";
    public string Explanation { get; init; } = "";

    /// <summary>Who did it, for operator and platform changes.</summary>
    public string? Actor { get; init; }

    public string? ContactId { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public IReadOnlyDictionary<string, string> UserVariables { get; init; } = new Dictionary<string, string>();

    /// <summary>Whether the change is about DND (and so writes a history record); activity does not.</summary>
    public bool HasDndMeaning => Kind is DndChangeKind.Complaint or DndChangeKind.PermanentCause or DndChangeKind.SoftBounce
        or DndChangeKind.Reenable or DndChangeKind.AdminOverride or DndChangeKind.Exempted;

    /// <summary>The same change, recorded but not applied (<see cref="DndChangeKind.Exempted"/>); <paramref name="why"/> leads its explanation.</summary>
    public DndChange Exempted(string why) => this with { Kind = DndChangeKind.Exempted, Explanation = Cut(why + Explanation, MaxMessageLength) };

    /// <summary>
    /// The identity of a Mailgun event: its id alone repeats across days, so type, id, timestamp (ms) and the
    /// normalised recipient are hashed together.
    /// </summary>
    public static string EventKey(MailgunEvent e) => DndKeys.Hash(string.Join('\n',
        e.EventType, e.Id, e.Timestamp.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
        DndKeys.NormalizeAddress(e.Recipient ?? "")));

    /// <summary>
    /// The change an event makes, driven by the classifier's DND effect (so a policy that makes, say, a 552 permanent
    /// works without changes here). Null for events that are not worth a write (accepted, stored, list events).
    /// </summary>
    public static DndChange? FromEvent(MailgunEvent e, Classification.Classification classification, string contactIdVariable = "contactId")
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(classification);
        // Sender-side problems are never the contact's fault: whatever effect a rule names, they must not DND anyone.
        DndState effect = classification.Category == BounceCategory.SenderIssue ? DndState.None : classification.Effect;
        DndChangeKind? kind = effect switch
        {
            DndState.Locked => DndChangeKind.Complaint,
            DndState.Permanent => DndChangeKind.PermanentCause,
            DndState.Temporary => DndChangeKind.SoftBounce,
            _ => e.EventType switch
            {
                "delivered" => DndChangeKind.Delivered,
                "opened" => DndChangeKind.Opened,
                "clicked" => DndChangeKind.Clicked,
                "failed" or "rejected" or "complained" or "unsubscribed" => DndChangeKind.Activity,
                _ => null,
            },
        };
        if (kind is null)
        {
            return null;
        }

        string key = EventKey(e);
        string? message = e.DeliveryStatus?.Message ?? e.RejectDescription;
        if (message is { Length: > MaxMessageLength })
        {
            message = message[..MaxMessageLength];
        }

        return new DndChange
        {
            Source = DndChangeSource.MailgunEvent,
            Kind = kind.Value,
            At = Truncate(e.Timestamp),
            Key = key,
            EventType = e.EventType,
            EventId = e.Id,
            // Without a message id every event counts as its own message: better to escalate a little early than never.
            MessageId = e.MessageId is { Length: > 0 } m ? Cut(m, MaxMessageLength) : null,
            Category = classification.Category,
            Code = classification.Code ?? e.DeliveryStatus?.Code,
            EnhancedCode = classification.EnhancedCode ?? (e.DeliveryStatus?.EnhancedCode is { } enhanced ? Cut(enhanced, 32) : null),
            Message = message,
            Rule = classification.Rule,
            Explanation = Cut(classification.Category == BounceCategory.Unsubscribe && e.EventType == "unsubscribed"
                ? classification.Explanation + UnsubscribeScope.Note(e.Tags)
                : classification.Explanation, MaxExplanationLength),
            ContactId = e.UserVariables.TryGetValue(contactIdVariable, out string? contact) && contact.Length > 0 ? Cut(contact, MaxUserVariableLength) : null,
            Tags = e.Tags.Take(MaxTags).Select(t => Cut(t, MaxTagLength)).ToArray(),
            UserVariables = Bounded(e.UserVariables),
        };
    }

    /// <summary>Kept user-variables: a Table string property holds 32K characters, and variables are the sender's free-form data.</summary>
    public const int MaxUserVariables = 20;
    public const int MaxUserVariableLength = 500;
    public const int MaxTags = 10;
    public const int MaxTagLength = 128;
    private const int MaxVariablesJsonLength = 30_000;

    /// <summary>At most <see cref="MaxUserVariables"/> (by name), values cut to <see cref="MaxUserVariableLength"/>, the whole under a Table string's limit.</summary>
    internal static IReadOnlyDictionary<string, string> Bounded(IReadOnlyDictionary<string, string> variables)
    {
        var kept = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in variables.OrderBy(p => p.Key, StringComparer.Ordinal).Take(MaxUserVariables))
        {
            kept[Cut(key, 100)] = Cut(value, MaxUserVariableLength);
        }

        // Escaped control characters can still grow the JSON six-fold: drop variables (last by name first) until it fits.
        while (kept.Count > 0 && Newtonsoft.Json.JsonConvert.SerializeObject(kept).Length > MaxVariablesJsonLength)
        {
            kept.Remove(kept.Keys.Last());
        }

        return kept;
    }

    private static string Cut(string s, int length) => s.Length > length ? s[..length] : s;

    /// <summary>An operator re-enable (clears permanent and temporary DND caused before it).</summary>
    public static DndChange Reenable(DateTimeOffset at, string actor, string reason) => Operator(DndChangeKind.Reenable, at, actor, reason, "operator-reenable");

    /// <summary>An audited admin override (clears everything before it, a complaint lock included).</summary>
    public static DndChange AdminOverride(DateTimeOffset at, string actor, string reason) => Operator(DndChangeKind.AdminOverride, at, actor, reason, "admin-override");

    /// <summary>
    /// A DND an operator sets because the contact asked (by phone, by letter): permanent, with the contact's unsubscribe
    /// as its category, so sending again needs the same consent as after any unsubscribe.
    /// </summary>
    public static DndChange ManualBlock(DateTimeOffset at, string actor, string reason) =>
        Operator(DndChangeKind.PermanentCause, at, actor, reason, "manual-block") with { Category = BounceCategory.Unsubscribe };

    /// <summary>
    /// An unsubscribe through the platform's own link. <paramref name="reference"/> identifies the click (for
    /// example the link token) so a repeated click is one change.
    /// </summary>
    public static DndChange PlatformUnsubscribe(DateTimeOffset at, string reference, string? contactId = null) => new()
    {
        Source = DndChangeSource.PlatformLink,
        Kind = DndChangeKind.PermanentCause,
        At = Truncate(at),
        Key = DndKeys.Hash("platform-link\n" + reference + "\n" + Truncate(at).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)),
        Category = BounceCategory.Unsubscribe,
        Rule = "platform-unsubscribe",
        Explanation = "The contact unsubscribed through the platform's link.",
        Actor = "platform-link",
        ContactId = contactId,
    };

    /// <summary>
    /// A reply asking to be unsubscribed, or a delivery status notification reporting a permanent failure, that came
    /// through the inbound route. <paramref name="replyId"/> is the same on every redelivery of the reply, so
    /// reprocessing is one change.
    /// </summary>
    public static DndChange FromReply(DateTimeOffset at, string replyId, BounceCategory category, string rule, string explanation, string? code = null, string? message = null) => new()
    {
        Source = DndChangeSource.InboundReply,
        Kind = DndChangeKind.PermanentCause,
        At = Truncate(at),
        Key = DndKeys.Hash("inbound-reply\n" + rule + "\n" + replyId),
        Category = category,
        EnhancedCode = code,
        Message = message is { Length: > MaxMessageLength } ? message[..MaxMessageLength] : message,
        Rule = rule,
        Explanation = explanation,
        Actor = "inbound-reply",
    };

    /// <summary>
    /// The contact undid, on the platform's page, the unsubscribe their link set. A re-enable in the aggregate; callers
    /// check first that nothing but the platform link put the address in DND (see PlatformUnsubscribeService).
    /// </summary>
    public static DndChange PlatformResubscribe(DateTimeOffset at, string reference, string? contactId = null) =>
        Operator(DndChangeKind.Reenable, at, "platform-link", "The contact undid their unsubscribe on the platform's page (" + reference + ").", "platform-resubscribe") with
        {
            Source = DndChangeSource.PlatformLink,
            ContactId = contactId,
        };

    /// <summary>
    /// An entry of one of Mailgun's suppression lists (bounces: permanent hard bounce with Mailgun's code and error;
    /// complaints: locked; unsubscribes: permanent unsubscribe). The key hashes list, address and Mailgun's own
    /// <c>created_at</c> text, so every nightly reconciliation of the same entry is the same change (one history record);
    /// <paramref name="at"/> is that <c>created_at</c> parsed (the caller picks a fixed fallback when it is unreadable).
    /// </summary>
    public static DndChange FromMailgunSuppression(string list, string address, DateTimeOffset at, string? createdAt, string? code = null, string? error = null,
        IReadOnlyList<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(list);
        ArgumentNullException.ThrowIfNull(address);
        var (kind, category) = list switch
        {
            "bounces" => (DndChangeKind.PermanentCause, BounceCategory.HardBounce),
            "complaints" => (DndChangeKind.Complaint, BounceCategory.Complaint),
            "unsubscribes" => (DndChangeKind.PermanentCause, BounceCategory.Unsubscribe),
            _ => throw new ArgumentOutOfRangeException(nameof(list), list, "Only bounces, complaints and unsubscribes suppress; the allowlist never DNDs."),
        };
        return new DndChange
        {
            Source = DndChangeSource.MailgunSuppression,
            Kind = kind,
            At = Truncate(at),
            Key = DndKeys.Hash(string.Join('\n', "mailgun-suppression", list, DndKeys.NormalizeAddress(address), createdAt ?? "")),
            Category = category,
            // Mailgun's bounce code is text ("550", sometimes "5.1.1" or empty): only a plain SMTP number fits the Code column.
            Code = int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out int smtp) && smtp is >= 200 and <= 599 ? smtp : null,
            EnhancedCode = code is { Length: > 0 } c && !int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? Cut(c, 32) : null,
            Message = error is { Length: > MaxMessageLength } ? error[..MaxMessageLength] : error,
            Rule = "mailgun-suppression-" + list,
            Explanation = $"Mailgun lists the address on its {list} suppression list (reconciliation of the nightly export)." + UnsubscribeScope.Note(tags ?? []),
            Actor = "mailgun-suppression",
        };
    }

    private static DndChange Operator(DndChangeKind kind, DateTimeOffset at, string actor, string reason, string rule)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        var time = Truncate(at);
        return new DndChange
        {
            Source = DndChangeSource.Operator,
            Kind = kind,
            At = time,
            Key = DndKeys.Hash(string.Join('\n', rule, actor, time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), reason)),
            Rule = rule,
            Explanation = Cut(reason, MaxMessageLength),
            Actor = Cut(actor, 256),
        };
    }

    /// <summary>Whole milliseconds in UTC: what survives a Table Storage round trip and Mailgun's timestamps carry.</summary>
    internal static DateTimeOffset Truncate(DateTimeOffset t) => DateTimeOffset.FromUnixTimeMilliseconds(t.ToUnixTimeMilliseconds());
}
