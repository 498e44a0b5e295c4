using System.Text;
using MailgunFunctions.MailgunApi;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Export;

/// <summary>
/// The CSV form of a suppression list: Mailgun's own field names as columns, RFC 4180 quoting, CRLF line ends,
/// UTF-8 without BOM. Cells a spreadsheet would run as a formula are neutralised with a leading single quote,
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
    /// Neutralises a value a spreadsheet would evaluate (OWASP "CSV injection"): a leading <c>= + - @</c>, tab or CR
    /// gets a single quote in front. A value that already starts with a quote gets one too, so stripping exactly one
    /// leading quote on reading restores every value, including addresses that really start with one of these.
    /// </summary>
    public static string Neutralise(string value) =>
        value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' or '\'' ? "'" + value : value;

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

    internal static string Restore(string cell) => cell.StartsWith('\'') ? cell[1..] : cell;

    private static void AppendCell(StringBuilder line, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        string safe = Neutralise(value);
        // RFC 4180: fields with a comma, a double quote or a line break are enclosed in double quotes, inner quotes doubled.
        if (safe.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            line.Append(safe);
            return;
        }

        line.Append('"').Append(safe.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
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
