using FsCheck;
using FsCheck.Fluent;
using MailgunFunctions.Dnd;

namespace MailgunFunctions.Tests.Dnd;

public class DndKeysTests
{
    [TestCase("  Jane.Doe@Example.NET ", "jane.doe@example.net")]
    [TestCase("Jane Doe <Jane.Doe@Example.net>", "jane.doe@example.net")]
    [TestCase("plain@example.com", "plain@example.com")]
    public void NormalizeAddress_trims_lowercases_and_unwraps(string input, string expected)
    {
        Assert.That(DndKeys.NormalizeAddress(input), Is.EqualTo(expected));
    }

    [TestCase("a/b@example.com", "a%2Fb@example.com")]
    [TestCase("a#b?c@example.com", "a%23b%3Fc@example.com")]
    [TestCase(@"a\b@example.com", "a%5Cb@example.com")]
    [TestCase("100%@example.com", "100%25@example.com")]
    [TestCase("a|b@example.com", "a%7Cb@example.com")]
    [TestCase("tab\there@example.com", "tab%09here@example.com")]
    [TestCase("del\u007f@example.com", "del%7F@example.com")]
    [TestCase("c1\u0085@example.com", "c1%C2%85@example.com")]
    [TestCase("müller@exämple.de", "müller@exämple.de")]
    public void AddressKey_encodes_what_table_keys_forbid(string address, string expected)
    {
        Assert.That(DndKeys.AddressKey(address), Is.EqualTo(expected));
    }

    [Test]
    public void AddressKey_never_contains_a_forbidden_character()
    {
        string nasty = string.Concat(Enumerable.Range(0, 160).Select(i => (char)i)) + "@example.com";
        string key = DndKeys.AddressKey(nasty);
        Assert.That(key.Any(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c)), Is.False, key);
    }

    [Test]
    public void AddressKey_of_a_long_address_is_a_readable_prefix_and_a_hash_longer_than_any_plain_key()
    {
        string a = new string('a', 300) + "@example.com";
        string b = new string('a', 300) + "@example.org";
        string keyA = DndKeys.AddressKey(a);
        Assert.Multiple(() =>
        {
            Assert.That(keyA, Does.StartWith(new string('a', 200) + "~sha256-"));
            Assert.That(keyA.Length, Is.GreaterThan(DndKeys.MaxReadableKeyLength));
            Assert.That(keyA, Is.Not.EqualTo(DndKeys.AddressKey(b)));
            Assert.That(DndKeys.AddressKey(a.ToUpperInvariant()), Is.EqualTo(keyA));
        });
    }

    [Test]
    public void AddressKey_does_not_cut_through_an_escape_when_hashing()
    {
        string address = new string('a', 199) + new string('/', 40) + "@example.com";
        string key = DndKeys.AddressKey(address);
        string prefix = key[..key.IndexOf("~sha256-", StringComparison.Ordinal)];
        Assert.That(prefix, Does.Not.Match("%[0-9A-F]?$"));
    }

    [Test]
    public void HistoryRow_sorts_newest_first_and_is_deterministic()
    {
        var t = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        string older = DndKeys.HistoryRow(t, "abc");
        string newer = DndKeys.HistoryRow(t.AddMilliseconds(1), "abc");
        Assert.Multiple(() =>
        {
            Assert.That(string.CompareOrdinal(newer, older), Is.LessThan(0));
            Assert.That(DndKeys.HistoryRow(t, "abc"), Is.EqualTo(older));
        });
    }

    [Test]
    public void HistoryPartition_separates_tenant_and_address_unambiguously()
    {
        Assert.That(DndKeys.HistoryPartition("a|b", "c@x"), Is.Not.EqualTo(DndKeys.HistoryPartition("a", "b|c@x")));
    }

    /// <summary>Any text: the key has no forbidden character, and a readable key decodes back to the text (so two texts never share one).</summary>
    [FsCheck.NUnit.Property(MaxTest = 500)]
    public Property Encode_is_safe_and_reversible(NonNull<string> text)
    {
        string key = DndKeys.Encode(text.Get);
        bool safe = !key.Any(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c));
        bool reversible = key.Length > DndKeys.MaxReadableKeyLength || Uri.UnescapeDataString(key) == text.Get;
        return (safe && reversible).Label($"key '{key}'");
    }
}
