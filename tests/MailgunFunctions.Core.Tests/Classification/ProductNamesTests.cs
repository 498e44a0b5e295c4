using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;

namespace MailgunFunctions.Tests.Classification;

public class ProductNamesTests
{
    [TestCase(BounceCategory.HardBounce, "hard-bounce")]
    [TestCase(BounceCategory.SoftBounce, "soft-bounce")]
    [TestCase(BounceCategory.Blocked, "blocked")]
    [TestCase(BounceCategory.SenderIssue, "sender-issue")]
    [TestCase(BounceCategory.Complaint, "complaint")]
    [TestCase(BounceCategory.Unsubscribe, "unsubscribe")]
    [TestCase(BounceCategory.NoEffect, "no-effect")]
    public void Categories_have_their_documented_names(BounceCategory category, string name)
    {
        Assert.That(category.ToProductName(), Is.EqualTo(name));
        Assert.That(ProductNames.TryParseCategory(name.ToUpperInvariant(), out var parsed), Is.True);
        Assert.That(parsed, Is.EqualTo(category));
    }

    [TestCase(DndState.None, "none")]
    [TestCase(DndState.Temporary, "temporary")]
    [TestCase(DndState.Permanent, "permanent")]
    [TestCase(DndState.Locked, "locked")]
    public void Dnd_states_have_their_documented_names(DndState state, string name)
    {
        Assert.That(state.ToProductName(), Is.EqualTo(name));
        Assert.That(DndEffects.TryParseDndState($" {name} ", out var parsed), Is.True);
        Assert.That(parsed, Is.EqualTo(state));
    }

    [Test]
    public void Every_signal_has_a_distinct_name()
    {
        var names = Enum.GetValues<ClassificationSignal>().Select(s => s.ToProductName());
        Assert.That(names, Is.Unique.And.All.Matches("^[a-z]+(-[a-z]+)*$"));
    }

    [TestCase("hardbounce")]
    [TestCase("")]
    [TestCase(null)]
    public void Unknown_names_are_refused(string? name)
    {
        Assert.That(ProductNames.TryParseCategory(name, out _), Is.False);
        Assert.That(DndEffects.TryParseDndState(name, out _), Is.False);
    }

    [Test]
    public void Undefined_values_throw_instead_of_inventing_a_name()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ((BounceCategory)99).ToProductName());
        Assert.Throws<ArgumentOutOfRangeException>(() => ((DndState)99).ToProductName());
    }
}
