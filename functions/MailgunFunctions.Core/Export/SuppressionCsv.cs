using System.Text;
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
        var line = new StringBuilder(128);
        void Cell(string? value, bool last = false)
        {
            AppendCell(line, value);
            line.Append(last ? "\r\n" : ",");
        }

        switch (list)
        {
            case SuppressionList.Bounces:
                Cell(record.Address); Cell(record.Code); Cell(record.Error); Cell(record.CreatedAt, last: true);
                break;
            case SuppressionList.Complaints:
                Cell(record.Address); Cell(record.CreatedAt, last: true);
                break;
            case SuppressionList.Unsubscribes:
                // Tags as a JSON array: a tag may itself hold commas or semicolons, and ["*"] (all mail) stays recognisable.
                Cell(record.Address); Cell(record.Tags.Count == 0 ? null : JsonConvert.SerializeObject(record.Tags)); Cell(record.CreatedAt, last: true);
                break;
            case SuppressionList.Allowlist:
                Cell(record.Address); Cell(record.Type); Cell(record.Error); Cell(record.CreatedAt, last: true);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(list), list, null);
        }

        return line.ToString();
    }

    /// <summary>
    /// Any row as a CSV line, CRLF included, with the same quoting and formula neutralisation as the lists (used for
    /// <c>dnd.csv</c> and the review list, so the rule lives in one place).
    /// </summary>
    public static string Line(params IReadOnlyList<string?> cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        var line = new StringBuilder(128);
        for (int i = 0; i < cells.Count; i++)
        {
            if (i > 0)
            {
                line.Append(',');
            }

            AppendCell(line, cells[i]);
        }

        return line.Append("\r\n").ToString();
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
        var rows = new CsvRowReader(text);
        var header = await rows.ReadRowAsync(cancellationToken).ConfigureAwait(false);
        if (header is null)
        {
            yield break;
        }

        if (!string.Equals(string.Join(',', header), Header(list), StringComparison.Ordinal))
        {
            throw new InvalidDataException($"Not a {list.PathSegment()} export: header is '{string.Join(',', header)}'.");
        }

        while (await rows.ReadRowAsync(cancellationToken).ConfigureAwait(false) is { } cells)
        {
            string? At(int i) => i < cells.Count && cells[i].Length > 0 ? Restore(cells[i]) : null;
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

    private static void AppendCell(StringBuilder line, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        // Every text cell is quoted (RFC 4180 allows it; inner quotes doubled): a spreadsheet in a locale whose separator is
        // ';' or a tab would otherwise split a bounce text at it, and the piece after it could start a formula.
        line.Append('"').Append(Neutralise(value).Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
    }
}

/// <summary>An RFC 4180 row reader: quoted fields may hold commas, doubled quotes and line breaks.</summary>
internal sealed class CsvRowReader(TextReader reader)
{
    private readonly char[] _buffer = new char[16 * 1024];
    private int _position;
    private int _length;

    public async ValueTask<List<string>?> ReadRowAsync(CancellationToken cancellationToken)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        bool inQuotes = false, sawAnything = false;
        while (true)
        {
            int read = await NextAsync(cancellationToken).ConfigureAwait(false);
            if (read < 0)
            {
                if (!sawAnything)
                {
                    return null;
                }

                cells.Add(cell.ToString());
                return cells;
            }

            char c = (char)read;
            sawAnything = true;
            if (inQuotes)
            {
                if (c != '"')
                {
                    cell.Append(c);
                }
                else if (await PeekAsync(cancellationToken).ConfigureAwait(false) == '"')
                {
                    _position++;
                    cell.Append('"');
                }
                else
                {
                    inQuotes = false;
                }

                continue;
            }

            switch (c)
            {
                case '"' when cell.Length == 0:
                    inQuotes = true;
                    break;
                case ',':
                    cells.Add(cell.ToString());
                    cell.Clear();
                    break;
                case '\r':
                    // Outside quotes a CR only starts the CRLF line end.
                    break;
                case '\n':
                    cells.Add(cell.ToString());
                    return cells;
                default:
                    cell.Append(c);
                    break;
            }
        }
    }

    private async ValueTask<int> NextAsync(CancellationToken cancellationToken)
    {
        int c = await PeekAsync(cancellationToken).ConfigureAwait(false);
        if (c >= 0)
        {
            _position++;
        }

        return c;
    }

    private async ValueTask<int> PeekAsync(CancellationToken cancellationToken)
    {
        if (_position == _length)
        {
            _length = await reader.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
            _position = 0;
            if (_length == 0)
            {
                return -1;
            }
        }

        return _buffer[_position];
    }
}
