using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;
using MailgunFunctions.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Classification;

/// <summary>
/// real-world-bounces.jsonl: published answers (provider error references, MTA sources, filters and blocklists,
/// Mailgun's documented reasons), each with its source, the cause it states and the expected DND effect decided from the
/// platform's rules (docs/classification.md). The classifier is measured on all of it against its accuracy targets.
/// </summary>
public class RealWorldCorpusTests
{
    private static readonly Lazy<IReadOnlyList<JObject>> Lines = new(() =>
        ClassifierAccuracy.Load(Path.Combine(AppContext.BaseDirectory, "Classification", "real-world-bounces.jsonl")));

    private static readonly Lazy<ClassifierAccuracy> Measured = new(() => ClassifierAccuracy.Measure(new BounceClassifier(), Lines.Value));

    [Test]
    public void Corpus_is_large_sourced_and_labelled()
    {
        var lines = Lines.Value;
        Assert.Multiple(() =>
        {
            Assert.That(lines, Has.Count.GreaterThanOrEqualTo(500));
            Assert.That(lines.Select(l => (string?)l["name"]), Is.Unique);
            Assert.That(lines.Select(l => (string?)l["source"]), Has.All.Not.Null.And.All.Not.Empty);
            Assert.That(lines.Select(l => (string?)l["cause"]).Distinct(), Is.SubsetOf(ClassifierAccuracy.Causes));
            Assert.That(lines.Select(l => (string?)l["expect"]).Distinct(), Is.SubsetOf(new[] { "none", "temporary", "permanent", "locked" }));
            // Held out on purpose (the held-out evaluation corpus comes from there): no line may come from sisimai.
            Assert.That(lines.Select(l => ((string)l["source"]!).ToLowerInvariant()), Has.None.Contains("sisimai"));
            // The labels follow the platform's rules, whatever the classifier says: a sender-side answer never expects a DND.
            Assert.That(lines.Where(l => (string?)l["cause"] == "sender").Select(l => (string?)l["expect"]), Has.All.EqualTo("none"));
            Assert.That(lines.Where(l => (string?)l["cause"] == "expiry").Select(l => (string?)l["expect"]), Has.All.EqualTo("temporary"));
        });
    }

    [Test]
    public void Dnd_effect_is_right_on_at_least_97_percent_and_sender_side_false_dnd_is_at_most_2_percent()
    {
        var m = Measured.Value;
        string misses = string.Join(Environment.NewLine, m.Outcomes.Where(o => !o.Correct)
            .Select(o => $"  {o.Name}: expected {o.Expected.ToProductName()}, got {o.Actual.Effect.ToProductName()} ({o.Actual.Rule}) - {o.Actual.Explanation}"));
        TestContext.Out.WriteLine(m.Report());
        TestContext.Out.WriteLine("Misses:" + Environment.NewLine + misses);
        Assert.Multiple(() =>
        {
            Assert.That(m.Overall, Is.GreaterThanOrEqualTo(0.97), m.Report() + misses);
            Assert.That(m.SenderSideFalseDnd, Is.LessThanOrEqualTo(0.02), m.Report() + misses);
            Assert.That(m.AddressFailuresMissed, Is.LessThanOrEqualTo(0.03), m.Report() + misses);
        });
    }

    [TestCase(DndState.None)]
    [TestCase(DndState.Temporary)]
    [TestCase(DndState.Permanent)]
    public void Each_dnd_effect_has_precision_and_recall_of_at_least_95_percent(DndState effect)
    {
        var (precision, recall, expected, _) = Measured.Value.For(effect);
        Assert.Multiple(() =>
        {
            Assert.That(expected, Is.GreaterThanOrEqualTo(25), "the corpus holds enough answers of this effect to measure it");
            Assert.That(precision, Is.GreaterThanOrEqualTo(0.95), Measured.Value.Report());
            Assert.That(recall, Is.GreaterThanOrEqualTo(0.95), Measured.Value.Report());
        });
    }

    [Test]
    public void The_measurement_counts_what_it_says()
    {
        // A classifier that gives every failure a permanent DND: every sender-side answer is a false DND, no address is missed.
        var m = ClassifierAccuracy.Measure(new FixedEffect(BounceCategory.HardBounce), Lines.Value);
        Assert.Multiple(() =>
        {
            Assert.That(m.SenderSideFalseDnd, Is.EqualTo(1));
            Assert.That(m.AddressFailuresMissed, Is.EqualTo(0));
            Assert.That(m.For(DndState.Permanent).Recall, Is.EqualTo(1));
            Assert.That(m.Overall, Is.EqualTo((double)Lines.Value.Count(l => (string?)l["expect"] == "permanent") / Lines.Value.Count));
        });
    }

    private sealed class FixedEffect(BounceCategory category) : IEventClassifier
    {
        public MailgunFunctions.Classification.Classification Classify(MailgunFunctions.Events.MailgunEvent e) =>
            new(category, "fixed", "fixed");
    }
}
