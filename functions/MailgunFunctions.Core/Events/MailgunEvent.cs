namespace MailgunFunctions.Events;

/// <summary>
/// The fields of one Mailgun <c>event-data</c> object that the product acts on. Mailgun only adds fields,
/// so everything but <see cref="EventType"/>, <see cref="Id"/> and <see cref="Timestamp"/> is optional.
/// </summary>
public sealed record MailgunEvent
{
    /// <summary><c>event</c>: accepted, rejected, delivered, failed, opened, clicked, unsubscribed, complained, stored...</summary>
    public required string EventType { get; init; }

    /// <summary><c>id</c>: unique only within a day, so never a long-lived key on its own.</summary>
    public required string Id { get; init; }

    /// <summary><c>timestamp</c> (float seconds) as a UTC time.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    public string? Recipient { get; init; }
    public string? RecipientDomain { get; init; }

    /// <summary><c>severity</c> of failed events: permanent, temporary (sometimes internal, unknown).</summary>
    public string? Severity { get; init; }

    /// <summary><c>reason</c> of failed events: bounce, suppress-bounce, generic, greylisted, espblock, old...</summary>
    public string? Reason { get; init; }

    public string? LogLevel { get; init; }

    public DeliveryStatus? DeliveryStatus { get; init; }

    /// <summary><c>reject.reason</c> / <c>reject.description</c> of rejected events.</summary>
    public string? RejectReason { get; init; }
    public string? RejectDescription { get; init; }

    /// <summary><c>message.headers.message-id</c>, without angle brackets as Mailgun sends it.</summary>
    public string? MessageId { get; init; }

    public string? Subject { get; init; }
    public string? From { get; init; }

    /// <summary>The Mailgun sending domain of the event (<c>domain.name</c>, else older fields), when the event names it.</summary>
    public string? SendingDomain { get; init; }

    /// <summary><c>account.id</c>: Mailgun's id of the (sub)account that sent the message, when the event names it.</summary>
    public string? AccountId { get; init; }

    public bool IsDelayedBounce { get; init; }
    public bool IsTestMode { get; init; }

    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary><c>user-variables</c> echoed back by Mailgun (for example the platform's contact id), as strings.</summary>
    public IReadOnlyDictionary<string, string> UserVariables { get; init; } = new Dictionary<string, string>();
}

/// <summary><c>delivery-status</c> of delivered and failed events.</summary>
public sealed record DeliveryStatus
{
    /// <summary><c>code</c> as a number when it is one (Mailgun sends an integer; some producers send a string).</summary>
    public int? Code { get; init; }

    public string? Message { get; init; }
    public string? Description { get; init; }

    /// <summary><c>enhanced-code</c>, e.g. "5.1.1".</summary>
    public string? EnhancedCode { get; init; }

    /// <summary><c>bounce-code</c> on delayed bounces, e.g. "5.1.1".</summary>
    public string? BounceCode { get; init; }

    /// <summary>Undocumented newer fields: <c>bounce-type</c> (soft/hard), <c>last-code</c>, <c>last-message</c>.</summary>
    public string? BounceType { get; init; }
    public int? LastCode { get; init; }
    public string? LastMessage { get; init; }

    public int? AttemptNo { get; init; }
    public string? MxHost { get; init; }
}
