using FsCheck;
using FsCheck.Fluent;
using MailgunFunctions.Testing;
using MailgunFunctions.Export;
using MailgunFunctions.MailgunApi;

namespace MailgunFunctions.Tests.Export;

public class SuppressionCsvTests
{
    [TestCase("=1+1", "'=1+1")]
    [TestCase("+33 1 23", "'+33 1 23")]
    [TestCase("-2", "'-2")]
    [TestCase("@SUM(A1)", "'@SUM(A1)")]
    [TestCase("\tx", "'\tx")]
    [TestCase("\rx", "'\rx")]
    [TestCase("'x", "''x")]
    [TestCase("a=b@example.net", "a=b@example.net")]
    [TestCase("", "")]
    public void Neutralise_prefixes_formula_triggers_with_a_quote(string value, string expected) =>
        Assert.That(SuppressionCsv.Neutralise(value), Is.EqualTo(expected));

    [TestCase(" =1+1", "' =1+1", TestName = "Neutralise: a formula after a leading space")]
    [TestCase("\u00a0=1+1", "'\u00a0=1+1", TestName = "Neutralise: a formula after a no-break space")]
    [TestCase("\u3000=1+1", "'\u3000=1+1", TestName = "Neutralise: a formula after an ideographic space")]
    [TestCase("\u200b=1+1", "'\u200b=1+1", TestName = "Neutralise: a formula after a zero-width space")]
    [TestCase("\n=1+1", "'\n'=1+1", TestName = "Neutralise: a formula after a line feed")]
    [TestCase("\uff1d1+1", "'\uff1d1+1", TestName = "Neutralise: full-width equals sign")]
    [TestCase("\uff0b1", "'\uff0b1", TestName = "Neutralise: full-width plus sign")]
    [TestCase("\uff0d1", "'\uff0d1", TestName = "Neutralise: full-width hyphen-minus")]
    [TestCase("\uff20SUM(1)", "'\uff20SUM(1)", TestName = "Neutralise: full-width commercial at")]
    [TestCase("\ufe661", "'\ufe661", TestName = "Neutralise: small equals sign")]
    [TestCase("\u22121", "'\u22121", TestName = "Neutralise: minus sign")]
    [TestCase("a =1", "a =1", TestName = "Neutralise: a formula character later in the value is text")]
    public void Neutralise_looks_past_leading_white_space_and_knows_full_width_formula_characters(string value, string expected) =>
        Assert.That(SuppressionCsv.Neutralise(value), Is.EqualTo(expected));

    [TestCase("550;1+1")]
    [TestCase("a\t1+1")]
    [TestCase("plain@example.net")]
    [TestCase("550")]
    public void Every_text_cell_is_quoted_so_no_locale_separator_splits_it(string value)
    {
        string line = SuppressionCsv.Line(value, "x");
        Assert.That(line, Is.EqualTo("\"" + value + "\",\"x\"\r\n"));
    }

    [Test]
    public void Row_quotes_every_cell_and_doubles_inner_quotes_as_RFC_4180_says()
    {
        var record = new SuppressionRecord("a@example.net", "550", "said \"no\", twice\nreally", "Fri, 01 Jan 2021 10:00:00 UTC", []);
        Assert.That(SuppressionCsv.Row(SuppressionList.Bounces, record),
            Is.EqualTo("\"a@example.net\",\"550\",\"said \"\"no\"\", twice\nreally\",\"Fri, 01 Jan 2021 10:00:00 UTC\"\r\n"));
    }

    [FsCheck.NUnit.Property(MaxTest = 200)]
    public Property Any_record_survives_a_write_and_read_back()
    {
        var text = ArbMap.Default.GeneratorFor<NonNull<string>>().Select(s => s.Get);
        var record = from address in text.Where(s => s.Length > 0)
                     from code in text
                     from error in text
                     from created in text
                     from tags in Gen.ListOf(text.Where(s => s.Length > 0))
                     select new SuppressionRecord(address, Empty(code), Empty(error), Empty(created), tags.ToArray());
        return Prop.ForAll(record.ToArbitrary(), r =>
        {
            foreach (var list in SuppressionLists.All)
            {
                var expected = list switch
                {
                    SuppressionList.Bounces => r with { Tags = [] },
                    SuppressionList.Complaints => r with { Code = null, Error = null, Tags = [] },
                    SuppressionList.Unsubscribes => r with { Code = null, Error = null },
                    _ => r with { Code = null, Tags = [], Type = r.Code },
                };
                var written = list == SuppressionList.Allowlist ? r with { Type = r.Code } : r;
                var back = ReadBack(list, SuppressionCsv.Header(list) + "\r\n" + SuppressionCsv.Row(list, written)).Single();
                if (back.Address != expected.Address || back.Code != expected.Code || back.Error != expected.Error
                    || back.CreatedAt != expected.CreatedAt || back.Type != expected.Type || !back.Tags.SequenceEqual(expected.Tags))
                {
                    return false;
                }
            }

            return true;
        });
    }

    [FsCheck.NUnit.Property(MaxTest = 2000)]
    public Property Values_made_of_separators_quotes_and_formula_characters_read_back_exactly()
    {
        // The characters the neutralisation reacts to, densely mixed, so quotes land next to separators and each other.
        var alphabet = Gen.Elements(';', '\t', '\n', '\r', '=', '+', '-', '@', '\'', '"', ',', ' ', 'a', '\uff1d', '\u00a0', '\u200b');
        var value = Gen.ArrayOf(alphabet).Select(chars => new string(chars)).Where(v => v.Length > 0);
        return Prop.ForAll(value.ToArbitrary(), v =>
        {
            var back = ReadBack(SuppressionList.Bounces, SuppressionCsv.Header(SuppressionList.Bounces) + "\r\n"
                + SuppressionCsv.Row(SuppressionList.Bounces, new SuppressionRecord(v, v, v, v, []))).Single();
            return back.Address == v && back.Code == v && back.Error == v && back.CreatedAt == v;
        });
    }

    [TestCase("x\n=1+1", "x\n'=1+1")]
    [TestCase("550 5.1.1; =1+1", "550 5.1.1;' =1+1")]
    [TestCase("a\t@SUM(1)", "a\t'@SUM(1)")]
    [TestCase("a\r\n\uff1d1", "a\r\n'\uff1d1")]
    [TestCase("550 5.1.1 <a@b>; user unknown", "550 5.1.1 <a@b>; user unknown")]
    [TestCase("complaint; mailgun-suppression-bounces (hard-bounce)", "complaint; mailgun-suppression-bounces (hard-bounce)")]
    public void Neutralise_quotes_a_formula_where_a_semicolon_a_tab_or_a_line_break_may_start_a_cell(string value, string expected) =>
        Assert.That(SuppressionCsv.Neutralise(value), Is.EqualTo(expected));

    private static string? Empty(string s) => s.Length == 0 ? null : s;

    private static List<SuppressionRecord> ReadBack(SuppressionList list, string csv)
    {
        var records = new List<SuppressionRecord>();
        var enumerator = SuppressionCsv.ReadAsync(list, new StringReader(csv)).GetAsyncEnumerator();
        while (enumerator.MoveNextAsync().AsTask().GetAwaiter().GetResult())
        {
            records.Add(enumerator.Current);
        }

        return records;
    }
}
