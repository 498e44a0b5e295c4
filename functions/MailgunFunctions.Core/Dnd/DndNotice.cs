using System.Globalization;
using Newtonsoft.Json;
using Newtonsoft.Json.Serialization;

namespace MailgunFunctions.Dnd;

/// <summary>The DND state a notice reports: before or after the change.</summary>
/// <param name="State">none, temporary, permanent or locked.</param>
/// <param name="Locked">Whether a spam complaint locks the address (only an audited override clears it).</param>
/// <param name="Since">When the deciding cause happened.</param>
/// <param name="Until">End of a temporary DND.</param>
/// <param name="Reason">The rule behind the state (complaint, a classifier rule, soft-bounce, soft-bounce-escalation...), "none" when none.</param>
public sealed record DndNoticeState(string State, bool Locked, DateTimeOffset? Since, DateTimeOffset? Until, string Reason)
{
    public static DndNoticeState Of(DndStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return new(DndNames.Of(status.State), status.State == DndState.Locked, status.Since, status.Until, status.Reason);
    }
}

/// <summary>What happened.</summary>
/// <param name="Kind">complaint, permanent-cause, soft-bounce, delivered, reenable, admin-override, activity, expiry, erasure.</param>
/// <param name="Rule">The classifier rule or operator action that decided.</param>
/// <param name="Category">The classifier's category (hard-bounce, soft-bounce, blocked, complaint, unsubscribe...).</param>
/// <param name="Code">SMTP code (or carrier code), when the change came with one.</param>
/// <param name="EnhancedCode">Enhanced status code (RFC 3463), when the change came with one.</param>
/// <param name="Message">The bounce text, cut to 1024 characters.</param>
/// <param name="Explanation">Why, for people.</param>
public sealed record DndNoticeChange(string Kind, string? Rule, string? Category, int? Code, string? EnhancedCode, string? Message, string? Explanation);

/// <summary>Who caused it.</summary>
/// <param name="Type">webhook-event, inbound-reply, unsubscribe-link, cli, api, reconciliation, expiry, erasure.</param>
/// <param name="EventId">Mailgun's event id (webhook-event).</param>
/// <param name="EventType">Mailgun's event type (webhook-event).</param>
/// <param name="Operator">Who, for cli and api changes (as they named themselves).</param>
/// <param name="Note">Why, for cli, api and erasure changes (the operator's note).</param>
/// <param name="Reference">The change's own identity (a hash of the reply, link click, event...), stable across redeliveries.</param>
public sealed record DndNoticeSource(string Type, string? EventId = null, string? EventType = null, string? Operator = null, string? Note = null, string? Reference = null);

/// <summary>
/// One change of one address's DND, as the platform receives it: on the <c>dnd-changes</c> queue, in the signed POST,
/// and from <c>GET /api/dnd/{tenant}?changedSince=</c>. <see cref="Version"/> grows by one with every change of the
/// address (per tenant): a receiver keeps the highest version it applied and drops repeats and older ones. Every notice
/// carries the whole state after the change, so a receiver that only keeps the latest version loses nothing.
/// </summary>
public sealed record DndNotice
{
    public const string NoticeType = "dnd.changed";

    /// <summary>Longest bounce text or explanation a notice carries.</summary>
    public const int MaxTextLength = 1024;

