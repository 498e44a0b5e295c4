using System.Globalization;

namespace MailgunFunctions.Tests.Reliability;

/// <summary>
/// Sizes of the reliability runs. The standard suite uses factor 1 (well under CI's limit on 2 cores);
/// MAILGUNFUNCTIONS_RELIABILITY_SCALE=10 (or more) multiplies every count for a deeper run.
/// </summary>
internal static class ReliabilityScale
{
    public const string EnvironmentVariable = "MAILGUNFUNCTIONS_RELIABILITY_SCALE";

    public static int Factor { get; } =
        int.TryParse(Environment.GetEnvironmentVariable(EnvironmentVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out int f) && f > 1 ? f : 1;

    public static int Of(int count) => count * Factor;

    /// <summary>Every reason an intake may answer with (IntakeResult's documented outcomes).</summary>
    public static readonly HashSet<string> DocumentedReasons =
    [
        "accepted", "duplicate", "body_too_large", "unsupported_media_type", "malformed_json", "signature_missing", "signature_malformed",
        "signature_invalid", "timestamp_stale", "timestamp_in_future", "token_replayed", "event_invalid", "not_a_form", "malformed_form",
        "inbound_invalid", "storage_unavailable", "parent_signature_not_for_tenant", "tenant_unknown", "tenant_moving",
    ];
}
