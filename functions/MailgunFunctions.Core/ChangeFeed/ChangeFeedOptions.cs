using System.ComponentModel.DataAnnotations;
using MailgunFunctions.Storage;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.ChangeFeed;

/// <summary>The change log of DND entries, its sweeper and the platform's query API (section "ChangeFeed").</summary>
public sealed class ChangeFeedOptions
{
    public const string Section = "ChangeFeed";

    /// <summary>
    /// How old a change must be before <c>GET /api/dnd/{tenant}?changedSince=</c> returns it. A change row is keyed by
    /// the writer's clock just before its write, so a write that takes long, or an instance whose clock runs behind,
    /// can add a row below a cursor already handed out; rows older than this margin can no longer appear, so no page ever
    /// skips one. Default 2 minutes: more than one storage request can take (Storage:MaxRetries + 1 attempts of
    /// Storage:NetworkTimeout, plus back-off) and the clock skew of Azure instances (well under a second); checked at start-up.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan SafetyMargin { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long change rows are kept for <c>changedSince</c> (a resync after an outage must start within it). Default 30
    /// days. Older rows are deleted by the daily purge; the entries themselves are kept for ever.
    /// </summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "400.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Age of an undispatched change (its pending row) after which the sweeper sends it again. Default 2 minutes: far
    /// longer than a dispatch normally takes (a queue send, and a platform POST bounded by Notifications:Timeout), so the
    /// sweeper only picks up what a stopped instance left behind.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:30", "01:00:00")]
    public TimeSpan SweepAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Changes returned by one <c>changedSince</c> page unless the caller asks for fewer. Default 500 (at most 1000, a Table query page).</summary>
    [Range(1, 1000)]
    public int PageSize { get; set; } = 500;

    /// <summary>Entries whose temporary DND ended that one expiry run handles in parallel. Default 16.</summary>
    [Range(1, 256)]
    public int ExpiryConcurrency { get; set; } = 16;
}

/// <summary>The safety margin must outlast one storage request at its worst (all its attempts), plus clock skew.</summary>
public sealed class ChangeFeedOptionsValidator(IOptions<StorageOptions> storage) : IValidateOptions<ChangeFeedOptions>
{
    /// <summary>What is allowed for the clocks of two instances to differ (Azure keeps them within about a second).</summary>
    public static readonly TimeSpan ClockSkewAllowance = TimeSpan.FromSeconds(10);

    public ValidateOptionsResult Validate(string? name, ChangeFeedOptions options)
    {
        StorageOptions s;
        try
        {
            s = storage.Value;
        }
        catch (OptionsValidationException)
        {
            // The storage options are invalid themselves: their own validation says so, once (start-up fails either way).
            return ValidateOptionsResult.Skip;
        }

        // StorageClients: (MaxRetries + 1) attempts of NetworkTimeout, with back-off of at most 2 s in between.
        var longestWrite = (s.MaxRetries + 1) * s.NetworkTimeout + s.MaxRetries * TimeSpan.FromSeconds(2);
        var needed = longestWrite + ClockSkewAllowance;
        return options.SafetyMargin >= needed
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"'{ChangeFeedOptions.Section}__SafetyMargin' ({options.SafetyMargin:c}) must be at least {needed:c}: the longest storage write " +
                $"({s.MaxRetries + 1} attempts of '{StorageOptions.Section}__NetworkTimeout' {s.NetworkTimeout:c} plus back-off) and {ClockSkewAllowance.TotalSeconds:0} s of clock skew, or a changedSince page could skip a change.");
    }
}
