namespace MailgunFunctions.Dnd;

/// <summary>
/// A timestamped fact kept by "latest wins": the larger (<see cref="At"/>, <see cref="Key"/>) wins, so the key
/// breaks ties between two facts of the same millisecond the same way whatever the order they arrive in.
/// </summary>
/// <param name="Label">What it is: the rule that fired, the event type, the operator action.</param>
/// <param name="Detail">More about it: the category, the event id, the operator's reason.</param>
/// <param name="Actor">Who: the operator or the platform, for changes not from Mailgun.</param>
public sealed record DndMark(DateTimeOffset At, string Key, string Label, string? Detail = null, string? Actor = null)
{
    internal static DndMark? Latest(DndMark? a, DndMark? b) =>
        a is null ? b
        : b is null ? a
        : Compare(a, b) >= 0 ? a : b;

    private static int Compare(DndMark a, DndMark b)
    {
        int c = a.At.CompareTo(b.At);
        c = c != 0 ? c : string.CompareOrdinal(a.Key, b.Key);
        // Same identity should mean same content; if it ever does not, the content decides, so the order still does not.
        c = c != 0 ? c : string.CompareOrdinal(a.Label, b.Label);
        c = c != 0 ? c : string.CompareOrdinal(a.Detail, b.Detail);
        return c != 0 ? c : string.CompareOrdinal(a.Actor, b.Actor);
    }
}

/// <summary>One soft-bounced message: Mailgun's retries of it are folded into its latest attempt.</summary>
public sealed record SoftBounce(string MessageId, DateTimeOffset At);

/// <summary>What the platform needs to act on a contact, from the latest event that carried it.</summary>
public sealed record MessageContext(DateTimeOffset At, string Key, string? MessageId, string? ContactId, IReadOnlyList<string> Tags, IReadOnlyDictionary<string, string> UserVariables)
{
    public bool Equals(MessageContext? other) =>
        other is not null && At == other.At && Key == other.Key && MessageId == other.MessageId && ContactId == other.ContactId
        && Tags.SequenceEqual(other.Tags)
        && UserVariables.Count == other.UserVariables.Count
        && UserVariables.All(p => other.UserVariables.TryGetValue(p.Key, out string? v) && v == p.Value);

    public override int GetHashCode() => HashCode.Combine(At, Key, MessageId, ContactId, Tags.Count, UserVariables.Count);
}

/// <summary>
/// The DND aggregate of one (tenant, address). It stores only facts that merge by max, min or set union, so
/// applying the same set of changes in any order, any number of times, gives the same entry; the visible state
/// is computed from it by <see cref="DndPolicy.Evaluate"/>, never stored as the source of truth.
/// </summary>
public sealed record DndEntry
{
    /// <summary>
    /// Soft-bounced messages an entry keeps: the most recent ones (by their latest attempt). Keeping the top N of a
    /// total order is itself order-independent; 32 is well above any sensible escalation count, and a permanent DND
    /// stops further sends, so older soft bounces are not needed.
    /// </summary>
    public const int SoftBounceCapacity = 32;

    /// <summary>The Mailgun sending domain (normalised).</summary>
    public required string Tenant { get; init; }

    /// <summary>The contact address (normalised: trimmed, lower-case).</summary>
    public required string Address { get; init; }

    /// <summary>Earliest spam complaint (min).</summary>
    public DateTimeOffset? FirstComplaintAt { get; init; }

    /// <summary>Latest spam complaint (max): locks unless an admin override is later.</summary>
    public DateTimeOffset? LatestComplaintAt { get; init; }

    /// <summary>Latest permanent cause (hard bounce, block, unsubscribe): label = rule, detail = category.</summary>
    public DndMark? LatestPermanentCause { get; init; }

    /// <summary>Most recent soft-bounced messages, newest first, at most <see cref="SoftBounceCapacity"/>.</summary>
    public IReadOnlyList<SoftBounce> SoftBounces { get; init; } = [];