    /// <summary>"dnd.changed".</summary>
    [JsonProperty(Order = -10)]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "An instance property so that the notice's JSON carries it.")]
    public string Type => NoticeType;

    /// <summary>Identity of the notice: the same on every redelivery (hash of tenant, address and version).</summary>
    [JsonProperty(Order = -9)]
    public required string Id { get; init; }

    public required string Tenant { get; init; }

    /// <summary>The address (normalised). Null only in the change log's record of an erasure.</summary>
    public string? Address { get; init; }

    /// <summary>SHA-256 (32 hex) of the normalised address: how an erasure is matched once the address is gone.</summary>
    public required string AddressHash { get; init; }

    /// <summary>The platform's contact id, when an event carried it (user-variable Dnd:ContactIdVariable).</summary>
    public string? ContactId { get; init; }

    /// <summary>Per (tenant, address): 1 for the first change, one more for each further one. Never reused.</summary>
    public required long Version { get; init; }

    public required DndNoticeState Previous { get; init; }

    public required DndNoticeState Current { get; init; }

    public required DndNoticeChange Change { get; init; }

    public required DndNoticeSource Source { get; init; }

    /// <summary>When the change happened (the event's own time, the operator's clock, the end of a temporary DND).</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>When it was recorded (its write to the entry).</summary>
    public required DateTimeOffset RecordedAt { get; init; }

    /// <summary>Camel case, explicit nulls, UTC times with milliseconds and a Z: the one JSON form of a notice everywhere.</summary>
    public static readonly JsonSerializerSettings Json = new()
    {
        ContractResolver = new CamelCasePropertyNamesContractResolver(),
        NullValueHandling = NullValueHandling.Include,
        DateParseHandling = DateParseHandling.DateTimeOffset,
        DateFormatString = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'",
        DateTimeZoneHandling = DateTimeZoneHandling.Utc,
        Culture = CultureInfo.InvariantCulture,
        Formatting = Formatting.None,
    };

    public string ToJson() => JsonConvert.SerializeObject(Utc(this), Json);

    public static DndNotice FromJson(string json) => Utc(JsonConvert.DeserializeObject<DndNotice>(json, Json) ?? throw new JsonException("not a DND notice"));

    /// <summary>The hash of an address in notices and change-log keys.</summary>
    public static string HashOf(string address) => DndKeys.Hash(DndKeys.NormalizeAddress(address));

    public static string IdOf(string tenant, string addressHash, long version) =>
        DndKeys.Hash(string.Join('\n', DndKeys.NormalizeTenant(tenant), addressHash, version.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The notice of a change from <see cref="DndChange"/> (its source, rule and codes).</summary>
    public static DndNotice For(DndChange change, string tenant, string address, string? contactId, long version, DndStatus previous, DndStatus current, DateTimeOffset recordedAt)
    {
        ArgumentNullException.ThrowIfNull(change);
        return Build(tenant, address, contactId, version, previous, current, recordedAt, change.At,
            new DndNoticeChange(DndNames.Of(change.Kind), NullIfEmpty(change.Rule), change.Category is { } category ? DndNames.Of(category) : null,
                change.Code, change.EnhancedCode, Cut(change.Message), Cut(NullIfEmpty(change.Explanation))),
            SourceOf(change));
    }

    /// <summary>A temporary DND that ended because its time passed (announced by the expiry timer, or by the next write that finds it over).</summary>
    public static DndNotice Expiry(string tenant, string address, string? contactId, long version, DndStatus previous, DndStatus current, DateTimeOffset recordedAt) =>
        Build(tenant, address, contactId, version, previous, current, recordedAt, previous.Until is { } until && until <= recordedAt ? until : recordedAt,
            new DndNoticeChange("expiry", "temporary-dnd-expired", null, null, null, null, "The temporary DND ended: its time passed without a further soft bounce."),
            new DndNoticeSource("expiry"));

    /// <summary>An erasure on request: the address's personal data is gone, its DND state stays (kept under a hash).</summary>
    public static DndNotice Erasure(string tenant, string address, string? contactId, long version, DndStatus previous, DndStatus current, DateTimeOffset recordedAt, string erasureId, string note) =>
        Build(tenant, address, contactId, version, previous, current, recordedAt, recordedAt,
            new DndNoticeChange("erasure", "erasure-on-request", null, null, null, null,
                "The address's personal data was erased on request; its DND state is kept under a hash so it stays suppressed. Erase it on the platform too."),
            new DndNoticeSource("erasure", Note: Cut(note), Reference: erasureId));

    /// <summary>The same notice without the address and contact id: what the change log keeps of an erasure.</summary>
    public DndNotice Redacted() => this with { Address = null, ContactId = null };

    private static DndNotice Build(string tenant, string address, string? contactId, long version, DndStatus previous, DndStatus current, DateTimeOffset recordedAt,
        DateTimeOffset at, DndNoticeChange change, DndNoticeSource source)
    {
        string hash = HashOf(address);
        return new DndNotice
        {
            Id = IdOf(tenant, hash, version),
            Tenant = DndKeys.NormalizeTenant(tenant),
            Address = DndKeys.NormalizeAddress(address),
            AddressHash = hash,
            ContactId = contactId,
            Version = version,
            Previous = DndNoticeState.Of(previous),
            Current = DndNoticeState.Of(current),
            Change = change,
            Source = source,
            At = at,
            RecordedAt = recordedAt,
        };
    }

    /// <summary>The source as the platform names it: operator changes say whether they came through the CLI or the API.</summary>
    internal static DndNoticeSource SourceOf(DndChange change) => change.Source switch
    {
        DndChangeSource.MailgunEvent => new DndNoticeSource("webhook-event", change.EventId, change.EventType, Reference: change.Key),
        DndChangeSource.Operator => OperatorSource(change),
        DndChangeSource.PlatformLink => new DndNoticeSource("unsubscribe-link", Reference: change.Key),
        DndChangeSource.InboundReply => new DndNoticeSource("inbound-reply", Reference: change.Key),
        DndChangeSource.MailgunSuppression => new DndNoticeSource("reconciliation", Reference: change.Key),
        _ => new DndNoticeSource(DndNames.Of(change.Source), Reference: change.Key),
    };

    private static DndNoticeSource OperatorSource(DndChange change)
    {
        string actor = change.Actor ?? "";
        int colon = actor.IndexOf(':', StringComparison.Ordinal);
        string channel = colon > 0 ? actor[..colon] : "";
        // The CLI records "cli:<name>", the API "api:<name>"; anything else is an operator of an older version (the CLI).
        return channel is "api" or "cli"
            ? new DndNoticeSource(channel, Operator: actor[(colon + 1)..], Note: Cut(change.Explanation), Reference: change.Key)
            : new DndNoticeSource("cli", Operator: actor, Note: Cut(change.Explanation), Reference: change.Key);
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static string? Cut(string? s) => s is { Length: > MaxTextLength } ? s[..MaxTextLength] : s;

    private static DndNotice Utc(DndNotice n) => n with
    {
        At = n.At.ToUniversalTime(),
        RecordedAt = n.RecordedAt.ToUniversalTime(),
        Previous = n.Previous with { Since = n.Previous.Since?.ToUniversalTime(), Until = n.Previous.Until?.ToUniversalTime() },
        Current = n.Current with { Since = n.Current.Since?.ToUniversalTime(), Until = n.Current.Until?.ToUniversalTime() },
    };
}
