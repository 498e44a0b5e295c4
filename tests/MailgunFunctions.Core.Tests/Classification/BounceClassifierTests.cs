using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;
using MailgunFunctions.Events;
using MailgunFunctions.Testing;
using ClassificationResult = MailgunFunctions.Classification.Classification;

namespace MailgunFunctions.Tests.Classification;

/// <summary>One case per rule of the classifier (docs/classification.md), and each platform-vs-RFC switch both ways.</summary>
public class BounceClassifierTests
{
    private static readonly BounceClassifier Defaults = new();

    private static ClassificationInput Failed(int? code, string? enhanced, string? message, string? severity = "permanent", string? reason = "bounce") =>
        new() { EventType = "failed", Code = code, EnhancedCode = enhanced, Message = message, Severity = severity, Reason = reason };

    private static void AssertResult(ClassificationResult result, BounceCategory category, string rule)
    {
        Assert.Multiple(() =>
        {
            Assert.That(result.Category, Is.EqualTo(category), result.Explanation);
            Assert.That(result.Rule, Is.EqualTo(rule), result.Explanation);
            Assert.That(result.Effect, Is.EqualTo(DndEffects.EffectOf(category)));
        });
    }

    [TestCase(BounceCategory.HardBounce, DndState.Permanent)]
    [TestCase(BounceCategory.Blocked, DndState.Permanent)]
    [TestCase(BounceCategory.Unsubscribe, DndState.Permanent)]
    [TestCase(BounceCategory.SoftBounce, DndState.Temporary)]
    [TestCase(BounceCategory.Complaint, DndState.Locked)]
    [TestCase(BounceCategory.SenderIssue, DndState.None)]
    [TestCase(BounceCategory.NoEffect, DndState.None)]
    public void EffectOf_follows_the_platform_rules(BounceCategory category, DndState effect)
    {
        Assert.That(DndEffects.EffectOf(category), Is.EqualTo(effect));
    }

    // Event types.
    [TestCase("complained", BounceCategory.Complaint, "event-complained")]
    [TestCase("Unsubscribed", BounceCategory.Unsubscribe, "event-unsubscribed")]
    [TestCase("delivered", BounceCategory.NoEffect, "event-no-effect")]
    [TestCase("accepted", BounceCategory.NoEffect, "event-no-effect")]
    [TestCase("opened", BounceCategory.NoEffect, "event-no-effect")]
    [TestCase("clicked", BounceCategory.NoEffect, "event-no-effect")]
    [TestCase("stored", BounceCategory.NoEffect, "event-no-effect")]
    [TestCase("list_member_uploaded", BounceCategory.NoEffect, "event-no-effect")]
    public void Event_types_decide_by_themselves(string type, BounceCategory category, string rule)
    {
        // A delivery-status on a non-failure must not be read as a bounce.
        AssertResult(Defaults.Classify(new ClassificationInput { EventType = type, Code = 550, Message = "5.1.1 user unknown" }), category, rule);
    }

    [Test]
    public void No_event_type_means_a_failure_as_operators_ask()
    {
        AssertResult(Defaults.Classify(new ClassificationInput { Code = 550, EnhancedCode = "5.1.1" }), BounceCategory.HardBounce, "enhanced-5.1.x");
    }

    [TestCase("upstream is not allowed", "Domain is not allowed to send: Free accounts are for test purposes only.", BounceCategory.SenderIssue, "rejected-sender")]
    [TestCase(null, null, BounceCategory.SenderIssue, "rejected-sender")]
    [TestCase("hardfail", "'x@@example' is not a valid address.", BounceCategory.HardBounce, "rejected-recipient")]
    [TestCase("suppress-unsubscribe", "Not delivering to unsubscribed address", BounceCategory.Unsubscribe, "rejected-recipient")]
    [TestCase("suppress-bounce", null, BounceCategory.HardBounce, "rejected-recipient")]
    [TestCase("suppress-complaint", "", BounceCategory.Complaint, "rejected-recipient")]
    public void Rejected_events_are_ours_unless_they_name_the_recipient(string? reason, string? description, BounceCategory category, string rule)
    {
        AssertResult(Defaults.Classify(new ClassificationInput { EventType = "rejected", Reason = reason, Message = description }), category, rule);
    }

