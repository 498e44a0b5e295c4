using Azure.Data.Tables;
using Newtonsoft.Json;

namespace MailgunFunctions.Dnd;

/// <summary>
/// Maps <see cref="DndEntry"/> to a <c>DndEntries</c> row and back. The aggregate is stored as plain columns
/// operators can filter on; the visible state at write time is stored too (State, TemporaryUntil...) for queries,
/// but is always recomputed from the aggregate when read.
/// </summary>
internal static class DndEntryCodec
{
    public static TableEntity ToEntity(DndEntry entry, DndStatus status, DateTimeOffset evaluatedAt)
    {
        var e = new TableEntity(DndKeys.TenantKey(entry.Tenant), DndKeys.AddressKey(entry.Address))
        {
            ["Tenant"] = entry.Tenant,
            ["Address"] = entry.Address,
            ["State"] = DndNames.Of(status.State),
            ["StateSince"] = status.Since,
            ["TemporaryUntil"] = status.Until,
            ["StateReason"] = status.Reason,
            ["EvaluatedAt"] = evaluatedAt,
            ["FirstComplaintAt"] = entry.FirstComplaintAt,
            ["LatestComplaintAt"] = entry.LatestComplaintAt,
            ["LatestSoftBounceAt"] = entry.LatestSoftBounceAt,
            ["SoftBounces"] = entry.SoftBounces.Count == 0 ? null : JsonConvert.SerializeObject(entry.SoftBounces.Select(s => new object[] { s.MessageId, s.At.ToUnixTimeMilliseconds() })),
            ["LastDeliveredAt"] = entry.LastDeliveredAt,
            ["LastOpenedAt"] = entry.LastOpenedAt,
            ["LastClickedAt"] = entry.LastClickedAt,
        };
        WriteMark(e, "Permanent", entry.LatestPermanentCause);
        WriteMark(e, "Reenable", entry.LastReenable);
        WriteMark(e, "Override", entry.LastOverride);
        WriteMark(e, "LastEvent", entry.LastEvent);
        if (entry.Context is { } c)
        {
            e["ContextAt"] = c.At;
            e["ContextKey"] = c.Key;
            e["LastMessageId"] = c.MessageId;
            e["ContactId"] = c.ContactId;
            e["Tags"] = JsonConvert.SerializeObject(c.Tags);
            e["UserVariables"] = JsonConvert.SerializeObject(c.UserVariables);
        }

        // Table Storage does not store null properties; dropping them keeps the row small and the Replace exact.
        foreach (string key in e.Keys.Where(k => e[k] is null).ToArray())
        {
            e.Remove(key);
        }

        return e;
    }

    public static DndEntry FromEntity(TableEntity e)
    {
        MessageContext? context = null;
        if (e.GetDateTimeOffset("ContextAt") is { } contextAt)
        {
            context = new MessageContext(
                Utc(contextAt),
                e.GetString("ContextKey") ?? "",
                e.GetString("LastMessageId"),
                e.GetString("ContactId"),
                JsonConvert.DeserializeObject<string[]>(e.GetString("Tags") ?? "[]") ?? [],
                new SortedDictionary<string, string>(JsonConvert.DeserializeObject<Dictionary<string, string>>(e.GetString("UserVariables") ?? "{}") ?? [], StringComparer.Ordinal));
        }

        var softBounces = e.GetString("SoftBounces") is { Length: > 0 } json
            ? (JsonConvert.DeserializeObject<object[][]>(json) ?? [])
                .Select(a => new SoftBounce(Convert.ToString(a[0], System.Globalization.CultureInfo.InvariantCulture)!, DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(a[1], System.Globalization.CultureInfo.InvariantCulture))))
                .ToArray()
            : [];

        return new DndEntry
        {
            Tenant = e.GetString("Tenant") ?? e.PartitionKey,
            Address = e.GetString("Address") ?? e.RowKey,
            FirstComplaintAt = Time(e, "FirstComplaintAt"),
            LatestComplaintAt = Time(e, "LatestComplaintAt"),
            LatestPermanentCause = ReadMark(e, "Permanent"),
            SoftBounces = softBounces,
            LastDeliveredAt = Time(e, "LastDeliveredAt"),
            LastOpenedAt = Time(e, "LastOpenedAt"),
            LastClickedAt = Time(e, "LastClickedAt"),
            LastReenable = ReadMark(e, "Reenable"),
            LastOverride = ReadMark(e, "Override"),
            LastEvent = ReadMark(e, "LastEvent"),
            Context = context,
        };
    }

    private static void WriteMark(TableEntity e, string prefix, DndMark? mark)
    {
        if (mark is null)
        {
            return;
        }

        e[prefix + "At"] = mark.At;
        e[prefix + "Key"] = mark.Key;
        e[prefix + "Label"] = mark.Label;
        e[prefix + "Detail"] = mark.Detail;
        e[prefix + "Actor"] = mark.Actor;
    }

    private static DndMark? ReadMark(TableEntity e, string prefix) =>
        Time(e, prefix + "At") is { } at
            ? new DndMark(at, e.GetString(prefix + "Key") ?? "", e.GetString(prefix + "Label") ?? "", e.GetString(prefix + "Detail"), e.GetString(prefix + "Actor"))
            : null;

    private static DateTimeOffset? Time(TableEntity e, string name) => e.GetDateTimeOffset(name) is { } t ? Utc(t) : null;

    private static DateTimeOffset Utc(DateTimeOffset t) => t.ToUniversalTime();
}