    public DateTimeOffset? LastDeliveredAt { get; init; }
    public DateTimeOffset? LastOpenedAt { get; init; }
    public DateTimeOffset? LastClickedAt { get; init; }

    /// <summary>Latest operator re-enable: label = action, detail = reason, actor = operator.</summary>
    public DndMark? LastReenable { get; init; }

    /// <summary>Latest admin override (the only thing that clears a complaint lock).</summary>
    public DndMark? LastOverride { get; init; }

    /// <summary>Latest Mailgun event seen for the address: label = event type, detail = event id.</summary>
    public DndMark? LastEvent { get; init; }

    /// <summary>Contact id, user-variables, message id and tags from the latest event that carried any.</summary>
    public MessageContext? Context { get; init; }

    /// <summary>Latest soft bounce (the newest kept one is always the latest: it is never evicted).</summary>
    public DateTimeOffset? LatestSoftBounceAt => SoftBounces.Count > 0 ? SoftBounces[0].At : null;

    public static DndEntry Empty(string tenant, string address) => new()
    {
        Tenant = DndKeys.NormalizeTenant(tenant),
        Address = DndKeys.NormalizeAddress(address),
    };

    /// <summary>The join of this entry with one change: commutative, associative and idempotent.</summary>
    public DndEntry Apply(DndChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var entry = this;
        switch (change.Kind)
        {
            case DndChangeKind.Complaint:
                entry = entry with { FirstComplaintAt = Min(FirstComplaintAt, change.At), LatestComplaintAt = Max(LatestComplaintAt, change.At) };
                break;
            case DndChangeKind.PermanentCause:
                entry = entry with { LatestPermanentCause = DndMark.Latest(LatestPermanentCause, new DndMark(change.At, change.Key, change.Rule, change.Category is { } category ? DndNames.Of(category) : null, change.Actor)) };
                break;
            case DndChangeKind.SoftBounce:
                entry = entry with { SoftBounces = AddSoftBounce(SoftBounces, new SoftBounce(SoftBounceId(change), change.At)) };
                break;
            case DndChangeKind.Delivered:
                entry = entry with { LastDeliveredAt = Max(LastDeliveredAt, change.At) };
                break;
            case DndChangeKind.Opened:
                entry = entry with { LastOpenedAt = Max(LastOpenedAt, change.At) };
                break;
            case DndChangeKind.Clicked:
                entry = entry with { LastClickedAt = Max(LastClickedAt, change.At) };
                break;
            case DndChangeKind.Reenable:
                entry = entry with { LastReenable = DndMark.Latest(LastReenable, new DndMark(change.At, change.Key, change.Rule, change.Explanation, change.Actor)) };
                break;
            case DndChangeKind.AdminOverride:
                entry = entry with { LastOverride = DndMark.Latest(LastOverride, new DndMark(change.At, change.Key, change.Rule, change.Explanation, change.Actor)) };
                break;
        }

        if (change.Source == DndChangeSource.MailgunEvent)
        {
            entry = entry with { LastEvent = DndMark.Latest(entry.LastEvent, new DndMark(change.At, change.Key, change.EventType ?? "", change.EventId)) };
            if (change.MessageId is not null || change.ContactId is not null || change.UserVariables.Count > 0)
            {
                var context = new MessageContext(change.At, change.Key, change.MessageId, change.ContactId, change.Tags.ToArray(),
                    new SortedDictionary<string, string>(change.UserVariables.ToDictionary(), StringComparer.Ordinal));
                entry = entry with { Context = LatestContext(entry.Context, context) };
            }
        }

        return entry;
    }