    // (1) Mailgun's own codes and reasons.
    [TestCase(605, "bounce", BounceCategory.HardBounce, "mailgun-605")]
    [TestCase(606, "bounce", BounceCategory.Unsubscribe, "mailgun-606")]
    [TestCase(607, "bounce", BounceCategory.Complaint, "mailgun-607")]
    [TestCase(null, "suppress-bounce", BounceCategory.HardBounce, "reason-suppress-bounce")]
    [TestCase(null, "suppress-unsubscribe", BounceCategory.Unsubscribe, "reason-suppress-unsubscribe")]
    [TestCase(null, "Suppress-Complaint", BounceCategory.Complaint, "reason-suppress-complaint")]
    [TestCase(498, "generic", BounceCategory.SoftBounce, "mailgun-498-no-mx")]
    [TestCase(499, "generic", BounceCategory.SoftBounce, "mailgun-499-no-connection")]
    [TestCase(625, "generic", BounceCategory.SenderIssue, "mailgun-625-list-quality")]
    public void Mailgun_codes_and_suppression_reasons(int? code, string reason, BounceCategory category, string rule)
    {
        var result = Defaults.Classify(Failed(code, null, "whatever the text says: user unknown", reason: reason));
        AssertResult(result, category, rule);
        Assert.That(result.Signal, Is.EqualTo(code is null ? ClassificationSignal.Reason : ClassificationSignal.MailgunCode));
    }

    [Test]
    public void Suppression_beats_an_enhanced_code()
    {
        AssertResult(Defaults.Classify(Failed(607, "5.1.1", "5.1.1 user unknown")), BounceCategory.Complaint, "mailgun-607");
    }

    [TestCase(30003, BounceCategory.SoftBounce)]
    [TestCase(30004, BounceCategory.Blocked)]
    [TestCase(30005, BounceCategory.SoftBounce)]
    [TestCase(30006, BounceCategory.SoftBounce)]
    [TestCase(30007, BounceCategory.Blocked)]
    [TestCase(30008, BounceCategory.SoftBounce)]
    public void Carrier_codes_follow_the_platform(int code, BounceCategory category)
    {
        var result = Defaults.Classify(Failed(code, null, null, severity: "temporary"));
        AssertResult(result, category, $"carrier-{code}");
        Assert.That(result.Signal, Is.EqualTo(ClassificationSignal.CarrierCode));
    }

    [TestCase(30005)]
    [TestCase(30006)]
    public void Carrier_unknown_number_is_hard_when_the_switch_is_off(int code)
    {
        var strict = new BounceClassifier(new ClassifierOptions { CarrierUnknownNumberIsSoft = false });
        var result = strict.Classify(Failed(code, null, null));
        AssertResult(result, BounceCategory.HardBounce, $"carrier-{code}");
        Assert.That(result.Explanation, Does.Contain("CarrierUnknownNumberIsSoft=false"));
    }

