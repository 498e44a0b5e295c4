namespace MailgunFunctions.Webhooks;

/// <summary>
/// How a webhook delivery ended: the HTTP status Mailgun gets, a short machine-readable reason, and a
/// detail for people. Mailgun treats 200 as done, 406 as "never retry", and everything else as "retry for
/// about 8 hours", which is why each outcome has the status it has.
/// </summary>
public sealed record IntakeResult(int StatusCode, string Reason, string? Detail = null)
{
    public static readonly IntakeResult Accepted = new(200, "accepted");
    public static readonly IntakeResult Duplicate = new(200, "duplicate", "this delivery was already queued");

    /// <summary>Larger than the configured maximum; never read whole.</summary>
    public static IntakeResult BodyTooLarge(long limit) => new(413, "body_too_large", $"the body exceeds {limit} bytes");

    /// <summary>Legacy form-encoded webhooks are a different protocol: 406 so Mailgun stops retrying.</summary>
    public static IntakeResult UnsupportedMediaType(string? contentType) => new(406, "unsupported_media_type",
        $"content type '{contentType}' is not supported: configure Mailgun's JSON event webhooks (not legacy form webhooks)");

    /// <summary>Not JSON (or not UTF-8): nothing can be verified, so 400, and a transport truncation is retried.</summary>
    public static IntakeResult MalformedJson(string detail) => new(400, "malformed_json", detail);

    /// <summary>401: Mailgun keeps retrying, so a mistyped or rotated key loses nothing once fixed.</summary>
    public static IntakeResult SignatureMissing(string detail) => new(401, "signature_missing", detail);
    public static IntakeResult SignatureMalformed(string detail) => new(401, "signature_malformed", detail);
    public static readonly IntakeResult SignatureInvalid = new(401, "signature_invalid", "the signature matches no webhook signing key of this tenant");

    /// <summary>
    /// Verified only by the parent account's key, which signs every subaccount's events, and the event names neither a domain
    /// nor the account of this tenant: it may belong to another subaccount. 401, so a wrong set-up loses nothing once fixed.
    /// </summary>
    public static IntakeResult ParentSignatureNotForTenant(string detail) => new(401, "parent_signature_not_for_tenant", detail);

    /// <summary>
    /// The URL names no tenant this deployment knows (or, for the URL without a tenant, no single-account tenant is
    /// configured). 404, which Mailgun retries for hours: a tenant being connected loses nothing.
    /// </summary>
    /// <summary>
    /// The tenant is being moved to another storage shard (<c>tenant move</c>): 503, so Mailgun retries the delivery, and the
    /// retry after the switch lands on the new shard. Nothing is queued meanwhile, so no event is lost or counted twice.
    /// </summary>
    public static IntakeResult TenantMoving(int from, int to) => new(503, "tenant_moving", $"the tenant is being moved from storage shard {from} to {to}; retry later");

    public static IntakeResult TenantUnknown(string detail) => new(404, "tenant_unknown", detail);
    public static IntakeResult TimestampStale(TimeSpan age) => new(401, "timestamp_stale", $"the signature is {age.TotalMinutes:F0} minutes old");
    public static IntakeResult TimestampInFuture(TimeSpan ahead) => new(401, "timestamp_in_future", $"the signature is {ahead.TotalSeconds:F0} seconds in the future");
    public static readonly IntakeResult TokenReplayed = new(401, "token_replayed", "this signature token was already used with a different body");

    /// <summary>Authentic, but the event lacks what every Mailgun event has: it can never be processed.</summary>
    public static IntakeResult EventInvalid(string detail) => new(406, "event_invalid", detail);

    /// <summary>An inbound post that is not a form (or a multipart form without a boundary): Mailgun never sends that, so 406.</summary>
    public static IntakeResult NotAForm(string? contentType) => new(406, "not_a_form",
        $"content type '{contentType}' is not a form: Mailgun routes post application/x-www-form-urlencoded or multipart/form-data");

    /// <summary>A form that does not parse (truncated multipart, broken boundary): 400, so a transport accident is retried.</summary>
    public static IntakeResult MalformedForm(string detail) => new(400, "malformed_form", detail);

    /// <summary>Authentic, but lacks what every routed message has (the recipient): it can never be processed.</summary>
    public static IntakeResult InboundInvalid(string detail) => new(406, "inbound_invalid", detail);

    /// <summary>Storage failed: 503 so Mailgun retries and nothing is lost.</summary>
    public static readonly IntakeResult StorageUnavailable = new(503, "storage_unavailable", "the event could not be stored; retry later");

    public bool IsSuccess => StatusCode == 200;
}
