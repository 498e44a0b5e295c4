using System.ComponentModel.DataAnnotations;

namespace MailgunFunctions.Export;

/// <summary>Settings of the suppression export (section "SuppressionExport").</summary>
public sealed class SuppressionExportOptions
{
    public const string Section = "SuppressionExport";

    /// <summary>
    /// CSV bytes gathered before they are uploaded as one block and the list's position is checkpointed. Default 4 MiB:
    /// memory stays flat, a blob stays far below 50,000 blocks, and a run that dies loses at most this much work.
    /// </summary>
    [Range(1, 64 * 1024 * 1024)]
    public int BlockSizeBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Job messages the nightly fan-out sends at once. A queue has no batch send: each job is one request, so 32 in
    /// flight put 10,000 jobs on the queue in seconds while staying far below a queue's 2,000 messages/s target.
    /// </summary>
    [Range(1, 256)]
    public int FanOutConcurrency { get; set; } = 32;

    /// <summary>
    /// How long one export job works before it stops at its last checkpoint and queues its own continuation. Below
    /// host.json's <c>functionTimeout</c> (10 minutes), so the host never has to kill a job (a timeout restarts the
    /// worker, taking the other jobs of the instance with it, and counts a delivery towards poison).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "02:00:00")]
    public TimeSpan JobTimeBudget { get; set; } = TimeSpan.FromMinutes(8);

    /// <summary>
    /// Optional: a URL the nightly review of each tenant's domain is POSTed to as JSON (<see cref="NightlyReview"/>), e.g.
    /// a chat or ticketing webhook. Empty (the default): the review is logged (7030) and measured only. HTTPS, or plain
    /// HTTP to a loopback address for local runs.
    /// </summary>
    public string? ReviewWebhookUrl { get; set; } = "";
}