    // (2) Specific enhanced codes.
    [TestCase("5.1.1", BounceCategory.HardBounce, "enhanced-5.1.x")]
    [TestCase("5.1.2", BounceCategory.HardBounce, "enhanced-5.1.x")]
    [TestCase("5.1.3", BounceCategory.HardBounce, "enhanced-5.1.x")]
    [TestCase("5.1.6", BounceCategory.HardBounce, "enhanced-5.1.x")]
    [TestCase("5.1.10", BounceCategory.HardBounce, "enhanced-5.1.x")]
    [TestCase("4.1.1", BounceCategory.SoftBounce, "enhanced-4.1.x")]
    [TestCase("5.1.7", BounceCategory.SenderIssue, "enhanced-x.1.7-sender-address")]
    [TestCase("5.1.8", BounceCategory.SenderIssue, "enhanced-x.1.7-sender-address")]
    [TestCase("5.2.1", BounceCategory.HardBounce, "enhanced-5.2.1-disabled")]
    [TestCase("4.2.1", BounceCategory.SoftBounce, "enhanced-4.2.1")]
    [TestCase("5.2.3", BounceCategory.SenderIssue, "enhanced-x.2.3-message-too-big")]
    [TestCase("5.3.4", BounceCategory.SenderIssue, "enhanced-x.2.3-message-too-big")]
    [TestCase("5.5.3", BounceCategory.SenderIssue, "enhanced-x.5.3-too-many-recipients")]
    [TestCase("5.7.23", BounceCategory.SenderIssue, "enhanced-x.7.23-27-authentication")]
    [TestCase("5.7.26", BounceCategory.SenderIssue, "enhanced-x.7.23-27-authentication")]
    [TestCase("5.7.27", BounceCategory.SenderIssue, "enhanced-x.7.23-27-authentication")]
    [TestCase("5.7.606", BounceCategory.SenderIssue, "enhanced-5.7.6xx-7xx-microsoft-sender-block")]
    [TestCase("5.7.649", BounceCategory.SenderIssue, "enhanced-5.7.6xx-7xx-microsoft-sender-block")]
    [TestCase("5.7.708", BounceCategory.SenderIssue, "enhanced-5.7.6xx-7xx-microsoft-sender-block")]
    [TestCase("5.4.7", BounceCategory.SoftBounce, "enhanced-x.4.7-expired")]
    public void Specific_enhanced_codes_decide_before_the_words(string enhanced, BounceCategory category, string rule)
    {
        // The words point elsewhere on purpose: a specific enhanced code is trusted more.
        var result = Defaults.Classify(Failed(550, enhanced, $"{enhanced} try again later, mailbox is full"));
        AssertResult(result, category, rule);
        Assert.Multiple(() =>
        {
            Assert.That(result.EnhancedCode, Is.EqualTo(enhanced));
            Assert.That(result.Signal, Is.EqualTo(ClassificationSignal.EnhancedCode));
            Assert.That(result.Explanation, Does.Contain(enhanced));
        });
    }

    [TestCase("5.2.2", 552, true, BounceCategory.HardBounce)]
    [TestCase("5.2.2", 552, false, BounceCategory.SoftBounce)]
    [TestCase("5.2.2", 554, true, BounceCategory.HardBounce)]
    [TestCase("4.2.2", 452, true, BounceCategory.SoftBounce)]
    [TestCase("4.2.2", 452, false, BounceCategory.SoftBounce)]
    public void Mailbox_full_enhanced_code_follows_the_switch(string enhanced, int code, bool permanent, BounceCategory category)
    {
        var classifier = new BounceClassifier(new ClassifierOptions { MailboxFullIsPermanent = permanent });
        AssertResult(classifier.Classify(Failed(code, enhanced, "The email account that you tried to reach is over quota.")), category, "enhanced-x.2.2-mailbox-full");
    }

    [TestCase(true, BounceCategory.HardBounce)]
    [TestCase(false, BounceCategory.SoftBounce)]
    public void Smtp_552_is_mailbox_full_by_the_switch(bool permanent, BounceCategory category)
    {
        var classifier = new BounceClassifier(new ClassifierOptions { MailboxFullIsPermanent = permanent });
        var result = classifier.Classify(Failed(552, null, "Requested mail action aborted"));
        AssertResult(result, category, "smtp-552-mailbox-full");
        Assert.That(result.Explanation, Does.Contain($"MailboxFullIsPermanent={permanent.ToString().ToLowerInvariant()}"));
    }

    [TestCase(true, BounceCategory.HardBounce)]
    [TestCase(false, BounceCategory.SoftBounce)]
    public void Mailbox_full_words_follow_the_switch(bool permanent, BounceCategory category)
    {
        var classifier = new BounceClassifier(new ClassifierOptions { MailboxFullIsPermanent = permanent });
        AssertResult(classifier.Classify(Failed(550, null, "Mailbox is full")), category, "words-mailbox-full");
    }