    /// <summary>
    /// The join of two entries of one address (each field by the rule <see cref="Apply"/> uses): what an entry holding the
    /// changes of both would hold. Used to fold an erased address's kept suppression into a row written without it.
    /// </summary>
    public DndEntry Join(DndEntry other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return this with
        {
            FirstComplaintAt = other.FirstComplaintAt is { } first ? Min(FirstComplaintAt, first) : FirstComplaintAt,
            LatestComplaintAt = other.LatestComplaintAt is { } latest ? Max(LatestComplaintAt, latest) : LatestComplaintAt,
            LatestPermanentCause = DndMark.Latest(LatestPermanentCause, other.LatestPermanentCause),
            SoftBounces = other.SoftBounces.Aggregate(SoftBounces, AddSoftBounce),
            LastDeliveredAt = other.LastDeliveredAt is { } delivered ? Max(LastDeliveredAt, delivered) : LastDeliveredAt,
            LastOpenedAt = other.LastOpenedAt is { } opened ? Max(LastOpenedAt, opened) : LastOpenedAt,
            LastClickedAt = other.LastClickedAt is { } clicked ? Max(LastClickedAt, clicked) : LastClickedAt,
            LastReenable = DndMark.Latest(LastReenable, other.LastReenable),
            LastOverride = DndMark.Latest(LastOverride, other.LastOverride),
            LastEvent = DndMark.Latest(LastEvent, other.LastEvent),
            Context = other.Context is { } context ? LatestContext(Context, context) : Context,
        };
    }

    public bool Equals(DndEntry? other) =>
        other is not null
        && Tenant == other.Tenant && Address == other.Address
        && FirstComplaintAt == other.FirstComplaintAt && LatestComplaintAt == other.LatestComplaintAt
        && LatestPermanentCause == other.LatestPermanentCause
        && SoftBounces.SequenceEqual(other.SoftBounces)
        && LastDeliveredAt == other.LastDeliveredAt && LastOpenedAt == other.LastOpenedAt && LastClickedAt == other.LastClickedAt
        && LastReenable == other.LastReenable && LastOverride == other.LastOverride
        && LastEvent == other.LastEvent && Equals(Context, other.Context);

    public override int GetHashCode() => HashCode.Combine(Tenant, Address, LatestComplaintAt, LatestPermanentCause, SoftBounces.Count, LastEvent);

    /// <summary>Per message the latest attempt (max), then the newest <see cref="SoftBounceCapacity"/> by (time, message id).</summary>
    internal static IReadOnlyList<SoftBounce> AddSoftBounce(IReadOnlyList<SoftBounce> current, SoftBounce added)
    {
        var byMessage = current.ToDictionary(s => s.MessageId, StringComparer.Ordinal);
        if (byMessage.TryGetValue(added.MessageId, out var existing) && existing.At >= added.At)
        {
            return current;
        }

        byMessage[added.MessageId] = added;
        return byMessage.Values
            .OrderByDescending(s => s.At)
            .ThenBy(s => s.MessageId, StringComparer.Ordinal)
            .Take(SoftBounceCapacity)
            .ToArray();
    }

    /// <summary>
    /// The message a soft bounce belongs to. Long message ids are hashed so that 32 of them stay far below a Table
    /// string's 32K characters; without a message id the event counts as its own message.
    /// </summary>
    private static string SoftBounceId(DndChange change) =>
        change.MessageId is not { Length: > 0 } id ? "event:" + change.Key
        : id.Length > 128 ? "sha256:" + DndKeys.Hash(id)
        : id;

    private static MessageContext? LatestContext(MessageContext? a, MessageContext b)
    {
        if (a is null)
        {
            return b;
        }

        int c = a.At.CompareTo(b.At);
        c = c != 0 ? c : string.CompareOrdinal(a.Key, b.Key);
        c = c != 0 ? c : string.CompareOrdinal(a.MessageId, b.MessageId);
        c = c != 0 ? c : string.CompareOrdinal(a.ContactId, b.ContactId);
        c = c != 0 ? c : string.CompareOrdinal(string.Join('\n', a.Tags), string.Join('\n', b.Tags));
        c = c != 0 ? c : string.CompareOrdinal(Canonical(a.UserVariables), Canonical(b.UserVariables));
        return c >= 0 ? a : b;
    }

    private static string Canonical(IReadOnlyDictionary<string, string> values) =>
        string.Join('\n', values.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value));

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x >= b ? x : b;

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x <= b ? x : b;
}
