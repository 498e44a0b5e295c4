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
           The classifier row is the mean per event over the whole bounce corpus (one corpus event per call, cycling); the DND
           decision row is `DndChange.FromEvent` + `DndEntry.Apply` (onto an entry that already has a soft bounce) +
           `DndPolicy.Evaluate`, the CPU part of applying one event.
        3. Processing. `EventProcessor.ProcessAsync` (the queue function's whole code: open the envelope, parse, classify,
           read-merge-write the DND entry, insert the history record) on N distinct hard bounces, 16 at a time (the queue
           trigger's batch size). Floor = the least storage work any processor must do per event, raw `TableClient`: the
           conditional history insert plus an unconditional upsert of the entry, same concurrency, same Azurite. Goal: at least
           0.7 of the floor. Storage requests per event are counted by an Azure.Core pipeline policy added to every client
           (StorageClients takes extra `HttpPipelinePolicy` services from DI), retries included.
           For a first event of an address the processor makes 4 requests: the GDPR erasure design (`mailgun-ops dnd forget`)
           adds a point read of the hashed erasure row when an address has no plain row, so an erased address stays
           suppressed; that read could be skipped for tenants with no erasure (not done yet). Runs are noisy on one Azurite:
           the floor itself moved between 789 and 1845 events/s across runs.
           Why the processor does 3 requests where the floor does 2: the entry is read first (a point read), merged, and written
           back with its ETag (or inserted when new). That read is what makes two processors of the same address never lose each
           other's change and what makes a redelivered message a no-op; a blind upsert (the floor) would let a late soft bounce
           overwrite a complaint. On one Azurite process sharing two cores with the processor, throughput is bound by storage
           requests, so the ratio tracks 2/3 of the floor at best (the "floor + the point read" row measures exactly that extra
           request), and the processor's entries and history rows are larger than the floor's (the whole aggregate with its
           marks and context), which costs Azurite more per request. The goal of 0.7 is therefore missed on this setup: the gap
           is the read (a design choice for correctness) plus row size, not CPU in our code (the hot-path rows above are
           microseconds per event against milliseconds of storage latency). A possible improvement, not made here: insert first for addresses never seen (one request fewer for a
           first bounce, one more for a known address), which only pays if most storm events hit new addresses.
        4. Export. One suppression list of N records paged from the Mailgun fake (a real HTTP server in the same process) into
           a block blob by `SuppressionExport`. Each size runs in its own child process, because a process's peak working set
           never goes down: sizes measured one after the other in one process would hide each other. Peak working set is the
           whole child process (runtime, JIT, the Kestrel-hosted fake generating the pages, the SDK's block buffers); peak
           managed heap is sampled every 50 ms (`GC.GetTotalMemory(false)`, garbage included). Goal: peak under 256 MB and flat
           between 100,000 and 1,000,000 records (quick mode stops at 300,000 to keep the run short; the full run does 1,000,000).
           Memory is flat because records stream page by page into staged blocks of `SuppressionExport:BlockSizeBytes` (4 MB).
        """;
}
