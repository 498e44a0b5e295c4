using System.ComponentModel.DataAnnotations;

namespace MailgunFunctions.Inbound;

/// <summary>Behaviour of the inbound replies webhook and its processing (section "Inbound").</summary>
public sealed class InboundOptions
{
    public const string Section = "Inbound";

    /// <summary>
    /// Largest inbound post accepted, in bytes; larger ones get 413, by Content-Length before reading and while
    /// streaming. Default 40 MiB: Mailgun accepts mails up to 25 MB, and form encoding inflates them (base64
    /// attachments in multipart, percent-encoding of <c>body-mime</c>).
    /// </summary>
    [Range(64 * 1024, 100L * 1024 * 1024)]
    public long MaxRequestBytes { get; set; } = 40L * 1024 * 1024;

    /// <summary>
    /// Days the raw payloads in the <c>mailgun-inbound-raw</c> container are kept. Default 90. Enforced by the
    /// storage account's lifecycle-management rule (see docs/inbound.md); the value is also written on
    /// every raw blob as metadata <c>retainuntil</c> so an operator can see it.
    /// </summary>
    [Range(1, 3650)]
    public int RawRetentionDays { get; set; } = 90;

    /// <summary>
    /// Longest text field kept from a form when processing (body-plain, body-html, stripped-text, stripped-html), in
    /// characters. Default 1 Mi characters: the reply readers read the first 256 Ki characters of a text, and a field costs
    /// memory up to this however long it is; longer values are cut (the raw payload keeps everything).
    /// </summary>
    [Range(1024, 32 * 1024 * 1024)]
    public int MaxFieldChars { get; set; } = 1024 * 1024;
}
