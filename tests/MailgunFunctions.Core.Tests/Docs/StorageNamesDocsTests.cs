using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using MailgunFunctions.Webhooks;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;

namespace MailgunFunctions.Tests.Docs;

/// <summary>
/// The storage tables of the docs (a Markdown table whose header starts with "Name | Kind"; docs/storage.md has the
/// complete one) name every table, queue and blob container of <see cref="StorageNames"/> with its kind, and nothing
/// that is gone. Names made per day are written as a pattern, e.g. <c>WebhookTokens{yyyyMMdd}</c>.
/// </summary>
public partial class StorageNamesDocsTests
{
    /// <summary>Every storage name of the code, with its kind read from the constant's name.</summary>
    private static IReadOnlyList<(string Constant, string Name, string Kind)> CodeNames() => typeof(StorageNames)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f is { IsLiteral: true } && f.FieldType == typeof(string)
            && f.Name is not (nameof(StorageNames.ConnectionSetting) or nameof(StorageNames.ShardConnectionPrefix)))
        .Select(f => (f.Name, (string)f.GetRawConstantValue()!, KindOf(f.Name)))
        .ToList();

    private static string KindOf(string constant) =>
        constant.EndsWith("Queue", StringComparison.Ordinal) ? "queue"
        : constant.EndsWith("Table", StringComparison.Ordinal) ? "table"
        : constant.EndsWith("Container", StringComparison.Ordinal) ? "container"
        : throw new InvalidOperationException($"StorageNames.{constant}: name it ...Queue, ...Table or ...Container so its kind is known");

    /// <summary>Documented names: the first cell's code span of each row of a "Name | Kind" table.</summary>
    private static IReadOnlyList<(string Name, string Kind, string Where)> DocumentedNames() => MarkdownDocs
        .TableRows(MarkdownDocs.DocumentationPages())
        .Where(r => r.Header.Count >= 2 && r.Header[0] == "Name" && r.Header[1] == "Kind")
        .SelectMany(r => r.FirstCellCodeSpans.Select(name => (name, r.Cells[1], r.Where)))
        .ToList();

    /// <summary>A documented name as the code's constant: a per-day pattern <c>Prefix{format}</c> stands for its prefix.</summary>
    private static string CodeForm(string documented) => PerDayPattern().Match(documented) is { Success: true } m ? m.Groups[1].Value : documented;

    [Test]
    public void Every_storage_name_of_the_code_is_documented_with_its_kind()
    {
        var documented = DocumentedNames();
        var code = CodeNames();

        var missing = code.Where(c => !documented.Any(d => CodeForm(d.Name) == c.Name))
            .Select(c => $"{c.Name} ({c.Kind}, StorageNames.{c.Constant})").ToList();
        var wrongKind = documented
            .SelectMany(d => code.Where(c => c.Name == CodeForm(d.Name) && !d.Kind.Contains(c.Kind, StringComparison.OrdinalIgnoreCase))
                .Select(c => $"{d.Where}: {d.Name} is a {c.Kind}, documented as '{d.Kind}'"))
            .ToList();

        Assert.Multiple(() =>
        {
            Assert.That(code, Has.Count.GreaterThan(20), "the scan finds StorageNames");
            Assert.That(missing, Is.Empty, "Storage names the code uses but no \"Name | Kind\" table of the docs lists (add them to docs/storage.md):\n  " + string.Join("\n  ", missing));
            Assert.That(wrongKind, Is.Empty, string.Join("\n", wrongKind));
        });
    }

    [Test]
    public void Every_documented_storage_name_still_exists()
    {
        var code = CodeNames().Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var documented = DocumentedNames();

        var stale = documented.Where(d => !code.Contains(CodeForm(d.Name))).Select(d => $"{d.Where}: {d.Name}").ToList();

        Assert.Multiple(() =>
        {
            Assert.That(documented, Has.Count.GreaterThan(20), "the scan finds the storage tables of the docs");
            Assert.That(stale, Is.Empty, "Documented storage names that StorageNames no longer has:\n  " + string.Join("\n  ", stale));
        });
    }

    [Test]
    public void The_per_day_token_tables_are_documented_as_the_code_names_them()
    {
        var documented = DocumentedNames().Select(d => PerDayPattern().Match(d.Name)).Where(m => m.Success)
            .Where(m => m.Groups[1].Value == StorageNames.WebhookTokensTable).ToList();
        var day = new DateTimeOffset(2026, 3, 9, 23, 30, 0, TimeSpan.FromHours(-2));

        Assert.That(documented, Is.Not.Empty, "WebhookTokens is documented with its per-day pattern");
        foreach (var pattern in documented)
        {
            string format = pattern.Groups[2].Value;
            Assert.That(ReplayGuard.TableFor(day), Is.EqualTo(StorageNames.WebhookTokensTable + day.UtcDateTime.ToString(format, CultureInfo.InvariantCulture)),
                $"the pattern {{{format}}} (UTC day of the signed timestamp) names the table ReplayGuard uses");
        }
    }

    [GeneratedRegex(@"^([A-Za-z][A-Za-z0-9-]*)\{([A-Za-z]+)\}$")]
    private static partial Regex PerDayPattern();
}
