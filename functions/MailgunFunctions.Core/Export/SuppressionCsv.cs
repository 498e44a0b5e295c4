using System.Text;
using CsvHelper;
using MailgunFunctions.MailgunApi;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Export;

/// <summary>
/// The CSV form of a suppression list: Mailgun's own field names as columns, every text cell quoted (RFC 4180), CRLF line
/// ends, UTF-8 without BOM. Cells a spreadsheet would run as a formula are neutralised with a leading single quote,
/// and <see cref="ReadAsync"/> undoes that exactly, so the reconciliation reads back what Mailgun gave.
/// </summary>
public static class SuppressionCsv
{
    /// <summary>The header row of a list's CSV, without the line end.</summary>
    public static string Header(SuppressionList list) => list switch
    {
        SuppressionList.Bounces => "address,code,error,created_at",
        SuppressionList.Complaints => "address,created_at",
        SuppressionList.Unsubscribes => "address,tags,created_at",
        SuppressionList.Allowlist => "value,type,reason,createdAt",
        _ => throw new ArgumentOutOfRangeException(nameof(list), list, null),
    };

    /// <summary>One record as a CSV line, CRLF included (RFC 4180).</summary>
    public static string Row(SuppressionList list, SuppressionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return list switch
        {
            SuppressionList.Bounces => Line(record.Address, record.Code, record.Error, record.CreatedAt),
            SuppressionList.Complaints => Line(record.Address, record.CreatedAt),
            // Tags as a JSON array: a tag may itself hold commas or semicolons, and ["*"] (all mail) stays recognisable.
            SuppressionList.Unsubscribes => Line(record.Address, record.Tags.Count == 0 ? null : JsonConvert.SerializeObject(record.Tags), record.CreatedAt),
            SuppressionList.Allowlist => Line(record.Address, record.Type, record.Error, record.CreatedAt),
            _ => throw new ArgumentOutOfRangeException(nameof(list), list, null),
        };
    }

    /// <summary>
    /// Any row as a CSV line, CRLF included, with the same quoting and formula neutralisation as the lists (used for
    /// <c>dnd.csv</c>, the review list and <c>mailgun-ops dnd list --csv</c>, so the rule lives in one place). The RFC 4180
    /// writing is CsvHelper's; what is ours is the neutralisation and that every text cell is quoted: a spreadsheet in a
    /// locale whose separator is <c>;</c> or a tab would otherwise split a bounce text at it, and the piece after it could
    /// start a formula.
    /// </summary>
    public static string Line(params ReadOnlySpan<string?> cells) => (t_lines ??= new LineFormatter()).Format(cells);

    /// <summary>
    /// Reads CSV rows (RFC 4180: quoted fields may hold commas, doubled quotes and line breaks) exactly as written, the
    /// neutralising quotes still in (<see cref="Restore"/> takes them out). Rows are read as they arrive, so a file of a
    /// million records is never held whole.
    /// </summary>
    internal static async IAsyncEnumerable<string[]> ReadRowsAsync(TextReader text, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var csv = CsvReader.Create(text, ReaderOptions, leaveOpen: true);
        await using (csv.ConfigureAwait(false))
        {
            while (await csv.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var cells = new string[csv.FieldCount];
                for (int i = 0; i < cells.Length; i++)
                {
                    cells[i] = csv.GetString(i);
                }

                yield return cells;
            }
        }
    }

    // Our files are comma-separated with a header we check ourselves: no separator detection, no header handling.
    private static readonly CsvReaderOptions ReaderOptions = new() { Separator = ',', HasHeader = false, AllowLineBreaksInQuotes = true, TrimWhitespace = false };

    // CsvHelper's own injection guard only looks at a field's first character; Neutralise also covers the places inside a
    // value where some spreadsheet starts a new cell, so the library's guard stays off and ours runs before it. One writer
    // formats the lines of files of different widths (a list, dnd.csv), hence no field-count check across lines.
    private static readonly CsvWriterOptions WriterOptions = new() { Separator = ',', NewLine = "\r\n", Quoting = CsvQuoting.WhenNeeded, Injection = CsvInjection.None, BufferSize = 4096, ValidateFieldCount = false };

    [ThreadStatic]
    private static LineFormatter? t_lines;

    /// <summary>One CsvHelper writer over a reused string buffer per thread: a line costs its string, not a writer and its buffer.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Lives as long as its thread; a string buffer holds no handle to release.")]
    private sealed class LineFormatter
    {
        private readonly StringWriter _text = new(System.Globalization.CultureInfo.InvariantCulture);
        private readonly CsvWriter _csv;

        public LineFormatter() => _csv = CsvWriter.Create(_text, WriterOptions, leaveOpen: true);

        public string Format(ReadOnlySpan<string?> cells)
        {
            foreach (string? cell in cells)
            {
                if (string.IsNullOrEmpty(cell))
                {
                    _csv.WriteField((string?)null, CsvQuoting.WhenNeeded);
                }
                else
                {
                    _csv.WriteField(Neutralise(cell), CsvQuoting.Always);
                }
            }

            _csv.EndRecord();
            _csv.Flush();
            var buffer = _text.GetStringBuilder();
            string line = buffer.ToString();
            buffer.Clear();
            return line;
        }
    }

