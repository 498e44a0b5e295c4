using MailgunFunctions.Classification;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace MailgunFunctions.Tests.Classification;

/// <summary>The classifier as the app registers it (AddMailgunCore), with its "Classifier" section.</summary>
public class ClassificationRegistrationTests
{
    private static ServiceProvider Build(Dictionary<string, string?>? overrides = null) =>
        TestSettings.Services(
            TestSettings.Configuration("UseDevelopmentStorage=true", overrides),
            (services, configuration) => services.AddMailgunCore(configuration),
            new FakeTimeProvider());

    [Test]
    public void AddMailgunCore_registers_one_classifier_with_the_platform_defaults()
    {
        using var sp = Build();
        sp.GetRequiredService<IStartupValidator>().Validate();
        var classifier = sp.GetRequiredService<BounceClassifier>();

        Assert.That(sp.GetRequiredService<BounceClassifier>(), Is.SameAs(classifier));
        var full = classifier.Classify(new ClassificationInput { Code = 552, EnhancedCode = "5.2.2", Severity = "permanent" });
        Assert.That(full.Category, Is.EqualTo(BounceCategory.HardBounce));
    }

    [Test]
    public void The_classifier_section_switches_platform_rules()
    {
        using var sp = Build(new() { ["Classifier:MailboxFullIsPermanent"] = "false", ["Classifier:CarrierUnknownNumberIsSoft"] = "false" });
        var classifier = sp.GetRequiredService<BounceClassifier>();

        Assert.Multiple(() =>
        {
            Assert.That(classifier.Classify(new ClassificationInput { Code = 552, EnhancedCode = "5.2.2", Severity = "permanent" }).Category,
                Is.EqualTo(BounceCategory.SoftBounce));
            Assert.That(classifier.Classify(new ClassificationInput { Code = 30005 }).Category, Is.EqualTo(BounceCategory.HardBounce));
        });
    }

    [Test]
    public void An_invalid_setting_stops_the_start()
    {
        using var sp = Build(new() { ["Classifier:MaxScannedCharacters"] = "10" });
        var error = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IStartupValidator>().Validate());
        Assert.That(error!.Message, Does.Contain(nameof(ClassifierOptions.MaxScannedCharacters)));
    }
}
