using MailgunFunctions.Events;

namespace MailgunFunctions.Classification;

/// <summary>
/// The seam between event processing and the bounce classifier: processing only needs "what does this event
/// mean for the contact", and tests give it fixed answers.
/// </summary>
public interface IEventClassifier
{
    /// <summary>Classifies one event. Pure: the same event always gets the same answer.</summary>
    Classification Classify(MailgunEvent e);
}
