namespace MailgunFunctions.Inbound;

/// <summary>
/// A raw MIME message measured before MimeKit parses it, in one pass over its bytes with no allocation per part or header.
/// MimeKit builds an object per part (100,000 tiny parts cost some 240 MB) and its header parser slows down with the square
/// of a folded header's length (a folded 2 MB header took 35 s, 4 MB 143 s), so a message over these limits is not handed to
/// it: its reply is stored from the top-level headers and Mailgun's fields, with the limit it broke, and the raw payload
/// keeps every byte. The limits are far above real mail: replies have a few parts and a few dozen headers of some KB.
/// </summary>
public static class MimeLimits
{
    /// <summary>Parts (lines that open a multipart boundary) of one message.</summary>
    public const int MaxParts = 1000;

    /// <summary>One header field, its folded continuation lines included.</summary>
    public const int MaxHeaderFieldBytes = 64 * 1024;

    /// <summary>All header blocks of the message and its parts together.</summary>
    public const int MaxHeaderBytes = 1024 * 1024;

    /// <summary>Header fields of the message and its parts together.</summary>
    public const int MaxHeaderFields = 20_000;

    /// <summary>What a scan found: the first limit broken (null: none), and whether the top-level header block stayed within the limits.</summary>
    public sealed record Shape(string? Problem, bool TopHeadersWithinLimits);

    /// <summary>
    /// Scans <paramref name="mime"/> from its current position to its end and puts it back where it was. Boundaries are not
    /// resolved (that needs a parser): any line starting with "--" and a visible character counts as one, which can only
    /// overcount, so a real message is never refused for it.
    /// </summary>
    public static async Task<Shape> ScanAsync(Stream mime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mime);
        long start = mime.Position;
        var scan = new Scanner();
        byte[] buffer = new byte[64 * 1024];
        int read;
        while (scan.Problem is null && (read = await mime.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            scan.Feed(buffer.AsSpan(0, read));
        }

        scan.End();
        mime.Position = start;
        return new Shape(scan.Problem, scan.Problem is null || !scan.InTopHeaders);
    }

    private sealed class Scanner
    {
        private bool _inHeaders = true;
        private bool _lineStart = true;
        private int _lineLength;
        private byte _first;
        private byte _second;
        private byte _third;
        private bool _endsWithDashes;
        private byte _previous;
        private byte _beforePrevious;
        private long _fieldBytes;
        private long _headerBytes;
        private int _fields;
        private int _parts;

        public string? Problem { get; private set; }

        /// <summary>Still in the message's own header block (nothing after its first empty line was read).</summary>
        public bool InTopHeaders { get; private set; } = true;

        public void Feed(ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes)
            {
                if (b == (byte)'\n')
                {
                    EndLine();
                    if (Problem is not null)
                    {
                        return;
                    }

                    continue;
                }

                if (b == (byte)'\r')
                {
                    continue;
                }

                if (_lineStart)
                {
                    _first = b;
                    _lineStart = false;
                }
                else if (_lineLength == 1)
                {
                    _second = b;
                }
                else if (_lineLength == 2)
                {
                    _third = b;
                }

                _beforePrevious = _previous;
                _previous = b;
                _lineLength++;
                if (_inHeaders && (_first is (byte)' ' or (byte)'\t' ? _fieldBytes : 0) + _lineLength > MaxHeaderFieldBytes)
                {
                    Problem = $"a header field over {MaxHeaderFieldBytes / 1024} KiB";
                    return;
                }
            }
        }

        public void End()
        {
            if (Problem is null && !_lineStart)
            {
                EndLine();
            }
        }

        private void EndLine()
        {
            _endsWithDashes = _lineLength >= 4 && _previous == (byte)'-' && _beforePrevious == (byte)'-';
            if (_inHeaders)
            {
                if (_lineLength == 0)
                {
                    _inHeaders = false;
                    InTopHeaders = false;
                }
                else
                {
                    bool continuation = _first is (byte)' ' or (byte)'\t';
                    _fieldBytes = continuation ? _fieldBytes + _lineLength : _lineLength;
                    _fields += continuation ? 0 : 1;
                    _headerBytes += _lineLength;
                    Problem = _headerBytes > MaxHeaderBytes ? $"more than {MaxHeaderBytes / 1048576} MiB of headers"
                        : _fields > MaxHeaderFields ? $"more than {MaxHeaderFields} header fields"
                        : null;
                }
            }
            else if (_lineLength >= 3 && _first == (byte)'-' && _second == (byte)'-' && _third is not ((byte)' ' or (byte)'\t'))
            {
                // A boundary: a part's headers follow (not after a closing boundary "--b--", where the epilogue follows).
                _parts++;
                _inHeaders = !_endsWithDashes;
                _fieldBytes = 0;
                Problem = _parts > MaxParts ? $"more than {MaxParts} MIME parts" : null;
            }

            _lineStart = true;
            _lineLength = 0;
            _previous = _beforePrevious = 0;
        }
    }
}
