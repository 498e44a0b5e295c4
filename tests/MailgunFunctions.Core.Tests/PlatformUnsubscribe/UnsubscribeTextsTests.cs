using System.Reflection;
using System.Text.RegularExpressions;
using MailgunFunctions.PlatformUnsubscribe;

namespace MailgunFunctions.Tests.PlatformUnsubscribe;

public class UnsubscribeTextsTests
{
    [TestCase(null, "en")]
    [TestCase("", "en")]
    [TestCase("de", "de")]
    [TestCase("de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", "de")]
    [TestCase("en;q=0.5, fr;q=0.9", "fr")]
    [TestCase("pt-BR", "pt")]
    [TestCase("es-419,es;q=0.9", "es")]
    [TestCase("ja, ko;q=0.9, de;q=0.3", "de")]
    [TestCase("ja", "en")]
    [TestCase("*", "en")]
    [TestCase("de;q=0, fr;q=0.1", "fr")]
    [TestCase("fr;q=0.2, de-CH;q=0.9, de;q=0", "fr")]
    [TestCase("es;q=0.8, de-AT;q=0.8", "es")]
    [TestCase("DE-at", "de")]
    [TestCase("en-GB, de;q=0.9", "en")]
    public void Accept_language_picks_the_best_language_we_speak_else_english(string? header, string expected)
    {
        Assert.That(UnsubscribeTexts.For(header).Language, Is.EqualTo(expected));
    }

    [Test]
    public void A_header_that_is_no_browsers_gets_english()
    {
        Assert.That(UnsubscribeTexts.For(string.Join(",", Enumerable.Repeat("de;q=0.5", 400))).Language, Is.EqualTo("en"));
        Assert.That(UnsubscribeTexts.For("\"de\"@@;;q").Language, Is.EqualTo("en"));
    }

    private static IEnumerable<PropertyInfo> TextProperties => typeof(UnsubscribeTexts).GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.PropertyType == typeof(string) && p.Name != nameof(UnsubscribeTexts.Language));

    [Test]
    public void The_table_has_at_least_five_languages_each_translated_with_the_same_placeholders()
    {
        Assert.That(UnsubscribeTexts.All.Keys, Is.SupersetOf(new[] { "en", "de", "fr", "es", "pt" }));
        var english = UnsubscribeTexts.All["en"];
        foreach (var (language, texts) in UnsubscribeTexts.All)
        {
            Assert.That(texts.Language, Is.EqualTo(language));
            foreach (var property in TextProperties)
            {
                string text = (string)property.GetValue(texts)!, reference = (string)property.GetValue(english)!;
                Assert.That(text, Is.Not.Empty, $"{language}.{property.Name}");
                Assert.That(Placeholders(text), Is.EqualTo(Placeholders(reference)), $"{language}.{property.Name}: {text}");
                if (language != "en" && property.Name.EndsWith("Heading", StringComparison.Ordinal))
                {
                    Assert.That(text, Is.Not.EqualTo(reference), $"{language}.{property.Name} is not translated");
                }
            }
        }
    }

    private static string[] Placeholders(string text) => Regex.Matches(text, @"\{\d\}").Select(m => m.Value).Order(StringComparer.Ordinal).ToArray();
}
