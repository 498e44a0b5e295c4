using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace MailgunFunctions.Inbound;

/// <summary>A file part of a multipart inbound post: Mailgun's <c>attachment-N</c>.</summary>
/// <param name="Text">The content as text (cut at 64 KiB), only for the parts of a DSN (<see cref="InboundForm.IsReportPart"/>).</param>
public sealed record InboundAttachment(string Field, string FileName, string ContentType, long Size, string? Text = null);

/// <summary>
/// Which fields a reader keeps, and how much of each: <paramref name="FieldLimit"/> gives the most characters kept of a field
/// (0: the field is skipped). The intake needs only the signature fields, the processor the fields it reads
/// (<see cref="ReplyReader.Selection"/>). Memory stays bounded whatever the post holds.
/// </summary>
public sealed record InboundFormSelection(Func<string, int> FieldLimit, bool ExtractBodyMime);

/// <summary>
/// The fields of a Mailgun route post, read from a seekable copy of the request body. Both encodings Mailgun
/// uses are streamed (urlencoded, and multipart when the mail has attachments): only selected fields are held
/// in memory, each cut at a maximum length; <c>body-mime</c> is decoded into a temporary file.
/// When a field repeats, the indexer gives the last value (legacy user variables can collide with field names) and
/// <see cref="Values"/> gives every value (a sender can add its own copy of a header Mailgun posts as a field).
/// </summary>
public sealed class InboundForm : IDisposable
{
    /// <summary>
    /// Delivery-status parts are a few hundred bytes; the returned message's headers come first in its part.
    /// More than this is not worth reading.
    /// </summary>
    private const int MaxReportPartBytes = 64 * 1024;

    /// <summary>File parts described one by one; more are only counted (a post may hold tens of thousands of tiny parts).</summary>
    public const int MaxAttachmentsKept = 100;

    /// <summary>Values kept of one field name; more copies of a field are dropped (a post may repeat a field thousands of times).</summary>
    public const int MaxValuesPerField = 32;

    private readonly Dictionary<string, List<string>> _fields = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<InboundAttachment> _attachments = [];

    private InboundForm()
    {
    }

    /// <summary>The first <see cref="MaxAttachmentsKept"/> file parts.</summary>
    public IReadOnlyList<InboundAttachment> Attachments => _attachments;

    /// <summary>Every file part of the post, also those past <see cref="MaxAttachmentsKept"/>.</summary>
    public int AttachmentCount { get; private set; }

    /// <summary>The decoded <c>body-mime</c> (raw MIME route), positioned at its start; null for parsed routes.</summary>
    public Stream? BodyMime { get; private set; }

    public string? this[string name] => _fields.TryGetValue(name, out var values) ? values[^1] : null;

    /// <summary>Every value of a field, in the order posted; empty when it was not posted.</summary>
    public IReadOnlyList<string> Values(string name) => _fields.TryGetValue(name, out var values) ? values : [];

    private void Add(string name, string value)
    {
        if (!_fields.TryGetValue(name, out var values))
        {
            _fields[name] = values = [];
        }

        if (values.Count < MaxValuesPerField)
        {
            values.Add(value);
        }
        else
        {
            // The last value is the one the indexer gives: keep it the last one posted.
            values[^1] = value;
        }
    }

    /// <summary>True for the two content types Mailgun routes post; <paramref name="boundary"/> is set for multipart.</summary>
    public static bool IsForm(string? contentType, out string? boundary)
    {
        boundary = null;
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return false;
        }

        if (media.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (media.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            boundary = HeaderUtilities.RemoveQuotes(media.Boundary).Value;
            return !string.IsNullOrEmpty(boundary) && boundary.Length <= 200;
        }

        return false;
    }

