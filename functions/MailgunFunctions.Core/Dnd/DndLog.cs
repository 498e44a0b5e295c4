using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Dnd;

/// <summary>Structured log events of DND processing. Addresses are personal data: logs carry their key hash, not the address.</summary>
internal static partial class DndLog
{
    [LoggerMessage(3001, LogLevel.Information, "DND {Tenant}/{AddressHash} {Kind} from {Source} ({Rule}): {PreviousState} -> {NewState}, entry {EntryOutcome}, history {HistoryOutcome}")]
    public static partial void Applied(ILogger logger, string tenant, string addressHash, DndChangeKind kind, string source, string rule, DndState previousState, DndState newState, string entryOutcome, string historyOutcome);

    [LoggerMessage(3002, LogLevel.Debug, "DND {Tenant}/{AddressHash}: write conflict on attempt {Attempt} (HTTP {Status}); retrying")]
    public static partial void WriteConflict(ILogger logger, string tenant, string addressHash, int attempt, int status);

    [LoggerMessage(3003, LogLevel.Warning, "DND {Tenant}/{AddressHash}: re-enable by {Actor} refused: the address is locked by a complaint (an admin override is required)")]
    public static partial void ReenableRefused(ILogger logger, string tenant, string addressHash, string actor);

    [LoggerMessage(3004, LogLevel.Warning, "SENDER ISSUE STORM: tenant {Tenant} has {Count} sender-side failures in the bucket starting {BucketStart:u} (threshold {Threshold}); latest {Rule} code {Code}. Contacts are NOT put in DND for these: check authentication (SPF/DKIM/DMARC), IP/domain reputation and content.")]
    public static partial void SenderIssueStorm(ILogger logger, string tenant, long count, DateTimeOffset bucketStart, int threshold, string rule, string code);

    [LoggerMessage(3005, LogLevel.Debug, "Sender-side failure of tenant {Tenant} ({Rule}, code {Code}) counted: {Count} in the bucket starting {BucketStart:u}")]
    public static partial void SenderIssueCounted(ILogger logger, string tenant, string rule, string code, long count, DateTimeOffset bucketStart);
}
