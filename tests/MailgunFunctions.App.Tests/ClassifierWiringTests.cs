using MailgunFunctions.App;
using MailgunFunctions.Classification;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace MailgunFunctions.Tests;

/// <summary>The app's own registration gives the queue processing the configured bounce classifier.</summary>
public class ClassifierWiringTests
{
    [Test]
    public void AddMailgunFunctions_provides_the_classifier_with_the_app_configuration()
    {
        var configuration = TestSettings.Configuration("UseDevelopmentStorage=true", new Dictionary<string, string?>
        {
            ["Classifier:MailboxFullIsPermanent"] = "false",
        });
        using var sp = TestSettings.Services(configuration, (s, c) => s.AddMailgunFunctions(c), new FakeTimeProvider());
        sp.GetRequiredService<IStartupValidator>().Validate();

        var result = sp.GetRequiredService<BounceClassifier>()
            .Classify(new ClassificationInput { Code = 552, EnhancedCode = "5.2.2", Message = "mailbox full", Severity = "permanent" });

        Assert.Multiple(() =>
        {
            Assert.That(result.Category, Is.EqualTo(BounceCategory.SoftBounce));
            Assert.That(result.Rule, Is.EqualTo("enhanced-x.2.2-mailbox-full"));
        });
    }
}
