namespace MailgunOps.Tests;

/// <summary>Every example in <c>--help</c> is a command line the CLI accepts: an option renamed or removed cannot leave a stale example behind.</summary>
public sealed class HelpExamplesParseTests
{
    private static IEnumerable<TestCaseData> Examples() =>
        OpsHelp.Examples.SelectMany(p => p.Value.Select(e => new TestCaseData(e).SetArgDisplayNames(e.Length > 60 ? e[..60] : e)));

    [TestCaseSource(nameof(Examples))]
    public void Example_parses_without_errors(string example)
    {
        var root = OpsCommands.Build(new OpsRuntime(TextWriter.Null, TextWriter.Null, null));
        // What the shell takes away: a comment, redirections, a pipe.
        string line = example.Split("    #", 2)[0];
        var words = new List<string>();
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(line, "\"([^\"]*)\"|(\\S+)"))
        {
            string word = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
            if (!m.Groups[1].Success && word is "<" or ">" or "|")
            {
                break;
            }

            words.Add(word);
        }

        Assert.That(words[0], Is.EqualTo(OpsHelp.ToolName));
        var parsed = root.Parse(words.Skip(1).ToArray());

        Assert.That(parsed.Errors.Select(e => e.Message), Is.Empty, example);
    }
}
