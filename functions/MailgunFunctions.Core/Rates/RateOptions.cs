using System.ComponentModel.DataAnnotations;

namespace MailgunFunctions.Rates;

/// <summary>
/// The per-tenant daily rates the platform enforces on a sender (section "Rates"; docs/rates.md). The defaults are the
/// platform's: it warns when hard bounces near 3% and suspends sending above 5%, and suspends above 0.08% complaints.
/// </summary>
public sealed class RateOptions : IValidatableObject
{
    public const string Section = "Rates";

    /// <summary>Hard bounces per message sent at which a warning is logged (event 15001). Default 0.03 (3%).</summary>
    [Range(0.0, 1.0)]
    public double HardBounceWarning { get; set; } = 0.03;

    /// <summary>Hard bounces per message sent at which a critical event is logged (15002): the platform suspends above 5%.</summary>
    [Range(0.0, 1.0)]
    public double HardBounceCritical { get; set; } = 0.05;

    /// <summary>Complaints per message delivered at which a warning is logged (15001). Default 0.0005 (0.05%).</summary>
    [Range(0.0, 1.0)]
    public double ComplaintWarning { get; set; } = 0.0005;

    /// <summary>Complaints per message delivered at which a critical event is logged (15002): the platform suspends above 0.08%.</summary>
    [Range(0.0, 1.0)]
    public double ComplaintCritical { get; set; } = 0.0008;

    /// <summary>
    /// Fewest messages in a rate's denominator before it is judged. Default 1000: below it one complaint is already 0.1%,
    /// which says nothing about a sender.
    /// </summary>
    [Range(1, 100_000_000)]
    public int MinimumVolume { get; set; } = 1000;

    /// <summary>
    /// Counter rows per tenant and day. Every counted event updates one, chosen by the event's hash, so concurrent events of
    /// one tenant rarely meet on the same row (an ETag conflict costs a re-read). Default 16; reading a day reads them all.
    /// </summary>
    [Range(1, 64)]
    public int Shards { get; set; } = 16;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (HardBounceWarning > HardBounceCritical)
        {
            yield return new ValidationResult("Rates:HardBounceWarning must not exceed Rates:HardBounceCritical", [nameof(HardBounceWarning)]);
        }

        if (ComplaintWarning > ComplaintCritical)
        {
            yield return new ValidationResult("Rates:ComplaintWarning must not exceed Rates:ComplaintCritical", [nameof(ComplaintWarning)]);
        }
    }
}
