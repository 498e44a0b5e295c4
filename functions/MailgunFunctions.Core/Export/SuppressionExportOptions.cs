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
}