    [Test]
    public void Mailbox_full_is_a_platform_rule_that_holds_when_Mailgun_retries_a_552()
    {
        // RFC 5321 lets 552 be retried, so Mailgun may call it temporary; the platform still calls it a hard bounce.
        AssertResult(Defaults.Classify(Failed(552, "5.2.2", "over quota", severity: "temporary", reason: "generic")),
            BounceCategory.HardBounce, "enhanced-x.2.2-mailbox-full");
    }

    [TestCase("temporary", BounceCategory.SoftBounce)]
    [TestCase("permanent", BounceCategory.HardBounce)]
    public void Mailbox_full_words_without_any_code_follow_the_severity(string severity, BounceCategory category)
    {
        AssertResult(Defaults.Classify(Failed(null, null, "user is over quota", severity: severity)), category, "words-mailbox-full");
    }

    // (3) Words.
    [TestCase("Not delivering to previously bounced address", BounceCategory.HardBounce, "words-previously-bounced")]
    [TestCase("Not delivering to unsubscribed address", BounceCategory.Unsubscribe, "words-unsubscribed")]
    [TestCase("Not delivering to a user who marked your messages as spam", BounceCategory.Complaint, "words-complained")]
    [TestCase("Rejected: DMARC policy of example.com", BounceCategory.SenderIssue, "words-sender-authentication")]
    [TestCase("Client host [203.0.113.7] blocked using zen.spamhaus.org", BounceCategory.SenderIssue, "words-sender-blocklisted")]
    [TestCase("Message rejected as spam by Content Filtering", BounceCategory.SenderIssue, "words-content-rejected")]
    [TestCase("Too many messages from your server, slow down", BounceCategory.SenderIssue, "words-rate-limited")]
    [TestCase("Message size exceeds the limit", BounceCategory.SenderIssue, "words-message-too-large")]
    [TestCase("Relay access denied", BounceCategory.SenderIssue, "words-relay-denied")]
    [TestCase("You are not a member of this list", BounceCategory.SenderIssue, "words-list-members-only")]
    [TestCase("503 5.5.1 Bad sequence of commands", BounceCategory.SenderIssue, "words-protocol")]
    [TestCase("Message not accepted for policy reasons", BounceCategory.SenderIssue, "words-sender-policy")]
    [TestCase("User has moved; please try <x@example.net>", BounceCategory.HardBounce, "words-moved")]
    [TestCase("The user you are trying to contact is receiving mail at a rate that prevents additional messages", BounceCategory.SoftBounce, "words-recipient-busy")]
    [TestCase("retry timeout exceeded", BounceCategory.SoftBounce, "words-expired")]
    [TestCase("Cannot send message for 5 days", BounceCategory.SoftBounce, "words-expired")]
    [TestCase("<x@example.org>: Recipient address rejected: Access denied", BounceCategory.HardBounce, "words-recipient-refused")]
    [TestCase("Access denied", BounceCategory.SenderIssue, "words-refused-without-cause")]
    [TestCase("The recipient has blocked your address", BounceCategory.Blocked, "words-blocked-by-recipient")]
    [TestCase("Account disabled", BounceCategory.HardBounce, "words-account-disabled")]
    [TestCase("Domain not found", BounceCategory.HardBounce, "words-domain-unknown")]
    [TestCase("No such user here", BounceCategory.HardBounce, "words-user-unknown")]
    [TestCase("Mailbox full", BounceCategory.HardBounce, "words-mailbox-full")]
    [TestCase("You have been greylisted", BounceCategory.SoftBounce, "words-greylisted")]
    [TestCase("Try again later", BounceCategory.SoftBounce, "words-temporary")]
    public void Words_decide_a_code_that_names_no_cause(string message, BounceCategory category, string rule)
    {
        var result = Defaults.Classify(Failed(554, null, message));
        AssertResult(result, category, rule);
        Assert.Multiple(() =>
        {
            Assert.That(result.Signal, Is.EqualTo(ClassificationSignal.Words));
            Assert.That(result.Words, Is.Not.Null);
            Assert.That(result.Explanation, Does.Contain($"\"{result.Words}\""));
        });
    }

