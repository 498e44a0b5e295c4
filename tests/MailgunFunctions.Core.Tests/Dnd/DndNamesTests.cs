using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;

namespace MailgunFunctions.Tests.Dnd;

public class DndNamesTests
{
    [Test]
    public void Of_gives_the_kebab_case_names_operators_filter_on()
    {
        Assert.Multiple(() =>
        {
            Assert.That(DndNames.Of(BounceCategory.HardBounce), Is.EqualTo("hard-bounce"));
            Assert.That(DndNames.Of(DndChangeSource.PlatformLink), Is.EqualTo("platform-link"));
            Assert.That(DndNames.Of(DndChangeKind.PermanentCause), Is.EqualTo("permanent-cause"));
            Assert.That(DndNames.Of(DndState.Locked), Is.EqualTo("locked"));
        });
    }

    [Test]
    public void Parse_round_trips_every_value_and_refuses_unknown_names()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Enum.GetValues<DndChangeKind>().Select(k => DndNames.Parse<DndChangeKind>(DndNames.Of(k))), Is.EqualTo(Enum.GetValues<DndChangeKind>().Cast<DndChangeKind?>()));
            Assert.That(DndNames.Parse<DndState>("Locked"), Is.Null);
        });
    }
}