    /// <summary>Reads <paramref name="body"/>; throws <see cref="InvalidDataException"/> for a form that does not parse.</summary>
    public static async Task<InboundForm> ReadAsync(Stream body, string? contentType, InboundFormSelection selection, CancellationToken cancellationToken)
    {
        if (!IsForm(contentType, out string? boundary))
        {
            throw new InvalidDataException($"'{contentType}' is not a form content type");
        }

        var form = new InboundForm();
        try
        {
            if (boundary is null)
            {
                await form.ReadUrlEncodedAsync(body, selection, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await form.ReadMultipartAsync(body, boundary, selection, cancellationToken).ConfigureAwait(false);
            }

            form.BodyMime?.Seek(0, SeekOrigin.Begin);
            return form;
        }
        catch
        {
            form.Dispose();
            throw;
        }
    }

    public void Dispose() => BodyMime?.Dispose();

    private async Task ReadUrlEncodedAsync(Stream body, InboundFormSelection selection, CancellationToken cancellationToken)
    {
        await UrlEncodedFormReader.ReadAsync(
            body,
            key =>
            {
                if (selection.ExtractBodyMime && key == "body-mime")
                {
                    BodyMime?.Dispose();
                    BodyMime = TemporaryFile.Create();
                    return BodyMime;
                }

                return selection.FieldLimit(key) is > 0 and int limit ? new CappedText(limit) : null;
            },
            (key, sink) =>
            {
                if (sink is CappedText text)
                {
                    Add(key, text.ToString());
                }
            },
            cancellationToken).ConfigureAwait(false);
    }

    private async Task ReadMultipartAsync(Stream body, string boundary, InboundFormSelection selection, CancellationToken cancellationToken)
    {
        var reader = new MultipartReader(boundary, body)
        {
            // Defaults (16 headers, 16 KB) are fine for headers; the body limit must allow a whole 25 MB mail.
            BodyLengthLimit = null,
            HeadersCountLimit = 64,
            HeadersLengthLimit = 64 * 1024,
        };
        try
        {
            MultipartSection? section;
            while ((section = await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false)) is not null)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    await section.Body.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                string name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                if (disposition.IsFileDisposition())
                {
                    await ReadAttachmentAsync(section, name, disposition, cancellationToken).ConfigureAwait(false);
                }
                else if (selection.ExtractBodyMime && name == "body-mime")
                {
                    BodyMime?.Dispose();
                    BodyMime = TemporaryFile.Create();
                    await section.Body.CopyToAsync(BodyMime, cancellationToken).ConfigureAwait(false);
                }
                else if (selection.FieldLimit(name) is > 0 and int limit)
                {
                    var text = new CappedText(limit);
                    await section.Body.CopyToAsync(text, cancellationToken).ConfigureAwait(false);
                    Add(name, text.ToString());
                }
                else
                {
                    await section.Body.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (IOException ex)
        {
            // MultipartReader reports a body that ends before its closing boundary as an IOException.
            throw new InvalidDataException("the multipart body is incomplete: " + ex.Message, ex);
        }
    }

    private async Task ReadAttachmentAsync(MultipartSection section, string field, ContentDispositionHeaderValue disposition, CancellationToken cancellationToken)
    {
        string fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar).Value
            ?? HeaderUtilities.RemoveQuotes(disposition.FileName).Value
            ?? "";
        string contentType = section.ContentType ?? "application/octet-stream";
        bool keep = ++AttachmentCount <= MaxAttachmentsKept;
        bool isReportPart = keep && IsReportPart(contentType);
        var counter = new CappedText(isReportPart ? MaxReportPartBytes : 0);
        await section.Body.CopyToAsync(counter, cancellationToken).ConfigureAwait(false);
        if (keep)
        {
            _attachments.Add(new InboundAttachment(field, fileName, contentType, counter.Length, isReportPart ? counter.ToString() : null));
        }
    }

    /// <summary>The machine-readable parts of a DSN (RFC 3464): the status, and the returned message or its headers.</summary>
    public static bool IsReportPart(string contentType) =>
        contentType.StartsWith("message/delivery-status", StringComparison.OrdinalIgnoreCase)
        || contentType.StartsWith("message/global-delivery-status", StringComparison.OrdinalIgnoreCase)
        || contentType.StartsWith("text/rfc822-headers", StringComparison.OrdinalIgnoreCase)
        || contentType.StartsWith("message/rfc822", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A write-only stream that decodes UTF-8 as it arrives and keeps at most a given number of characters, but counts every
    /// byte: a 25 MB field costs its kept characters, never its size.
    /// </summary>
    private sealed class CappedText(int maxChars) : Stream
    {
        private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
        private readonly StringBuilder _kept = new();
        private char[] _chars = [];
        private long _length;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override string ToString()
        {
            if (_kept.Length < maxChars)
            {
                // Whatever the decoder still holds (a sequence cut at the end) becomes replacement characters, as one decode would.
                Append([], flush: true);
            }

            return _kept.Length > maxChars ? _kept.ToString(0, maxChars) : _kept.ToString();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _length += buffer.Length;
            if (_kept.Length < maxChars)
            {
                Append(buffer, flush: false);
            }
        }

        private void Append(ReadOnlySpan<byte> bytes, bool flush)
        {
            int needed = _decoder.GetCharCount(bytes, flush);
            if (_chars.Length < needed)
            {
                _chars = new char[Math.Max(needed, Math.Min(maxChars, 16 * 1024))];
            }

            int decoded = _decoder.GetChars(bytes, _chars, flush);
            _kept.Append(_chars, 0, Math.Min(decoded, maxChars - _kept.Length));
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

/// <summary>Temporary files that delete themselves when closed: large mails never sit in memory.</summary>
public static class TemporaryFile
{
    public static FileStream Create() => new(
        Path.Combine(Path.GetTempPath(), "mailgun-inbound-" + Guid.NewGuid().ToString("N") + ".tmp"),
        FileMode.CreateNew,
        FileAccess.ReadWrite,
        FileShare.None,
        bufferSize: 64 * 1024,
        FileOptions.DeleteOnClose | FileOptions.Asynchronous);
}
