using MailgunFunctions.Inbound;

namespace MailgunFunctions.Tests.Inbound;

public class SenderAuthenticationTests
{
    private static Func<string, IReadOnlyList<string>> Headers(params (string Name, string Value)[] headers) =>
        name => headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList();

    private const string Signed = "v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n d=example.net; s=2024; h=from:to:subject; bh=abc=; b=def=";

    [TestCase("example.net", "example.net", "dkim", TestName = "DKIM by the From domain")]
    [TestCase("mail.example.net", "example.net", null, TestName = "DKIM by a subdomain of the From domain does not count")]
    [TestCase("net", "example.net", null, TestName = "DKIM by a bare top-level domain does not count")]
    [TestCase("example.net.evil.example", "example.net", null, TestName = "DKIM by a look-alike domain does not count")]
    public void Dkim_counts_for_the_From_domain_or_a_parent_of_it(string signingDomain, string from, string? expected) =>
        Assert.That(SenderAuthentication.VerifiedBy(Headers(("X-Mailgun-Dkim-Check-Result", "Pass"), ("DKIM-Signature", Signed.Replace("d=example.net", "d=" + signingDomain, StringComparison.Ordinal))),
            "ann@" + from, []), Is.EqualTo(expected));

    [Test]
    public void A_subdomain_sender_is_covered_by_its_parents_signature() =>
        Assert.That(SenderAuthentication.VerifiedBy(Headers(("X-Mailgun-Dkim-Check-Result", "pass"), ("DKIM-Signature", Signed)), "ann@eu.example.net", []), Is.EqualTo("dkim"));

    [Test]
    public void A_second_signature_by_another_domain_makes_the_verdict_unclear() =>
        Assert.That(SenderAuthentication.VerifiedBy(Headers(("X-Mailgun-Dkim-Check-Result", "Pass"), ("DKIM-Signature", Signed),
            ("DKIM-Signature", "v=1; d=evil.example; s=x; b=y")), "ann@example.net", []), Is.Null);

    [TestCase(new[] { "ann@example.net" }, "spf")]
    [TestCase(new[] { "bounce@example.net", "ann@evil.example" }, null)]
    [TestCase(new string[0], null)]
    public void Spf_counts_when_every_envelope_sender_is_in_the_From_domain(string[] senders, string? expected) =>
        Assert.That(SenderAuthentication.VerifiedBy(Headers(("X-Mailgun-Spf", "Pass")), "Ann <ann@example.net>", senders), Is.EqualTo(expected));

    [TestCase("Fail")]
    [TestCase("Neutral")]
    [TestCase("")]
    public void Anything_but_pass_is_no_pass(string verdict) =>
        Assert.That(SenderAuthentication.VerifiedBy(Headers(("X-Mailgun-Spf", verdict), ("X-Mailgun-Dkim-Check-Result", verdict), ("DKIM-Signature", Signed)),
            "ann@example.net", ["ann@example.net"]), Is.Null);

    [Test]
    public void No_verdict_is_no_pass() =>
        Assert.That(SenderAuthentication.VerifiedBy(Headers(("DKIM-Signature", Signed)), "ann@example.net", ["ann@example.net"]), Is.Null);
}
