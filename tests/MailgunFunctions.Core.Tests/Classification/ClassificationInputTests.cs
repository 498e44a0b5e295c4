using System.ComponentModel.DataAnnotations;
using MailgunFunctions.Classification;
using MailgunFunctions.Events;

namespace MailgunFunctions.Tests.Classification;

public class ClassificationInputTests
{
    [Test]
    public void From_takes_every_signal_of_a_failed_event()
    {
        var e = new MailgunEvent
        {
            EventType = "failed", Id = "f1", Timestamp = DateTimeOffset.UnixEpoch, Severity = "permanent", Reason = "old", IsDelayedBounce = true,
            RejectReason = "ignored for failed events",
            DeliveryStatus = new DeliveryStatus
            {
                Code = 602, Message = "Too old", Description = "desc", EnhancedCode = "5.4.7", BounceCode = "5.1.1", BounceType = "hard",
                LastCode = 421, LastMessage = "4.7.0 Try again later",
            },
        };

        var input = ClassificationInput.From(e);

        Assert.That(input, Is.EqualTo(new ClassificationInput
        {
            EventType = "failed", Code = 602, EnhancedCode = "5.4.7", BounceCode = "5.1.1", Message = "Too old", Description = "desc",
            Severity = "permanent", Reason = "old", BounceType = "hard", LastCode = 421, LastMessage = "4.7.0 Try again later", IsDelayedBounce = true,
        }));
    }

    [Test]
    public void From_reads_a_rejected_event_from_its_reject_object()
    {
        var e = new MailgunEvent
        {
            EventType = "rejected", Id = "r1", Timestamp = DateTimeOffset.UnixEpoch,
            RejectReason = "upstream is not allowed", RejectDescription = "Free accounts are for test purposes only",
        };

        var input = ClassificationInput.From(e);

        Assert.Multiple(() =>
        {
            Assert.That(input.Reason, Is.EqualTo("upstream is not allowed"));
            Assert.That(input.Message, Is.EqualTo("Free accounts are for test purposes only"));
            Assert.That(input.Code, Is.Null);
        });
    }

    [Test]
    public void The_classifier_refuses_options_outside_their_documented_range()
    {
        Assert.Throws<ValidationException>(() => _ = new BounceClassifier(new ClassifierOptions { MaxScannedCharacters = -1 }));
    }

    [Test]
    public void The_classifier_keeps_the_options_it_was_built_with()
    {
        var options = new ClassifierOptions();
        var classifier = new BounceClassifier(options);
        options.MailboxFullIsPermanent = false;

        var result = classifier.Classify(new ClassificationInput { Code = 552, EnhancedCode = "5.2.2", Severity = "permanent" });
        Assert.That(result.Category, Is.EqualTo(BounceCategory.HardBounce));
    }
}
