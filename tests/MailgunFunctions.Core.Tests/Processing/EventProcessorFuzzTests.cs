using MailgunFunctions.Processing;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace MailgunFunctions.Tests.Processing;

/// <summary>
/// A queue message is input too: generated messages of the events queue (<see cref="HostileInput.EventEnvelopeText"/>, mostly
/// well-formed envelopes around hostile event-data, sometimes hostile envelopes) through the queue function's own code
/// against Azurite. Every message must end processed, skipped or parked in the poison queue with a reason; only a storage
/// that fails may make it throw (the host then retries), and Azurite does not fail here.
/// </summary>
[Category("Reliability")]
public class EventProcessorFuzzTests
{
    private const int Cases = 2_000;

    [Test]
    public async Task Generated_queue_messages_are_processed_skipped_or_poisoned_never_thrown()
    {
        const int seed = 1516;
        await using var services = TestSettings.Services(TestSettings.Configuration(await Azurite.SharedConnectionStringAsync()), (s, c) => s.AddMailgunCore(c),
            new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero)));
        var processor = services.GetRequiredService<EventProcessor>();
        var outcomes = new Dictionary<string, int>();
        for (int batch = 0; batch < Cases / 100; batch++)
        {
            var messages = HostileInput.Sample(HostileInput.EventEnvelopeText, seed + batch, 100);
            for (int i = 0; i < messages.Length; i++)
            {
                EventProcessingResult result;
                try
                {
                    result = await processor.ProcessAsync(messages[i], 1, CancellationToken.None);
                }
                catch (Exception ex)
                {
                    Assert.Fail($"seed {seed + batch}, case {i}: {ex.GetType().Name}: {ex.Message}\ninput: {Fuzz.Shorten(messages[i])}");
                    return;
                }

                string outcome = result.Outcome == EventOutcome.Poisoned ? "poisoned " + result.PoisonReason : result.Outcome.ToString().ToLowerInvariant();
                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            }
        }

        TestContext.Out.WriteLine($"{Cases} generated queue messages: " + string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")));
        Assert.That(outcomes.Keys, Is.SupersetOf(new[] { "processed", "skipped", "poisoned envelope_invalid", "poisoned event_invalid" }), "the generator reaches every outcome");
    }
}
