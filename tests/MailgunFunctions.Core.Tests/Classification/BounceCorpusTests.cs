using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;
using MailgunFunctions.Events;
using MailgunFunctions.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Classification;

/// <summary>
/// bounce-corpus.jsonl: real-world answers of major mailbox providers, gateways, blocklists, Mailgun's own codes and
/// carrier codes, one Mailgun <c>event-data</c> per line (plus "name", "expect" = "category/dnd" and an optional "rule"),
/// run through the parser and the classifier exactly as the pipeline does.
/// </summary>
public class BounceCorpusTests
{
    private static readonly BounceClassifier Classifier = new();

    private static readonly Lazy<IReadOnlyList<JObject>> Lines = new(() =>
        File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Classification", "bounce-corpus.jsonl"))
            .Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(JObject.Parse)
            .ToArray());

    public static IEnumerable<TestCaseData> Corpus() =>
        Lines.Value.Select(line => new TestCaseData(line).SetName($"Corpus: {(string)line["name"]!}"));

    /// <summary>Failed events whose signals the CLI can pass as flags (no delayed-bounce or last-* fields).</summary>
    public static IEnumerable<TestCaseData> CliExpressibleFailures() =>
        Lines.Value
            .Where(l => (string?)l["event"] == "failed" && l["flags"] is null && l["delivery-status"] is JObject ds
                && ds["bounce-code"] is null && ds["last-code"] is null && ds["bounce-type"] is null)
            .Select(line => new TestCaseData(line).SetName($"Same answer from CLI flags: {(string)line["name"]!}"));

    [TestCaseSource(nameof(Corpus))]
    public void Corpus_line_gets_the_expected_category_and_dnd(JObject line)
    {
        var result = Classifier.Classify(BounceCorpusLine.ToEvent(line));

        string[] expected = ((string)line["expect"]!).Split('/');
        Assert.Multiple(() =>
        {
            Assert.That(result.Category.ToProductName(), Is.EqualTo(expected[0]), result.Explanation);
            Assert.That(result.Effect.ToProductName(), Is.EqualTo(expected[1]), result.Explanation);
            if (line["rule"] is { } rule)
            {
                Assert.That(result.Rule, Is.EqualTo((string)rule!), result.Explanation);
            }

            Assert.That(result.Explanation, Is.Not.Empty);
        });
    }

    [TestCaseSource(nameof(CliExpressibleFailures))]
    public void Cli_flags_give_the_same_answer_and_explanation_as_the_pipeline(JObject line)
    {
        var ds = (JObject)line["delivery-status"]!;
        var flags = new ClassificationInput
        {
            Code = (int?)ds["code"],
            EnhancedCode = (string?)ds["enhanced-code"],
            Message = (string?)ds["message"],
            Severity = (string?)line["severity"],
            Reason = (string?)line["reason"],
        };

        Assert.That(Classifier.Classify(flags), Is.EqualTo(Classifier.Classify(BounceCorpusLine.ToEvent(line))));
    }

    [Test]
    public void Corpus_is_large_and_covers_every_category()
    {
        var categories = Lines.Value.Select(l => ((string)l["expect"]!).Split('/')[0]).ToHashSet();
        Assert.Multiple(() =>
        {
            Assert.That(Lines.Value, Has.Count.GreaterThanOrEqualTo(60));
            Assert.That(categories, Is.EquivalentTo(Enum.GetValues<BounceCategory>().Select(c => c.ToProductName())));
            Assert.That(Lines.Value.Select(l => (string)l["name"]!), Is.Unique);
        });
    }
}
