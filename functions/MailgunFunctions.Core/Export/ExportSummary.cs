using Newtonsoft.Json;
using Newtonsoft.Json.Serialization;

namespace MailgunFunctions.Export;

/// <summary>The <c>summary.json</c> of one tenant's domain and date (documented in docs/export.md).</summary>
public sealed record ExportSummary
{
    public static readonly JsonSerializerSettings JsonSettings = new()
    {
        // camelCase property names, but list names and SMTP codes (dictionary keys) kept as they are.
        ContractResolver = new DefaultContractResolver { NamingStrategy = new CamelCaseNamingStrategy { ProcessDictionaryKeys = false } },
        DateParseHandling = DateParseHandling.DateTimeOffset,
        Formatting = Formatting.Indented,
    };

    public required string Tenant { get; init; }
    public required string Domain { get; init; }
    public required string Region { get; init; }

    [JsonIgnore]
    public ExportScope Scope => new(Tenant, Domain);

    /// <summary><c>yyyy-MM-dd</c>, the export's date (UTC).</summary>
    public required string Date { get; init; }
    public required DateTimeOffset CompletedAt { get; init; }

    /// <summary>Date of the earlier export the "new" counts compare with; null for the first export.</summary>
    public string? PreviousExport { get; init; }

    /// <summary>Keyed by list name: bounces, complaints, unsubscribes, whitelists.</summary>
    public required Dictionary<string, ExportListSummary> Lists { get; init; }
    public long TotalRecords { get; init; }
    public long? TotalNewSincePrevious { get; init; }

    /// <summary>Bounce records per SMTP code.</summary>
    public Dictionary<string, long> Codes { get; init; } = [];

    /// <summary><c>done</c>, or <c>not-configured</c> when no <see cref="ISuppressionReconciler"/> is registered.</summary>
    public required string Reconciliation { get; init; }
    /// <summary>The reconcilers' counts, e.g. applied, already-dnd, review (see <see cref="SuppressionReconciler"/>).</summary>
    public IReadOnlyDictionary<string, long>? ReconciliationCounts { get; init; }

    public string ToJson() => JsonConvert.SerializeObject(this, JsonSettings);

    public static ExportSummary? FromJson(string json) => JsonConvert.DeserializeObject<ExportSummary>(json, JsonSettings);
}

public sealed record ExportListSummary
{
    public long Records { get; init; }

    /// <summary>Records created after the previous export of this list started; null without a previous export.</summary>
    public long? NewSincePrevious { get; init; }
    public long? PreviousRecords { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public required string Blob { get; init; }
    public Dictionary<string, long> Codes { get; init; } = [];
}
