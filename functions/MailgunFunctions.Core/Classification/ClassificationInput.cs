using MailgunFunctions.Events;

namespace MailgunFunctions.Classification;

/// <summary>
/// The loose signals the classifier reads. The pipeline builds it from a <see cref="MailgunEvent"/> with
/// <see cref="From"/>; operators build it from the CLI's flags (<c>--code --enhanced --message --severity --reason</c>),
/// so both get the same answer from the same rules. Every field is optional.
/// </summary>
public readonly record struct ClassificationInput
{
    /// <summary>Mailgun's <c>event</c>. Empty means <c>failed</c> (what an operator asks about).</summary>
    public string? EventType { get; init; }

    /// <summary><c>delivery-status.code</c>: SMTP (4xx/5xx), Mailgun's own (498, 605...) or a carrier code (30003...).</summary>
    public int? Code { get; init; }

    /// <summary><c>delivery-status.enhanced-code</c>, e.g. "5.1.1".</summary>
    public string? EnhancedCode { get; init; }

    /// <summary><c>delivery-status.bounce-code</c> of delayed bounces, e.g. "5.1.1".</summary>
    public string? BounceCode { get; init; }

    /// <summary><c>delivery-status.message</c> (or <c>reject.description</c> of rejected events).</summary>
    public string? Message { get; init; }

    /// <summary><c>delivery-status.description</c>, often empty.</summary>
    public string? Description { get; init; }

    /// <summary><c>severity</c>: permanent or temporary.</summary>
    public string? Severity { get; init; }

    /// <summary><c>reason</c> (or <c>reject.reason</c> of rejected events).</summary>
    public string? Reason { get; init; }

    /// <summary>Undocumented <c>delivery-status.bounce-type</c>: hard or soft.</summary>
    public string? BounceType { get; init; }

    /// <summary>Undocumented <c>delivery-status.last-code</c> / <c>last-message</c>: the last server answer before Mailgun gave up.</summary>
    public int? LastCode { get; init; }

    public string? LastMessage { get; init; }

    /// <summary><c>flags.is-delayed-bounce</c>.</summary>
    public bool IsDelayedBounce { get; init; }

    /// <summary>The classifier's view of a Mailgun event.</summary>
    public static ClassificationInput From(MailgunEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var status = e.DeliveryStatus;
        bool rejected = string.Equals(e.EventType, "rejected", StringComparison.OrdinalIgnoreCase);
        return new ClassificationInput
        {
            EventType = e.EventType,
            Code = status?.Code,
            EnhancedCode = status?.EnhancedCode,
            BounceCode = status?.BounceCode,
            // Rejected events explain themselves in reject.reason/description instead of delivery-status.
            Message = rejected ? e.RejectDescription ?? status?.Message : status?.Message,
            Description = status?.Description,
            Severity = e.Severity,
            Reason = rejected ? e.RejectReason ?? e.Reason : e.Reason,
            BounceType = status?.BounceType,
            LastCode = status?.LastCode,
            LastMessage = status?.LastMessage,
            IsDelayedBounce = e.IsDelayedBounce,
        };
    }
}
