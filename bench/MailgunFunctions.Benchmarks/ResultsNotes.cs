namespace MailgunFunctions.Benchmarks;

/// <summary>The explanations that go under the numbers in RESULTS.md (goals, what each floor is, known misses).</summary>
public static class ResultsNotes
{
    public const string Text = """
        ## Goals and how to read them

        1. Hot path. Floor = one HMAC-SHA256 over the body plus one `Utf8JsonReader` pass over it. Goals: the webhook's whole
           CPU path (signature, validation, envelope) within 4x the floor and under 4 KB allocated per event; the classifier
           under 1 µs per event.
        2. Ingestion. Floor = raw `QueueClient.SendMessageAsync` of the same envelopes at the same concurrency against the same
           Azurite. Goal: at least 0.8 of the floor's throughput. The webhook does three storage requests per event where the floor
           does one (atomic token claim, queue send, token marked queued): the claim must precede the send (a replayed token must
           never be queued) and the mark must follow it (a retry after a failed send must be queued again), so on one Azurite
           process sharing two cores with the load generator the webhook is bound by storage round trips, not by its own CPU.
        """;
}
