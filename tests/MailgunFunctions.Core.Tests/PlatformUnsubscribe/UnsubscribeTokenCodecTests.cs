using System.Text;
using MailgunFunctions.PlatformUnsubscribe;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Tests.PlatformUnsubscribe;

public class UnsubscribeTokenCodecTests
{
    private const string Key1 = "k1-0123456789abcdef0123456789abcdef";
    private const string Key2 = "k2-fedcba9876543210fedcba9876543210";
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly UnsubscribeRequest Request = new("mg.shop.example", "Joan.Doe+news@example.com", "c-42", "spring", Now);

    private static UnsubscribeTokenCodec Codec(string active, params (string Id, string Key)[] keys) => new(Options.Create(new UnsubscribeOptions
    {
        Keys = keys.ToDictionary(k => k.Id, k => k.Key),
        ActiveKeyId = active,
    }));

    [Test]
    public void A_token_reads_back_to_what_it_was_made_for()
    {
        var codec = Codec("k1", ("k1", Key1));
        string token = codec.Create(Request);
        Assert.That(codec.TryRead(token, out var read), Is.EqualTo(TokenProblem.None));
        Assert.That(read, Is.EqualTo(Request));
    }

    [Test]
    public void Empty_contact_and_campaign_read_back_as_null()
    {
        var codec = Codec("k1", ("k1", Key1));
        var request = Request with { ContactId = null, Campaign = null };
        codec.TryRead(codec.Create(request), out var read);
        Assert.That(read, Is.EqualTo(request));
    }

    [Test]
    public void The_address_and_tenant_are_not_readable_in_the_token_and_it_is_url_safe()
    {
        string token = Codec("k1", ("k1", Key1)).Create(Request);
        string decoded = string.Join("", token.Split('.').Select(p =>
        {
            try { return Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(p)); }
            catch (FormatException) { return p; }
        }));
        Assert.That(token + decoded, Does.Not.Contain("Joan").IgnoreCase.And.Not.Contain("shop").And.Not.Contain("c-42"));
        Assert.That(token, Does.Match("^[A-Za-z0-9_.-]+$"));
        Assert.That(token.Length, Is.LessThan(300));
    }

    [Test]
    public void Every_single_character_change_is_refused()
    {
        var codec = Codec("k1", ("k1", Key1));
        string token = codec.Create(Request);
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (int i = 3; i < token.Length; i++)
        {
            if (token[i] == '.')
            {
                continue;
            }

            char replacement = alphabet[(alphabet.IndexOf(token[i]) + 1) % alphabet.Length];
            string altered = token[..i] + replacement + token[(i + 1)..];
            Assert.That(codec.TryRead(altered, out _), Is.Not.EqualTo(TokenProblem.None), $"position {i}");
        }
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("not-a-token")]
    [TestCase("k1.abc")]
    [TestCase("k1.abc.def.ghi")]
    [TestCase("k1.!!!.???")]
    public void Garbage_is_malformed_not_an_exception(string? token)
    {
        Assert.That(Codec("k1", ("k1", Key1)).TryRead(token, out _), Is.EqualTo(TokenProblem.Malformed));
    }

    [Test]
    public void A_token_signed_with_another_key_under_the_same_id_is_refused()
    {
        string forged = Codec("k1", ("k1", Key2)).Create(Request);
        Assert.That(Codec("k1", ("k1", Key1)).TryRead(forged, out _), Is.EqualTo(TokenProblem.Malformed));
    }

    [Test]
    public void Rotation_keeps_old_links_working_until_their_key_is_retired()
    {
        string oldLink = Codec("k1", ("k1", Key1)).Create(Request);
        var rotated = Codec("k2", ("k1", Key1), ("k2", Key2));
        Assert.That(rotated.TryRead(oldLink, out _), Is.EqualTo(TokenProblem.None));
        Assert.That(rotated.Create(Request), Does.StartWith("k2."));

        var retired = Codec("k2", ("k2", Key2));
        Assert.That(retired.TryRead(oldLink, out _), Is.EqualTo(TokenProblem.UnknownKey));
    }

    [Test]
    public void Without_keys_no_link_can_be_made()
    {
        var codec = new UnsubscribeTokenCodec(Options.Create(new UnsubscribeOptions()));
        Assert.That(codec.CanCreate, Is.False);
        Assert.Throws<InvalidOperationException>(() => codec.Create(Request));
    }

    [TestCase("short", "k1", false)]
    [TestCase(Key1, "other", false)]
    [TestCase(Key1, "k1", true)]
    public void Options_refuse_weak_keys_and_a_missing_active_key(string key, string active, bool valid)
    {
        var result = new UnsubscribeOptionsValidator().Validate(null, new UnsubscribeOptions { Keys = new() { ["k1"] = key }, ActiveKeyId = active });
        Assert.That(result.Succeeded, Is.EqualTo(valid), result.FailureMessage);
    }
}