    // Cause first: the stated cause decides whatever the code, the code's class, the severity or the general words say.
    [TestCase(550, "5.1.1", "5.1.1 <x@example.org>: Recipient address rejected: blocked using zen.spamhaus.org", DndState.None)]
    [TestCase(550, "5.2.1", "5.2.1 Sender verify failed", DndState.None)]
    [TestCase(554, "5.7.1", "5.7.1 <x@example.org>: Relay access denied", DndState.None)]
    [TestCase(550, null, "Access denied - too many connections from your IP", DndState.None)]
    [TestCase(550, "5.7.1", "5.7.1 Message refused: not RFC 2822 compliant", DndState.None)]
    [TestCase(550, null, "You are not allowed to post to this mailing list", DndState.None)]
    [TestCase(552, null, "Message size exceeds maximum permitted", DndState.None)]
    [TestCase(554, "5.7.1", "5.7.1 The user has blocked you from sending email to them", DndState.Permanent)]
    [TestCase(550, null, "This user does not accept mail from your IP address", DndState.Permanent)]
    [TestCase(554, null, "Mail not accepted for this address: account is closed", DndState.Permanent)]
    [TestCase(550, null, "Recipient rejects mail from this sender", DndState.Permanent)]
    [TestCase(550, null, "This server rejects mail from dynamic IP addresses", DndState.None)]
    [TestCase(550, "5.7.1", "5.7.1 Message rejected by recipient's anti-spam filter", DndState.None)]
    [TestCase(550, null, "Message blocked by recipient's spam filter", DndState.None)]
    [TestCase(550, "5.7.1", "5.7.1 <x@example.org>: Recipient address rejected: Access denied", DndState.Permanent)]
    [TestCase(550, "5.7.1", "5.7.1 User unknown", DndState.Permanent)]
    [TestCase(550, null, "Mailbox\n  unavailable", DndState.Permanent)]
    [TestCase(550, null, "The account or domain may not exist, they may be blacklisted, or missing the proper dns entries.", DndState.Permanent)]
    [TestCase(550, null, "retry timeout exceeded", DndState.Temporary)]
    [TestCase(550, "5.4.7", "5.4.7 Delivery attempts expired: 452 4.2.2 Mailbox full", DndState.Temporary)]
    [TestCase(550, null, "Could not deliver message for 5 days. Giving up.", DndState.Temporary)]
    [TestCase(554, "5.4.6", "5.4.6 Routing loop detected", DndState.Temporary)]
    [TestCase(550, "5.2.1", "5.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.", DndState.Temporary)]
    [TestCase(451, "4.3.0", "4.3.0 Mail server temporarily rejected message.", DndState.Temporary)]
    [TestCase(550, "5.7.1", "5.7.1 Message rejected", DndState.None)]
    public void The_stated_cause_decides(int code, string? enhanced, string message, DndState effect)
    {
        var result = Defaults.Classify(Failed(code, enhanced, message));
        Assert.That(result.Effect, Is.EqualTo(effect), result.Explanation);
    }

    [Test]
    public void The_explanation_names_the_deciding_phrase_and_what_it_outranked()
    {
        var result = Defaults.Classify(Failed(550, "5.1.1", "5.1.1 <x@example.org>: Recipient address rejected: blocked using zen.spamhaus.org; user unknown"));
        Assert.Multiple(() =>
        {
            Assert.That(result.Category, Is.EqualTo(BounceCategory.SenderIssue));
            Assert.That(result.Explanation, Does.Contain("\"zen.spamhaus\"").Or.Contain("\"blocked using\"").Or.Contain("\"spamhaus\""));
            Assert.That(result.Outranked, Does.Contain("5.1.1").And.Contain("hard-bounce"));
            Assert.That(result.Outranked, Does.Contain("\"user unknown\""));
            Assert.That(result.Outranked, Does.Contain("severity permanent"));
            Assert.That(result.Explanation, Does.EndWith($"It outranks {result.Outranked}."));
        });
    }

    [Test]
    public void Nothing_is_outranked_when_every_signal_agrees()
    {
        var result = Defaults.Classify(Failed(550, "5.1.1", "5.1.1 The email account that you tried to reach does not exist."));
        Assert.Multiple(() =>
        {
            Assert.That(result.Category, Is.EqualTo(BounceCategory.HardBounce));
            Assert.That(result.Outranked, Is.Null);
        });
    }

