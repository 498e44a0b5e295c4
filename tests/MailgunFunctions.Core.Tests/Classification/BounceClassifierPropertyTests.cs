using FsCheck;
using FsCheck.Fluent;
using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;

namespace MailgunFunctions.Tests.Classification;

/// <summary>Invariants of the classifier over random mixes of codes, reasons, severities and answer words.</summary>
public class BounceClassifierPropertyTests
{
    private static readonly BounceClassifier Defaults = new();

    /// <summary>Rules allowed to give a permanent or locked DND to a failure Mailgun calls temporary.</summary>
    private static readonly HashSet<string> PlatformRules =
    [
        "mailgun-605", "mailgun-606", "mailgun-607", "reason-suppress-bounce", "reason-suppress-unsubscribe", "reason-suppress-complaint",
        "words-previously-bounced", "words-unsubscribed", "words-complained",
        "enhanced-x.2.2-mailbox-full", "smtp-552-mailbox-full", "words-mailbox-full", "carrier-30004", "carrier-30007",
    ];

    private static readonly Gen<string> Phrase = Gen.Choose(0, ResponseWords.Count - 1).Select(i => ResponseWords.Row(i).Phrase);

    private static readonly Gen<string> Noise = Gen.Elements(
        "550", "421", "5.1.1", "4.2.2", "5.7.1", "[203.0.113.7]", "mx.example.org", "-", "\n", "Sorry,", "x@example.org", "", "ÄÖü", "K");

    private static readonly Gen<string?> Message =
        Gen.ListOf(Gen.Frequency((2, Phrase), (3, Noise))).Select(words => (string?)string.Join(' ', words));

    private static readonly Gen<ClassificationInput> Inputs =
        from type in Gen.Elements<string?>(null, "failed", "FAILED", "rejected", "delivered", "complained", "unsubscribed", "list_uploaded")
        from code in Gen.Elements<int?>(null, 0, 250, 421, 450, 452, 498, 550, 551, 552, 553, 554, 571, 602, 605, 606, 607, 625, 30004, 30005, 99999, -1)
        from enhanced in Gen.Elements<string?>(null, "", "5.1.1", "4.1.1", "4.2.2", "5.2.2", "5.7.1", "5.7.26", "4.7.0", "5.4.7", "2.0.0", "x.y.z", "5.1")
        from message in Message
        from severity in Gen.Elements<string?>(null, "permanent", "temporary", "internal", "")
        from reason in Gen.Elements<string?>(null, "bounce", "generic", "old", "espblock", "greylisted", "suppress-bounce", "blacklisted")
        from lastCode in Gen.Elements<int?>(null, 421, 550, 616)
        select new ClassificationInput
        {
            EventType = type, Code = code, EnhancedCode = enhanced, Message = message, Severity = severity, Reason = reason, LastCode = lastCode,
        };

    [FsCheck.NUnit.Property(MaxTest = 1000)]
    public Property Every_answer_is_complete_and_its_effect_follows_its_category() =>
        Prop.ForAll(Arb.From(Inputs), input =>
        {
            var result = Defaults.Classify(input);
            return result.Effect == DndEffects.EffectOf(result.Category)
                && result.Rule.Length > 0 && result.Explanation.Length > 0
                && Defaults.Classify(input) == result;
        });

    [FsCheck.NUnit.Property(MaxTest = 1000)]
    public Property A_temporary_failure_gets_a_permanent_dnd_only_from_a_platform_rule() =>
        Prop.ForAll(Arb.From(Inputs.Where(i => i.EventType is null or "failed" && i.Severity == "temporary")), input =>
        {
            var result = Defaults.Classify(input);
            return result.Effect < DndState.Permanent || PlatformRules.Contains(result.Rule);
        });

    [FsCheck.NUnit.Property(MaxTest = 1000)]
    public Property A_4xx_answer_gets_a_permanent_dnd_only_from_a_platform_rule() =>
        Prop.ForAll(Arb.From(Inputs.Where(i => i.EventType is null && i.Code is >= 400 and < 500)), input =>
        {
            var result = Defaults.Classify(input);
            return result.Effect < DndState.Permanent || PlatformRules.Contains(result.Rule);
        });
}
