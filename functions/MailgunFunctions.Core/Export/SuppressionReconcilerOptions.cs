using System.ComponentModel.DataAnnotations;

namespace MailgunFunctions.Export;

/// <summary>Settings of the reconciliation of Mailgun's lists with the DND table (section "SuppressionReconciliation").</summary>
public sealed class SuppressionReconcilerOptions
{
    public const string Section = "SuppressionReconciliation";

    /// <summary>
    /// DND entries (state not none) of one domain remembered in memory, as a 64-bit hash and a state (about 30 bytes
    /// each), so a Mailgun record whose address is already DND costs no Table request. Default 1,000,000 (about 30 MB).
    /// Above it the map is dropped and every Mailgun record is checked with one point read instead (slower, same result).
    /// 0 always uses point reads.
    /// </summary>
    [Range(0, 20_000_000)]
    public int MaxDndKeysInMemory { get; set; } = 1_000_000;

    /// <summary>
    /// Allowlist entries of one domain held in memory (the allowlist is exact, not hashed). Default 200,000: the
    /// allowlist is a short list of VIPs and partner domains; a larger one fails the reconciliation with this setting's name.
    /// </summary>
    [Range(0, 10_000_000)]
    public int MaxAllowlistEntries { get; set; } = 200_000;

    /// <summary>
    /// False-positive rate of the filter of Mailgun's addresses used to find DND entries Mailgun does not list. Default
    /// 0.001: one DND address in a thousand that Mailgun does not list may be missed from the review list; the filter
    /// takes about 1.8 bytes per Mailgun record (1.8 MB for a million).
    /// </summary>
    [Range(1e-9, 0.1)]
    public double ReviewFilterFalsePositiveRate { get; set; } = 0.001;
}
