using MailgunFunctions.Export;
using MailgunFunctions.MailgunApi;

namespace MailgunFunctions.Tests.Export;

/// <summary>
/// The export's CSV files opened by a real spreadsheet engine (LibreOffice Calc), with comma and semicolon separators:
/// no cell may become a formula, whatever a remote mail server or a sender put in an address or a bounce text. A control
/// file with the same values written without neutralisation proves that the engine, with these import options, does
/// evaluate formulas (otherwise the test could pass for the wrong reason).
/// </summary>
[Category("Spreadsheet")]
public class CsvSpreadsheetTests
{
    /// <summary>Values a bounce text, an address or a tag can hold (a remote mail server writes the bounce text).</summary>
    internal static readonly string[] Hostile =
    [
        "=1+1", "+1+1", "-1+1", "@SUM(1,1)", " =1+1", "  =2+2", "\t=1+1", "\u00a0=1+1", "\u3000=1+1", "\u200b=1+1",
        "\uff1d1+1", "\uff0b1+1", "\uff0d1+1", "\uff20SUM(1)", "\ufe661+1", "\u22121+1",
        "550;=1+1", "a;=1+1;b", "a\t=1+1", "a,=1+1", "x\n=1+1", "\r\n=1+1", "=HYPERLINK(\"http://evil.example\",\"click\")",
        "'=1+1", "\"=1+1\"", "=cmd|' /C calc'!A0", "5.1.1;=1+1@example.net", "|=1+1",
    ];

    [TestCase(',')]
    [TestCase(';')]
    public async Task No_cell_of_an_exported_csv_is_a_formula_in_LibreOffice(char separator)
    {
        // The lists (Row) and our own tables (Line: dnd.csv, the review list) share one writer; both are opened.
        string lists = SuppressionCsv.Header(SuppressionList.Bounces) + "\r\n" + string.Concat(
            Hostile.Select(v => SuppressionCsv.Row(SuppressionList.Bounces, new SuppressionRecord(v + "@example.net", v, "550 " + v, v, []))));
        string ours = string.Concat(Hostile.Select(v => SuppressionCsv.Line(v, "permanent", v, v)));
        // Control: the same values as a careless writer puts them (RFC 4180 quoting only where a comma, quote or line break is).
        string control = string.Concat(Hostile.Select(v => Careless(v) + "," + Careless(v) + "\r\n"));

        var sheets = await LibreOfficeCalc.ImportAsync(separator, new Dictionary<string, string> { ["lists"] = lists, ["ours"] = ours, ["control"] = control });

        var formulas = sheets["lists"].Concat(sheets["ours"]).SelectMany(r => r).Where(c => c.Formula is not null).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(sheets["control"].SelectMany(r => r).Count(c => c.Formula is not null), Is.GreaterThan(0),
                "the control file must produce formulas, or the engine is not evaluating them and this test proves nothing");
            Assert.That(formulas.Select(c => $"{c.Formula} (shown as '{c.Text}')"), Is.Empty, $"separator '{separator}'");
            if (separator == ',')
            {
                // The file's own separator: every value arrives in a cell of its own (in a semicolon locale a line may stay whole).
                Assert.That(sheets["lists"].Skip(1).Select(r => r.Count(c => c.Text.Length > 0)), Is.All.EqualTo(4));
            }
        });
    }

    private static string Careless(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
