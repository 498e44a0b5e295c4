using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Testing;

/// <summary>
/// The classifier measured on tests/.../Classification/real-world-bounces.jsonl: published answers of mailbox providers,
/// MTAs, filters and blocklists, each with its source, the cause it states and the DND effect the platform's rules
/// give it ("expect"). Used by the accuracy test (which asserts the targets) and by the benchmark's report (which prints them).
/// </summary>
public sealed class ClassifierAccuracy
{
    /// <summary>The causes a corpus line may state; "sender" answers must never get a contact DND.</summary>
    public static readonly IReadOnlySet<string> Causes = new HashSet<string>(StringComparer.Ordinal)
    {
        "address", "recipient-block", "mailbox-full", "sender", "expiry", "transient", "transient-5xx",
        "mailgun-suppress", "mailgun-unsubscribe", "mailgun-complaint",
    };

    private ClassifierAccuracy(IReadOnlyList<Outcome> outcomes) => Outcomes = outcomes;

    /// <summary>One corpus line, what it expects and what the classifier said.</summary>
    public sealed record Outcome(string Name, string Source, string Cause, DndState Expected, Classification.Classification Actual)
    {
        public bool Correct => Actual.Effect == Expected;
    }

    public IReadOnlyList<Outcome> Outcomes { get; }

    public int Count => Outcomes.Count;

    /// <summary>Share of lines whose DND effect is the expected one.</summary>
    public double Overall => Rate(Outcomes, o => o.Correct);

    /// <summary>Share of sender-side answers (cause "sender") that get any contact DND: a contact silenced for nothing.</summary>
    public double SenderSideFalseDnd => Rate(Outcomes.Where(o => o.Cause == "sender").ToList(), o => o.Actual.Effect != DndState.None);

    /// <summary>Share of real address failures (cause "address", permanent answers) that get no DND at all.</summary>
    public double AddressFailuresMissed => Rate(Outcomes.Where(o => o.Cause == "address" && o.Expected == DndState.Permanent).ToList(), o => o.Actual.Effect == DndState.None);

    /// <summary>Precision and recall of one DND effect: of the lines given it, how many expect it; of those expecting it, how many get it.</summary>
    public (double Precision, double Recall, int Expected, int Given) For(DndState effect)
    {
        int given = Outcomes.Count(o => o.Actual.Effect == effect);
        int expected = Outcomes.Count(o => o.Expected == effect);
        int both = Outcomes.Count(o => o.Actual.Effect == effect && o.Expected == effect);
        return (given == 0 ? 1 : (double)both / given, expected == 0 ? 1 : (double)both / expected, expected, given);
    }

    public static string DefaultPath() =>
        Path.Combine(RepositoryRoot.Find(), "tests", "MailgunFunctions.Core.Tests", "Classification", "real-world-bounces.jsonl");

    public static IReadOnlyList<JObject> Load(string path) =>
        File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l)).Select(JObject.Parse).ToArray();

    public static ClassifierAccuracy Measure(IEventClassifier classifier, IEnumerable<JObject> lines)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        var outcomes = lines.Select(line =>
        {
            if (!DndEffects.TryParseDndState((string?)line["expect"], out var expected))
            {
                throw new InvalidDataException($"corpus line '{line["name"]}' has no valid expect");
            }

            return new Outcome((string)line["name"]!, (string)line["source"]!, (string)line["cause"]!, expected, classifier.Classify(BounceCorpusLine.ToEvent(line)));
        }).ToArray();
        return new ClassifierAccuracy(outcomes);
    }

    /// <summary>The numbers as docs/classification.md and bench/RESULTS.md show them (a Markdown table and two lines).</summary>
    public string Report()
    {
        var text = new System.Text.StringBuilder()
            .AppendLine($"{Count} answers; DND effect right on {Outcomes.Count(o => o.Correct)} ({Overall:P1}).")
            .AppendLine()
            .AppendLine("| DND effect | Expected | Given | Precision | Recall |")
            .AppendLine("|---|---:|---:|---:|---:|");
        foreach (var effect in Enum.GetValues<DndState>())
        {
            var (precision, recall, expected, given) = For(effect);
            text.AppendLine($"| {effect.ToProductName()} | {expected} | {given} | {precision:P1} | {recall:P1} |");
        }

        int sender = Outcomes.Count(o => o.Cause == "sender");
        int address = Outcomes.Count(o => o.Cause == "address" && o.Expected == DndState.Permanent);
        return text.AppendLine()
            .AppendLine($"Sender-side answers given a contact DND: {Outcomes.Count(o => o.Cause == "sender" && o.Actual.Effect != DndState.None)} of {sender} ({SenderSideFalseDnd:P1}).")
            .AppendLine($"Address failures given no DND: {Outcomes.Count(o => o.Cause == "address" && o.Expected == DndState.Permanent && o.Actual.Effect == DndState.None)} of {address} ({AddressFailuresMissed:P1}).")
            .ToString();
    }

    private static double Rate(IReadOnlyCollection<Outcome> of, Func<Outcome, bool> predicate) =>
        of.Count == 0 ? 0 : (double)of.Count(predicate) / of.Count;
}
