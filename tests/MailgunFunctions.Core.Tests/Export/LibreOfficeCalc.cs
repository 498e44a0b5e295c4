using System.Diagnostics;
using System.Xml.Linq;

namespace MailgunFunctions.Tests.Export;

/// <summary>
/// A real spreadsheet engine for the CSV tests: Debian's LibreOffice (<c>apt-get install -y libreoffice-calc-nogui</c>, which
/// <c>.ci/run</c> does) converts CSV files to flat OpenDocument (.fods) headless, importing them as a person opening the
/// file would, with the riskiest import options on: formulas evaluated, spaces trimmed, special numbers detected.
/// </summary>
internal static class LibreOfficeCalc
{
    public const string Soffice = "/usr/bin/soffice";

    private static readonly XNamespace Table = "urn:oasis:names:tc:opendocument:xmlns:table:1.0";
    private static readonly XNamespace Office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0";
    private static readonly XNamespace Text = "urn:oasis:names:tc:opendocument:xmlns:text:1.0";

    /// <summary>Fails the test (never skips it) when LibreOffice is missing, as the browser test does for Chromium.</summary>
    public static void RequireInstalled() =>
        Assert.That(File.Exists(Soffice), Is.True, "LibreOffice is needed: apt-get install -y libreoffice-calc-nogui (the test command's CI script, .ci/run, installs it)");

    /// <summary>One cell of the converted sheet: its text, and its formula when the engine made it one.</summary>
    public sealed record Cell(string Text, string? Formula, string? ValueType);

    /// <summary>
    /// Imports each CSV with <paramref name="separator"/> (UTF-8, double quote as text delimiter) and returns its rows.
    /// Import options (LibreOffice's CSV filter tokens): 7 quoted field as text = false, 8 detect special numbers = true,
    /// 11 trim spaces = true, 13 evaluate formulas = true.
    /// </summary>
    public static async Task<Dictionary<string, List<List<Cell>>>> ImportAsync(char separator, IReadOnlyDictionary<string, string> csvFiles)
    {
        RequireInstalled();
        string work = Path.Combine(Path.GetTempPath(), "lo-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(work);
        try
        {
            var inputs = new List<string>();
            foreach (var (name, content) in csvFiles)
            {
                string path = Path.Combine(work, name + ".csv");
                await File.WriteAllTextAsync(path, content, new System.Text.UTF8Encoding(false));
                inputs.Add(path);
            }

            var start = new ProcessStartInfo(Soffice)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                // A private profile, so parallel or earlier runs never share (or lock) one.
                ArgumentList =
                {
                    "-env:UserInstallation=file://" + Path.Combine(work, "profile"), "--headless", "--norestore",
                    "--infilter=CSV:" + (int)separator + ",34,76,1,,1033,false,true,false,false,true,-1,true",
                    "--convert-to", "fods", "--outdir", Path.Combine(work, "out"),
                },
            };
            foreach (string input in inputs)
            {
                start.ArgumentList.Add(input);
            }

            using var process = Process.Start(start)!;
            // A guard against a hung converter, not a measurement.
            using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            string output = await process.StandardOutput.ReadToEndAsync(guard.Token) + await process.StandardError.ReadToEndAsync(guard.Token);
            await process.WaitForExitAsync(guard.Token);
            Assert.That(process.ExitCode, Is.Zero, "soffice failed: " + output);

            var sheets = new Dictionary<string, List<List<Cell>>>();
            foreach (var name in csvFiles.Keys)
            {
                string fods = Path.Combine(work, "out", name + ".fods");
                Assert.That(File.Exists(fods), Is.True, $"soffice wrote no {name}.fods: {output}");
                sheets[name] = Rows(XDocument.Load(fods));
            }

            return sheets;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static List<List<Cell>> Rows(XDocument document) =>
        document.Descendants(Table + "table-row")
            .Select(row => row.Elements(Table + "table-cell")
                .SelectMany(cell => Enumerable.Repeat(
                    new Cell(
                        string.Join("\n", cell.Elements(Text + "p").Select(p => p.Value)),
                        (string?)cell.Attribute(Table + "formula"),
                        (string?)cell.Attribute(Office + "value-type")),
                    // Runs of equal (usually empty) cells are written once with a repeat count.
                    Math.Min((int?)cell.Attribute(Table + "number-columns-repeated") ?? 1, 64)))
                .ToList())
            .ToList();
}
