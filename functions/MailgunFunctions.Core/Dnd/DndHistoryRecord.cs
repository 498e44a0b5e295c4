using Azure.Data.Tables;

namespace MailgunFunctions.Dnd;

/// <summary>One row of <c>DndHistory</c>: why an entry's DND changed (or was confirmed).</summary>
public sealed record DndHistoryRecord
{
    public required string Tenant { get; init; }
    public required string Address { get; init; }

    /// <summary>The change's identity (hash of event type, id, timestamp, recipient; or of the operator action).</summary>
    public required string ChangeKey { get; init; }

    public required DateTimeOffset At { get; init; }
    public required DndChangeSource Source { get; init; }
    public required DndChangeKind Kind { get; init; }
    public string? EventId { get; init; }
    public string? EventType { get; init; }
    /// <summary>The classifier category in kebab case ("hard-bounce", "complaint"...), when the change came from one.</summary>
    public string? Category { get; init; }
    public int? Code { get; init; }
    public string? EnhancedCode { get; init; }
    public string? Message { get; init; }
    public string Rule { get; init; } = "";
    public string Explanation { get; init; } = "";
    public string? Actor { get; init; }
    public required DndState PreviousState { get; init; }
    public required DndState NewState { get; init; }
    public required DateTimeOffset RecordedAt { get; init; }

    /// <summary>
    /// True when the entry already reflected the change when this record was written: an older event than what the
    /// entry holds (or one a newer change covers). The previous state is then the state at that time. Records are
    /// written before their entry, so a re-delivery after a stop between the two never produces one of these.
    /// </summary>
    public bool EntryUnchanged { get; init; }

    internal TableEntity ToEntity()
    {
        var e = new TableEntity(DndKeys.HistoryPartition(Tenant, Address), DndKeys.HistoryRow(At, ChangeKey))
        {
            ["Tenant"] = Tenant,
            ["Address"] = Address,
            ["ChangeKey"] = ChangeKey,
            ["At"] = At,
            ["Source"] = SourceName(Source),
            ["Kind"] = DndNames.Of(Kind),
            ["EventId"] = EventId,
            ["EventType"] = EventType,
            ["Category"] = Category,
            ["Code"] = Code,
            ["EnhancedCode"] = EnhancedCode,
            ["Message"] = Message,
            ["Rule"] = Rule,
            ["Explanation"] = Explanation,
            ["Actor"] = Actor,
            ["PreviousState"] = DndNames.Of(PreviousState),
            ["NewState"] = DndNames.Of(NewState),
            ["RecordedAt"] = RecordedAt,
            ["EntryUnchanged"] = EntryUnchanged,
        };
        foreach (string key in e.Keys.Where(k => e[k] is null).ToArray())
        {
            e.Remove(key);
        }

        return e;
    }

    internal static DndHistoryRecord FromEntity(TableEntity e) => new()
    {
        Tenant = e.GetString("Tenant") ?? "",
        Address = e.GetString("Address") ?? "",
        ChangeKey = e.GetString("ChangeKey") ?? "",
        At = e.GetDateTimeOffset("At")?.ToUniversalTime() ?? default,
        Source = ParseSource(e.GetString("Source")),
        Kind = DndNames.Parse<DndChangeKind>(e.GetString("Kind")) ?? DndChangeKind.Activity,
        EventId = e.GetString("EventId"),
        EventType = e.GetString("EventType"),
        Category = e.GetString("Category"),
        Code = e.GetInt32("Code"),
        EnhancedCode = e.GetString("EnhancedCode"),
        Message = e.GetString("Message"),
        Rule = e.GetString("Rule") ?? "",
        Explanation = e.GetString("Explanation") ?? "",
        Actor = e.GetString("Actor"),
        PreviousState = DndNames.Parse<DndState>(e.GetString("PreviousState")) ?? DndState.None,
        NewState = DndNames.Parse<DndState>(e.GetString("NewState")) ?? DndState.None,
        RecordedAt = e.GetDateTimeOffset("RecordedAt")?.ToUniversalTime() ?? default,
        EntryUnchanged = e.GetBoolean("EntryUnchanged") ?? false,
    };

    /// <summary>"mailgun-event", "operator", "platform-link".</summary>
    public static string SourceName(DndChangeSource source) => DndNames.Of(source);

    private static DndChangeSource ParseSource(string? s) => DndNames.Parse<DndChangeSource>(s) ?? DndChangeSource.MailgunEvent;
}