    /// <summary>
    /// Neutralises a value a spreadsheet would evaluate (OWASP "CSV injection"). A single quote goes
    /// <list type="bullet">
    /// <item>in front of a value that starts with a formula character (<c>= + - @</c>, their full-width and small forms, the
    /// minus sign), with white space, a control or an invisible format character (spreadsheets that trim on import would
    /// otherwise meet a formula character next), or with a quote;</item>
    /// <item>right after a <c>;</c>, a tab or a line break inside the value when the next visible character is a formula
    /// character or a quote: a spreadsheet whose locale separates with <c>;</c> or a tab (or that breaks a quoted value at its
    /// line break, as LibreOffice does when the separators do not match) starts a new cell there.</item>
    /// </list>
    /// <see cref="Restore"/> removes exactly these quotes, so every value reads back as Mailgun gave it, including values
    /// that really hold a quote in those places.
    /// </summary>
    public static string Neutralise(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        StringBuilder? safe = null;
        if (NeedsQuotePrefix(value))
        {
            safe = new StringBuilder(value.Length + 4).Append('\'');
        }

        for (int i = 0; i < value.Length; i++)
        {
            safe?.Append(value[i]);
            if (StartsCell(value, i) && FormulaFollows(value, i + 1))
            {
                safe ??= new StringBuilder(value.Length + 4).Append(value, 0, i + 1);
                safe.Append('\'');
            }
        }

        return safe?.ToString() ?? value;
    }

    /// <summary>The inverse of <see cref="Neutralise"/>: one leading quote, and the quote right after each place that starts a cell.</summary>
    internal static string Restore(string cell)
    {
        int from = cell.StartsWith('\'') ? 1 : 0;
        if (cell.AsSpan(from).IndexOfAny(";\t\r\n") < 0)
        {
            return from == 0 ? cell : cell[1..];
        }

        var value = new StringBuilder(cell.Length);
        for (int i = from; i < cell.Length; i++)
        {
            value.Append(cell[i]);
            if (StartsCell(cell, i) && i + 1 < cell.Length && cell[i + 1] == '\'')
            {
                i++;
            }
        }

        return value.ToString();
    }

    /// <summary>Characters spreadsheets (Excel, LibreOffice, Google Sheets, also through IME input) start a formula with.</summary>
    private static bool IsFormulaStart(char c) => c is '=' or '+' or '-' or '@'
        or '\uFF1D' or '\uFF0B' or '\uFF0D' or '\uFF20' // full-width = + - @
        or '\uFE66' or '\uFE62' or '\uFE63' // small = + -
        or '\u2212'; // minus sign

    /// <summary>White space, controls and invisible format characters (zero-width space, BOM): trimmed or unseen by spreadsheets.</summary>
    private static bool IsInvisible(char c) =>
        char.IsWhiteSpace(c) || char.IsControl(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format;

    private static bool NeedsQuotePrefix(string value) =>
        value.Length > 0 && (value[0] == '\'' || IsFormulaStart(value[0]) || IsInvisible(value[0]));

    /// <summary>A <c>;</c>, a tab, or a line break (CR LF counts once, at its LF): where some spreadsheet starts a new cell.</summary>
    private static bool StartsCell(string text, int i) =>
        text[i] is ';' or '\t' or '\n' || (text[i] == '\r' && (i + 1 == text.Length || text[i + 1] != '\n'));

    /// <summary>Whether the first visible character from <paramref name="from"/> starts a formula (or is a quote, kept reversible).</summary>
    private static bool FormulaFollows(string text, int from)
    {
        for (int j = from; j < text.Length; j++)
        {
            char c = text[j];
            if (IsFormulaStart(c) || c == '\'')
            {
                return true;
            }

            if (c == ';' || !IsInvisible(c))
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>Reads back a CSV written by <see cref="Row"/>, header first, one record at a time.</summary>
    public static async IAsyncEnumerable<SuppressionRecord> ReadAsync(SuppressionList list, TextReader text, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        bool first = true;
        await foreach (var cells in ReadRowsAsync(text, cancellationToken).ConfigureAwait(false))
        {
            if (first)
            {
                first = false;
                if (!string.Equals(string.Join(',', cells), Header(list), StringComparison.Ordinal))
                {
                    throw new InvalidDataException($"Not a {list.PathSegment()} export: header is '{string.Join(',', cells)}'.");
                }

                continue;
            }

            string? At(int i) => i < cells.Length && cells[i].Length > 0 ? Restore(cells[i]) : null;
            yield return list switch
            {
                SuppressionList.Bounces => new SuppressionRecord(At(0) ?? "", At(1), At(2), At(3), []),
                SuppressionList.Complaints => new SuppressionRecord(At(0) ?? "", null, null, At(1), []),
                SuppressionList.Unsubscribes => new SuppressionRecord(At(0) ?? "", null, null, At(2),
                    At(1) is { } tags ? JArray.Parse(tags).Select(t => t.ToString()).ToArray() : []),
                _ => new SuppressionRecord(At(0) ?? "", null, At(2), At(3), [], At(1)),
            };
        }
    }
}