    [Test]
    public void Words_overrule_a_misleading_550_policy_block()
    {
        var result = Defaults.Classify(Failed(550, "5.7.1", "5.7.1 Service unavailable; Client host [203.0.113.7] blocked using Spamhaus"));
        AssertResult(result, BounceCategory.SenderIssue, "words-sender-blocklisted");
        Assert.That(result.Effect, Is.EqualTo(DndState.None));
    }

    // (4) General enhanced codes, then the basic code.
    [TestCase("4.7.0", 421, BounceCategory.SoftBounce, "enhanced-4.x.x-transient")]
    [TestCase("5.1.0", 550, BounceCategory.HardBounce, "enhanced-5.1.x")]
    [TestCase("5.4.4", 550, BounceCategory.HardBounce, "enhanced-5.4.x-routing")]
    [TestCase("5.6.0", 550, BounceCategory.SenderIssue, "enhanced-x.6.x-content")]
    [TestCase("5.5.1", 500, BounceCategory.SenderIssue, "enhanced-x.5.x-protocol")]
    [TestCase("5.7.1", 550, BounceCategory.SenderIssue, "enhanced-5.7.x-policy")]
    [TestCase("5.0.0", 550, BounceCategory.HardBounce, "smtp-550")]
    [TestCase("5.3.0", 551, BounceCategory.HardBounce, "smtp-551-user-not-local")]
    public void Enhanced_codes_by_class_and_subject_without_telling_words(string enhanced, int code, BounceCategory category, string rule)
    {
        AssertResult(Defaults.Classify(Failed(code, enhanced, "Sorry, we could not deliver it")), category, rule);
    }

    [TestCase(421, BounceCategory.SoftBounce, "smtp-4xx-transient")]
    [TestCase(450, BounceCategory.SoftBounce, "smtp-4xx-transient")]
    [TestCase(451, BounceCategory.SoftBounce, "smtp-4xx-transient")]
    [TestCase(452, BounceCategory.SoftBounce, "smtp-4xx-transient")]
    [TestCase(500, BounceCategory.SenderIssue, "smtp-50x-protocol")]
    [TestCase(503, BounceCategory.SenderIssue, "smtp-50x-protocol")]
    [TestCase(550, BounceCategory.HardBounce, "smtp-550")]
    [TestCase(551, BounceCategory.HardBounce, "smtp-551-user-not-local")]
    [TestCase(552, BounceCategory.HardBounce, "smtp-552-mailbox-full")]
    [TestCase(553, BounceCategory.HardBounce, "smtp-553-mailbox-name")]
    [TestCase(571, BounceCategory.HardBounce, "smtp-5xx-permanent")]
    [TestCase(554, BounceCategory.HardBounce, "severity-permanent")]
    public void Basic_smtp_codes(int code, BounceCategory category, string rule)
    {
        var result = Defaults.Classify(Failed(code, null, "Sorry"));
        AssertResult(result, category, rule);
        Assert.That(result.Code, Is.EqualTo(code));
    }

    [Test]
    public void The_code_written_in_the_message_is_read_when_no_code_field_is_given()
    {
        var result = Defaults.Classify(Failed(null, null, "550 5.1.1 <x@example.org>... rejected", severity: null, reason: null));
        AssertResult(result, BounceCategory.HardBounce, "enhanced-5.1.x");
        Assert.Multiple(() =>
        {
            Assert.That(result.Code, Is.EqualTo(550));
            Assert.That(result.EnhancedCode, Is.EqualTo("5.1.1"));
        });
    }

    // (5) Last resorts.
    [TestCase(false, BounceCategory.SoftBounce)]
    [TestCase(true, BounceCategory.HardBounce)]
    public void Gave_up_after_retries_follows_the_switch(bool permanent, BounceCategory category)
    {
        var classifier = new BounceClassifier(new ClassifierOptions { GaveUpAfterRetriesIsPermanent = permanent });
        var result = classifier.Classify(new ClassificationInput { Code = 602, Message = "Too old", Severity = "permanent", Reason = "old", LastCode = 616 });
        AssertResult(result, category, "mailgun-old-gave-up");
    }

