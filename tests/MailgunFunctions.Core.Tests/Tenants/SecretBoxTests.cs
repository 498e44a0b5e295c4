using MailgunFunctions.Tenants;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Tests.Tenants;

public class SecretBoxTests
{
    private const string Kek1 = "kek-one-0123456789abcdef0123456789abcdef";
    private const string Kek2 = "kek-two-0123456789abcdef0123456789abcdef";

    private static SecretBox Box(string? active = "k1", params (string Id, string Key)[] keys)
    {
        var options = new TenantsOptions { ActiveKeyId = active };
        foreach (var (id, key) in keys.Length == 0 ? [("k1", Kek1)] : keys)
        {
            options.KeyEncryptionKeys[id] = key;
        }

        return new SecretBox(Options.Create(options));
    }

    [Test]
    public void A_sealed_secret_opens_for_its_tenant_and_field_and_never_shows_the_secret()
    {
        var box = Box();
        string sealedText = box.Seal("loc1", "ApiKey", "key-super-secret-value");

        Assert.Multiple(() =>
        {
            Assert.That(box.Open("loc1", "ApiKey", sealedText), Is.EqualTo("key-super-secret-value"));
            Assert.That(sealedText, Does.Not.Contain("super-secret"));
            Assert.That(SecretBox.IsSealed(sealedText), Is.True);
            Assert.That(SecretBox.KeyIdOf(sealedText), Is.EqualTo("k1"));
            Assert.That(box.Seal("loc1", "ApiKey", "key-super-secret-value"), Is.Not.EqualTo(sealedText), "a fresh data key and nonce every time");
        });
    }

    [TestCase("loc2", "ApiKey", TestName = "A_secret_copied_to_another_tenant_does_not_open")]
    [TestCase("loc1", "SigningKeys", TestName = "A_secret_copied_to_another_field_does_not_open")]
    public void A_secret_opens_only_where_it_was_sealed(string tenant, string field)
    {
        var box = Box();
        string sealedText = box.Seal("loc1", "ApiKey", "key-abc");
        Assert.Throws<SecretUnreadableException>(() => box.Open(tenant, field, sealedText));
    }

    [Test]
    public void An_altered_value_does_not_open()
    {
        var box = Box();
        string sealedText = box.Seal("loc1", "ApiKey", "key-abc");
        string[] parts = sealedText.Split('.');
        char[] value = parts[3].ToCharArray();
        value[^3] = value[^3] == 'A' ? 'B' : 'A';
        parts[3] = new string(value);
        Assert.Throws<SecretUnreadableException>(() => box.Open("loc1", "ApiKey", string.Join('.', parts)));
    }

    [Test]
    public void A_value_sealed_with_a_key_that_is_not_configured_names_the_setting()
    {
        string sealedText = Box("k2", ("k2", Kek2)).Seal("loc1", "ApiKey", "key-abc");
        var error = Assert.Throws<SecretUnreadableException>(() => Box().Open("loc1", "ApiKey", sealedText));
        Assert.That(error!.Message, Does.Contain("Tenants__KeyEncryptionKeys__k2").And.Not.Contain("key-abc"));
    }

    [Test]
    public void Rewrap_moves_a_value_to_the_active_key_without_changing_it()
    {
        string old = Box().Seal("loc1", "ApiKey", "key-abc");
        var rotated = Box("k2", ("k1", Kek1), ("k2", Kek2));

        string rewrapped = rotated.Rewrap("loc1", "ApiKey", old);

        Assert.Multiple(() =>
        {
            Assert.That(SecretBox.KeyIdOf(rewrapped), Is.EqualTo("k2"));
            Assert.That(rewrapped.Split('.')[3], Is.EqualTo(old.Split('.')[3]), "only the data key is re-sealed");
            Assert.That(Box("k2", ("k2", Kek2)).Open("loc1", "ApiKey", rewrapped), Is.EqualTo("key-abc"), "opens without the retired key");
            Assert.That(rotated.Rewrap("loc1", "ApiKey", rewrapped), Is.EqualTo(rewrapped), "already on the active key: unchanged");
        });
    }

    [Test]
    public void Without_a_key_nothing_can_be_sealed()
    {
        var box = new SecretBox(Options.Create(new TenantsOptions()));
        Assert.That(box.CanSeal, Is.False);
        Assert.Throws<InvalidOperationException>(() => box.Seal("loc1", "ApiKey", "x"));
    }
}
