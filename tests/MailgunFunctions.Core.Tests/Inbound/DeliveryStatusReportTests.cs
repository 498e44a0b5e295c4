using MailgunFunctions.Inbound;

namespace MailgunFunctions.Tests.Inbound;

public class DeliveryStatusReportTests
{
    private const string Report = "Reporting-MTA: dns; mx1.example.net\r\nArrival-Date: Tue, 3 Mar 2026 10:02:11 +0000\r\n\r\n" +
        "Final-Recipient: rfc822; gone@example.net\r\nOriginal-Recipient: rfc822;gone@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
        "Diagnostic-Code: smtp; 550 5.1.1 <gone@example.net>: Recipient address rejected:\r\n  User unknown in virtual mailbox table\r\n\r\n" +
        "Final-Recipient: rfc822; Full@Example.net\r\nAction: delayed\r\nStatus: 4.2.2 (mailbox full)\r\nDiagnostic-Code: smtp; 452 4.2.2 Mailbox full\r\n";

    [Test]
    public void Recipient_blocks_are_read_with_folded_diagnostics()
    {
        var statuses = DeliveryStatusReport.Parse(Report);
        Assert.That(statuses, Has.Count.EqualTo(2));
        Assert.Multiple(() =>
        {
            Assert.That(statuses[0], Is.EqualTo(new RecipientStatus("gone@example.net", "failed", "5.1.1",
                "smtp; 550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown in virtual mailbox table")));
            Assert.That(statuses[0].IsPermanentFailure, Is.True);
            Assert.That(statuses[1].Address, Is.EqualTo("full@example.net"));
            Assert.That(statuses[1].Status, Is.EqualTo("4.2.2"));
            Assert.That(statuses[1].IsPermanentFailure, Is.False);
        });
    }

    [TestCase("failed", "4.4.7", false)]
    [TestCase("delayed", "5.1.1", false)]
    [TestCase("delivered", "2.0.0", false)]
    [TestCase("Failed", "5.7.1", true)]
    public void Only_failed_with_a_class_5_status_is_permanent(string action, string status, bool permanent)
    {
        Assert.That(new RecipientStatus("a@example.net", action, status, "").IsPermanentFailure, Is.EqualTo(permanent));
    }

    [Test]
    public void Text_without_recipient_blocks_gives_nothing()
    {
        Assert.That(DeliveryStatusReport.Parse("Hello there\nThis is not a report."), Is.Empty);
    }
}
