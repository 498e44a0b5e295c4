using MailgunFunctions.Dnd;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace MailgunFunctions.Tests.Dnd;

public class DndOptionsTests
{
    private static DndOptions Resolve(IDictionary<string, string?> values)
    {
        using var services = TestSettings.Services(TestSettings.Configuration(Azurite.Unreachable(), values), (s, c) =>
        {
            s.AddMailgunCore(c);
            s.AddSingleton<MailgunFunctions.Classification.IEventClassifier, FakeEventClassifier>();
        }, new FakeTimeProvider());
        return services.GetRequiredService<IOptions<DndOptions>>().Value;
    }

    [Test]
    public void Defaults_are_the_documented_ones()
    {
        var o = Resolve(new Dictionary<string, string?>());
        Assert.Multiple(() =>
        {
            Assert.That(o.TemporaryDuration, Is.EqualTo(TimeSpan.FromHours(72)));
            Assert.That(o.SoftBounceEscalationCount, Is.EqualTo(3));
            Assert.That(o.SoftBounceEscalationWindow, Is.EqualTo(TimeSpan.FromDays(14)));
            Assert.That(o.SenderIssueBucket, Is.EqualTo(TimeSpan.FromMinutes(10)));
            Assert.That(o.SenderIssueWarningThreshold, Is.EqualTo(25));
        });
    }

    [Test]
    public void Binding_reads_the_Dnd_section()
    {
        var o = Resolve(new Dictionary<string, string?> { ["Dnd:TemporaryDuration"] = "1.00:00:00", ["Dnd:ContactIdVariable"] = "cid" });
        Assert.That((o.TemporaryDuration, o.ContactIdVariable), Is.EqualTo((TimeSpan.FromDays(1), "cid")));
    }

    [TestCase("Dnd:SoftBounceEscalationCount", "33")]
    [TestCase("Dnd:SoftBounceEscalationCount", "1")]
    [TestCase("Dnd:TemporaryDuration", "00:00:10")]
    [TestCase("Dnd:ContactIdVariable", "")]
    public void Invalid_values_are_refused(string key, string value)
    {
        Assert.Throws<OptionsValidationException>(() => Resolve(new Dictionary<string, string?> { [key] = value }));
    }
}