    [TestCase(false, BounceCategory.SoftBounce)]
    [TestCase(true, BounceCategory.HardBounce)]
    public void Delivery_time_expired_follows_the_gave_up_switch(bool permanent, BounceCategory category)
    {
        var classifier = new BounceClassifier(new ClassifierOptions { GaveUpAfterRetriesIsPermanent = permanent });
        AssertResult(classifier.Classify(Failed(550, "5.4.7", "Sorry")), category, "enhanced-x.4.7-expired");
        AssertResult(classifier.Classify(Failed(550, null, "Delivery time expired")), category, "words-expired");
    }

    [TestCase(false, BounceCategory.SoftBounce)]
    [TestCase(true, BounceCategory.HardBounce)]
    public void Gave_up_after_retries_with_a_transient_last_answer_follows_the_switch(bool permanent, BounceCategory category)
    {
        var classifier = new BounceClassifier(new ClassifierOptions { GaveUpAfterRetriesIsPermanent = permanent });
        var result = classifier.Classify(new ClassificationInput
        {
            Code = 602, Severity = "permanent", Reason = "old", LastCode = 421, LastMessage = "4.7.0 Try again later, closing connection.",
        });
        AssertResult(result, category, "mailgun-old-gave-up");
        Assert.That(result.Explanation, Does.Contain("words-temporary"));
    }

    [Test]
    public void A_4_4_7_delay_warning_is_not_a_gave_up()
    {
        var classifier = new BounceClassifier(new ClassifierOptions { GaveUpAfterRetriesIsPermanent = true });
        AssertResult(classifier.Classify(Failed(450, "4.4.7", "Delivery delayed", severity: "temporary", reason: "generic")),
            BounceCategory.SoftBounce, "enhanced-4.x.x-transient");
    }

    [Test]
    public void Gave_up_after_retries_uses_the_last_answer_when_it_is_telling()
    {
        var result = Defaults.Classify(new ClassificationInput
        {
            Code = 602, Severity = "permanent", Reason = "old", LastCode = 550, LastMessage = "5.1.1 The email account that you tried to reach does not exist.",
        });
        AssertResult(result, BounceCategory.HardBounce, "enhanced-5.1.x");
        Assert.That(result.Code, Is.EqualTo(602));
    }

    [TestCase(null, "greylisted", null, BounceCategory.SoftBounce, "reason-greylisted")]
    [TestCase("permanent", "generic", null, BounceCategory.HardBounce, "severity-permanent")]
    [TestCase("temporary", "generic", null, BounceCategory.SoftBounce, "severity-temporary")]
    [TestCase(null, "generic", "hard", BounceCategory.HardBounce, "bounce-type-hard")]
    [TestCase(null, "generic", "soft", BounceCategory.SoftBounce, "bounce-type-soft")]
    [TestCase(null, "generic", null, BounceCategory.NoEffect, "no-signal")]
    [TestCase(null, "bounce", "", BounceCategory.NoEffect, "no-signal")]
    public void Reason_severity_and_bounce_type_are_last_resorts(string? severity, string reason, string? bounceType, BounceCategory category, string rule)
    {
        var input = new ClassificationInput { Severity = severity, Reason = reason, BounceType = bounceType, Message = "Delivery failed" };
        AssertResult(Defaults.Classify(input), category, rule);
    }

    [Test]
    public void A_delayed_bounce_is_read_from_its_bounce_code()
    {
        var input = new ClassificationInput { Code = 0, BounceCode = "5.1.1", Severity = "permanent", Reason = "generic", IsDelayedBounce = true };
        var result = Defaults.Classify(input);
        AssertResult(result, BounceCategory.HardBounce, "enhanced-5.1.x");
        Assert.That(result.Code, Is.Null, "code 0 means no code");
    }

