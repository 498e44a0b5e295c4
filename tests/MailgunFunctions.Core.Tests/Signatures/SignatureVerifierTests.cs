using MailgunFunctions.Signatures;

namespace MailgunFunctions.Tests.Signatures;

/// <summary>
/// Known-answer vectors (V1, V2, ...: key, timestamp, token and the HMAC-SHA256 hex digest Mailgun would send, computed
/// independently), positive and negative. Other tests name them by number.
/// </summary>
public class SignatureVerifierTests
{
    private const string V1Key = "key-7f3c0e1d9a2b4c5d6e7f8091a2b3c4d5";
    private const string V1Timestamp = "1529006854";
    private const string V1Token = "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0";
    private const string V1Signature = "e794fc740d481874fcb11fdbdc588ec3e5bfa88c3a8c7cf2c3f99081390c4d1d";
    private const string V3Key = "whsec-tricky-0001";
    private const string V3Token = @"AbC+/=%26&x y_-.~0123456789abcdefghij!*'()[]{}|\Zz";
    private const string V3Signature = "ac4137f87c6b02494a3aa636dcd15fa4179abaae545c77323c866632cfc236e9";

    private static SignatureVerifier VerifierFor(params string[] keys) =>
        new(keys.Select((k, i) => new SigningKey($"k{i}", k)));

    [TestCase(V1Key, V1Timestamp, V1Token, V1Signature, TestName = "V1")]
    [TestCase("TEST_WEBHOOK_SIGNING_KEY", "1534108637", "651869375b9df3c98fc15c4889b102119add1235c38fc92824",
        "2a75affe24846ead9e37e614a5e7643a04abf4d5b49b34d224ede9af23a00ccc", TestName = "V2")]
    [TestCase(V3Key, "1700000000", V3Token, V3Signature, TestName = "V3 tricky token")]
    [TestCase(V1Key, V1Timestamp, V1Token, "E794FC740D481874FCB11FDBDC588EC3E5BFA88C3A8C7CF2C3F99081390C4D1D", TestName = "V1 upper-case hex")]
    public void Verify_positive_vectors_are_accepted(string key, string timestamp, string token, string signature)
    {
        Assert.That(VerifierFor(key).Verify(timestamp, token, signature)?.Id, Is.EqualTo("k0"));
        Assert.That(SignatureVerifier.Sign(key, timestamp, token), Is.EqualTo(signature.ToLowerInvariant()));
    }

    [TestCase("key-7f3c0e1d9a2b4c5d6e7f8091a2b3c4d6", V1Timestamp, V1Token, V1Signature, TestName = "N1 wrong key")]
    [TestCase(V1Key, "1529006854.329574", V1Token, V1Signature, TestName = "N2 float event timestamp")]
    [TestCase(V1Key, "1529006854.", V1Token, V1Signature, TestName = "N3 separator")]
    [TestCase(V1Key, V1Token, V1Timestamp, V1Signature, TestName = "N4 order reversed")]
    [TestCase(V3Key, "1700000000", @"AbC /=%26&x y_-.~0123456789abcdefghij!*'()[]{}|\Zz", V3Signature, TestName = "N5 plus decoded as space")]
    [TestCase(V1Key, V1Timestamp, V1Token, "e794fc740d481874", TestName = "N6 truncated")]
    [TestCase(V1Key, V1Timestamp, V1Token, "zz94fc740d481874fcb11fdbdc588ec3e5bfa88c3a8c7cf2c3f99081390c4d1d", TestName = "N7 not hex")]
    [TestCase(V1Key, V1Timestamp, V1Token, "", TestName = "empty signature")]
    [TestCase(V1Key, V1Timestamp, V1Token, V1Signature + "00", TestName = "too long")]
    public void Verify_negative_vectors_are_rejected_without_throwing(string key, string timestamp, string token, string signature)
    {
        Assert.That(VerifierFor(key).Verify(timestamp, token, signature), Is.Null);
    }

    [Test]
    public void Sign_reproduces_the_documented_wrong_computations()
    {
        // The HMACs the negative vectors say a buggy implementation computes: proves the test inputs are the documented ones.
        Assert.Multiple(() =>
        {
            Assert.That(SignatureVerifier.Sign("key-7f3c0e1d9a2b4c5d6e7f8091a2b3c4d6", V1Timestamp, V1Token), Is.EqualTo("d1634fe60d24d0056dce39096b8632d4e65df23e4cac19683d6ff57b03b457c9"));
            Assert.That(SignatureVerifier.Sign(V1Key, "1529006854.329574", V1Token), Is.EqualTo("6bec45b2b15febf99b508ef0778b3e27297b9add6b2d963bf19ddcf504c4fb3a"));
            Assert.That(SignatureVerifier.Sign(V1Key, "1529006854.", V1Token), Is.EqualTo("7b171946495313b829d3a72e051c101aecb79232c670641d8bf7112891b62be2"));
            Assert.That(SignatureVerifier.Sign(V1Key, V1Token, V1Timestamp), Is.EqualTo("5fc55fc4978c41226bf55b11b1f677a1cbbe8c9e11a2cc7303374156040a798e"));
            Assert.That(SignatureVerifier.Sign(V3Key, "1700000000", V3Token.Replace('+', ' ')), Is.EqualTo("b956301cebc89577571815f1aaf10d193cde31aa08512aa97caa44e6008b61b6"));
        });
    }

    [Test]
    public void Verify_during_rotation_accepts_either_key_and_names_the_one_that_matched()
    {
        var verifier = new SignatureVerifier([new SigningKey("old", "some-old-key"), new SigningKey("new", V1Key)]);
        Assert.That(verifier.Verify(V1Timestamp, V1Token, V1Signature)?.Id, Is.EqualTo("new"));
        string oldSignature = SignatureVerifier.Sign("some-old-key", V1Timestamp, V1Token);
        Assert.That(verifier.Verify(V1Timestamp, V1Token, oldSignature)?.Id, Is.EqualTo("old"));
    }

    [Test]
    public void Verify_handles_a_long_token_without_stack_overflow()
    {
        string token = new('a', 10_000);
        string signature = SignatureVerifier.Sign(V1Key, V1Timestamp, token);
        Assert.That(VerifierFor(V1Key).Verify(V1Timestamp, token, signature), Is.Not.Null);
    }

    [Test]
    public void A_verifier_without_keys_verifies_nothing()
    {
        // A tenant that trusts only its parent account's key has no keys of its own.
        string signature = SignatureVerifier.Sign(V1Key, V1Timestamp, V1Token);
        Assert.That(SignatureVerifier.None.Verify(V1Timestamp, V1Token, signature), Is.Null);
    }
}
