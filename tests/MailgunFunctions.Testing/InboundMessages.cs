namespace MailgunFunctions.Testing;

/// <summary>Realistic replies written for these tests (raw MIME as a mail client and a mail server would produce it).</summary>
public static class InboundMessages
{
    public const string OutboundId = "20260303100200.1.ABCDEF@mg.example.com";

    public static string PlainReply(string text = "Yes, please send me the catalogue.") =>
        "Return-Path: <jane@example.org>\r\n" +
        "Received: from mail.example.org (mail.example.org [192.0.2.10]) by mxa.mailgun.org with ESMTPS\r\n" +
        "From: \"Jane Doe\" <Jane@Example.org>\r\n" +
        "To: Example News <reply@mg.example.com>\r\n" +
        "Subject: Re: Our spring offers\r\n" +
        "Date: Tue, 03 Mar 2026 11:15:42 +0100\r\n" +
        "Message-ID: <CAF1x2y3@mail.example.org>\r\n" +
        $"In-Reply-To: <{OutboundId}>\r\n" +
        $"References: <20260101090000.1.111111@mg.example.com>\r\n <{OutboundId}>\r\n" +
        "X-Mailgun-Sflag: No\r\n" +
        "X-Mailgun-Sscore: 0.3\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=\"UTF-8\"\r\n" +
        "Content-Transfer-Encoding: quoted-printable\r\n" +
        "\r\n" +
        text.Replace("é", "=C3=A9").Replace("ç", "=C3=A7").Replace("ã", "=C3=A3").Replace("ö", "=C3=B6") + "\r\n" +
        "\r\n" +
        "On Tue, 3 Mar 2026 at 10:02, Example News <news@mg.example.com> wrote:\r\n" +
        "> Our spring offers are here: 20% off everything.\r\n";

    public const string HtmlOnlyReply =
        "From: Tom Smith <tom@example.net>\r\n" +
        "To: reply@mg.example.com\r\n" +
        "Subject: RE: Our spring offers\r\n" +
        "Date: Tue, 03 Mar 2026 12:01:00 +0000\r\n" +
        "Message-ID: <AM0PR01MB1234@example.net>\r\n" +
        $"In-Reply-To: <{OutboundId}>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/html; charset=\"utf-8\"\r\n" +
        "\r\n" +
        "<html><body><p>Great offer, I&#39;ll take two.</p><p>Tom</p>" +
        "<div id=\"divRplyFwdMsg\"><b>From:</b> Example News<br><b>Sent:</b> Tuesday<br></div>" +
        "<div>Our spring offers are here</div></body></html>\r\n";

    public const string ReplyWithAttachment =
        "From: jane@example.org\r\n" +
        "To: reply@mg.example.com\r\n" +
        "Subject: Re: Our spring offers\r\n" +
        "Date: Tue, 03 Mar 2026 11:20:00 +0100\r\n" +
        "Message-ID: <att-1@mail.example.org>\r\n" +
        $"In-Reply-To: <{OutboundId}>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: multipart/mixed; boundary=\"b1\"\r\n" +
        "\r\n" +
        "--b1\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "\r\n" +
        "Here is our order form.\r\n" +
        "--b1\r\n" +
        "Content-Type: application/pdf; name=\"order.pdf\"\r\n" +
        "Content-Disposition: attachment; filename=\"order.pdf\"\r\n" +
        "Content-Transfer-Encoding: base64\r\n" +
        "\r\n" +
        "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxlcgo8PC9Sb290IDEgMCBSPj4KJSVFT0YK\r\n" +
        "--b1--\r\n";

    /// <summary>Out-of-office from Exchange-style responders: marked only by Auto-Submitted.</summary>
    public static string OutOfOffice(string subject, string text) =>
        "From: Klaus Weber <klaus@example.de>\r\n" +
        "To: reply@mg.example.com\r\n" +
        $"Subject: {subject}\r\n" +
        "Date: Tue, 03 Mar 2026 10:02:30 +0100\r\n" +
        "Message-ID: <oof-1@example.de>\r\n" +
        $"In-Reply-To: <{OutboundId}>\r\n" +
        "Auto-Submitted: auto-replied\r\n" +
        "X-Auto-Response-Suppress: All\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "Content-Transfer-Encoding: 8bit\r\n" +
        "\r\n" +
        text + "\r\n";

    /// <summary>A DSN from a receiving server, delivered to the reply address (RFC 3464 multipart/report).</summary>
    public static string Dsn(string failedAddress = "gone@example.net", string action = "failed", string status = "5.1.1") =>
        "Return-Path: <>\r\n" +
        "From: Mail Delivery System <MAILER-DAEMON@mx1.example.net>\r\n" +
        "To: reply@mg.example.com\r\n" +
        "Subject: Undelivered Mail Returned to Sender\r\n" +
        "Date: Tue, 03 Mar 2026 10:02:12 +0000\r\n" +
        "Message-ID: <20260303100212.5A1B2C@mx1.example.net>\r\n" +
        "Auto-Submitted: auto-replied\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"dsn-1\"\r\n" +
        "\r\n" +
        "--dsn-1\r\n" +
        "Content-Description: Notification\r\n" +
        "Content-Type: text/plain; charset=us-ascii\r\n" +
        "\r\n" +
        "This is the mail system at host mx1.example.net.\r\n" +
        "I'm sorry to have to inform you that your message could not be delivered.\r\n" +
        "--dsn-1\r\n" +
        "Content-Description: Delivery report\r\n" +
        "Content-Type: message/delivery-status\r\n" +
        "\r\n" +
        "Reporting-MTA: dns; mx1.example.net\r\n" +
        "Arrival-Date: Tue,  3 Mar 2026 10:02:11 +0000 (UTC)\r\n" +
        "\r\n" +
        $"Final-Recipient: rfc822; {failedAddress}\r\n" +
        $"Original-Recipient: rfc822;{failedAddress}\r\n" +
        $"Action: {action}\r\n" +
        $"Status: {status}\r\n" +
        $"Diagnostic-Code: smtp; 550 {status} <{failedAddress}>: Recipient address rejected: User unknown\r\n" +
        "\r\n" +
        "--dsn-1\r\n" +
        "Content-Description: Undelivered Message Headers\r\n" +
        "Content-Type: text/rfc822-headers\r\n" +
        "\r\n" +
        "From: Example News <news@mg.example.com>\r\n" +
        $"Message-Id: <{OutboundId}>\r\n" +
        "Subject: Our spring offers\r\n" +
        "\r\n" +
        "--dsn-1--\r\n";
}