    // Final checks.
    [TestCase(550, "5.1.1", "user unknown", "temporary", BounceCategory.SoftBounce, "enhanced-5.1.x")]
    [TestCase(421, null, "user unknown", "permanent", BounceCategory.SoftBounce, "words-user-unknown")]
    [TestCase(550, "5.7.1", "Delivery not authorized", "temporary", BounceCategory.SoftBounce, "words-blocked-by-recipient")]
    [TestCase(30004, null, "Message blocked", "temporary", BounceCategory.Blocked, "carrier-30004")]
    public void A_transient_failure_never_gets_a_permanent_dnd_unless_a_platform_rule_says_so(
        int code, string? enhanced, string message, string severity, BounceCategory category, string rule)
    {
        var result = Defaults.Classify(Failed(code, enhanced, message, severity: severity, reason: "generic"));
        AssertResult(result, category, rule);
        if (category == BounceCategory.SoftBounce)
        {
            Assert.That(result.Explanation, Does.Contain("only a temporary DND"));
        }
    }

    [TestCase(554, null, "Sorry", BounceCategory.SenderIssue, "reason-espblock")]
    [TestCase(550, null, "Sorry", BounceCategory.SenderIssue, "reason-espblock")]
    [TestCase(550, "5.7.1", "Delivery not authorized", BounceCategory.SenderIssue, "reason-espblock")]
    [TestCase(550, "5.1.1", "user unknown", BounceCategory.HardBounce, "enhanced-5.1.x")]
    [TestCase(550, null, "No such user", BounceCategory.HardBounce, "words-user-unknown")]
    public void Espblock_settles_an_ambiguous_refusal_but_never_overrules_a_clear_one(
        int code, string? enhanced, string message, BounceCategory category, string rule)
    {
        AssertResult(Defaults.Classify(Failed(code, enhanced, message, reason: "espblock")), category, rule);
    }

    [Test]
    public void Sender_issues_never_touch_the_dnd()
    {
        var results = new[]
        {
            Defaults.Classify(Failed(550, "5.7.26", "DMARC")),
            Defaults.Classify(Failed(421, null, "rate limited", severity: "temporary")),
            Defaults.Classify(Failed(554, null, "listed at spamcop")),
            Defaults.Classify(new ClassificationInput { EventType = "rejected", Reason = "upstream is not allowed" }),
        };
        Assert.That(results.Select(r => (r.Category, r.Effect)), Is.All.EqualTo((BounceCategory.SenderIssue, DndState.None)));
    }

    [Test]
    public void Words_beyond_the_scan_limit_are_not_read()
    {
        var classifier = new BounceClassifier(new ClassifierOptions { MaxScannedCharacters = 64 });
        string message = new string('x', 100) + " blocked using zen.spamhaus.org";
        Assert.Multiple(() =>
        {
            AssertResult(classifier.Classify(Failed(550, null, message)), BounceCategory.HardBounce, "smtp-550");
            AssertResult(Defaults.Classify(Failed(550, null, message)), BounceCategory.SenderIssue, "words-sender-blocklisted");
        });
    }

    [Test]
    public void A_mailgun_event_and_its_input_form_get_the_same_classification()
    {
        var data = SignedWebhook.Failed("jane@example.org", DateTimeOffset.Parse("2026-01-01T00:00:00Z"), 550,
            "5.7.1 Unfortunately, messages from [203.0.113.7] weren't sent. Part of their network is on our block list (S3150).");
        var e = MailgunEventParser.Parse(data);

        var fromEvent = Defaults.Classify(e);
        Assert.Multiple(() =>
        {
            Assert.That(fromEvent, Is.EqualTo(Defaults.Classify(ClassificationInput.From(e))));
            Assert.That(fromEvent.Category, Is.EqualTo(BounceCategory.SenderIssue));
            Assert.That(fromEvent.EnhancedCode, Is.EqualTo("5.7.1"));
        });
    }

    [Test]
    public void Rejected_events_read_the_reject_object()
    {
        var e = new MailgunEvent
        {
            EventType = "rejected", Id = "r1", Timestamp = DateTimeOffset.UnixEpoch,
            RejectReason = "hardfail", RejectDescription = "Not delivering to previously bounced address",
        };
        AssertResult(Defaults.Classify(e), BounceCategory.HardBounce, "rejected-recipient");
    }
}
