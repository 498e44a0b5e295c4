using System.Globalization;
using System.Text;
using Azure.Core.Pipeline;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Processing;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Benchmarks;

/// <summary>
/// Harness 7, the capacity model (docs/capacity.md): (1) measures the storage requests each event type costs in
/// <see cref="EventProcessor"/> against Azurite, counted by a pipeline policy; (2) feeds them, with the webhook's and the
/// queue trigger's requests and Azure's published scalability targets, into a time-stepped simulation of K storage
/// accounts (shards) under a sustained rate with a 10x burst: webhooks refused with 503 when a shard's account or queue
/// target is reached (Mailgun retries them later), the backlog each shard builds and how fast it drains. The figures are a
/// model: the limits are Azure's published targets, not measurements, and each assumption is named in the output.
/// </summary>
public static class CapacityModel
{
    // Azure Storage scalability targets for a standard general-purpose v2 account (published; assumptions of the model).
    private const double AccountRequestsPerSecond = 20_000;
    private const double QueueMessagesPerSecond = 2_000;

    // The webhook's storage requests per accepted event, measured by the ingestion benchmark (section 2): the token
    // claim and the queue put.
    private const double WebhookRequests = 2.0;

    // The queue trigger's own requests per message: one delete each, and one get per batch of up to 16 under load.
    private const double TriggerRequests = 1.0 + 1.0 / 16;

    // Flex Consumption (assumptions, documented in docs/capacity.md): the default maximum instance count of the template,
    // host.json's 16 + 8 messages in flight per instance, the time one message holds its slot (about 3 storage
    // round trips of about 10 ms in Azure), and how fast the platform adds instances.
    private const int MaxInstances = 100;
    private const int InFlightPerInstance = 24;
    private const double SecondsPerMessage = 0.03;
    private const double InstancesAddedPerSecond = 4;

    // Mailgun retries a refused webhook for about 8 hours, at growing intervals (its docs disagree on the exact schedule;
    // this is the one they give most often), then gives up: an event still refused then is lost.
    private static readonly double[] MailgunRetryMinutes = [5, 10, 15, 30, 60, 120, 240];

    /// <summary>Events per email sent, by type (assumption: a marketing mix with opens and clicks subscribed).</summary>
    private static readonly (string Name, double PerEmail, Func<string, DateTimeOffset, JObject> Make)[] Mix =
    [
        ("delivered", 0.94, (r, at) => SignedWebhook.Simple("delivered", r, at)),
        ("opened", 0.25, (r, at) => SignedWebhook.Simple("opened", r, at)),
        ("clicked", 0.04, (r, at) => SignedWebhook.Simple("clicked", r, at)),
        ("failed, permanent (5.1.1)", 0.02, (r, at) => SignedWebhook.Failed(r, at)),
        ("failed, temporary (4.2.2 mailbox full)", 0.04, (r, at) => SignedWebhook.Failed(r, at, 452, "4.2.2 The email account that you tried to reach is over quota.", severity: "temporary")),
        ("failed, sender-side (5.7.26 unauthenticated)", 0.005, (r, at) => SignedWebhook.Failed(r, at, 550, "5.7.26 This mail is unauthenticated, which poses a security risk to the sender and Gmail users.")),
        ("unsubscribed", 0.002, (r, at) => SignedWebhook.Simple("unsubscribed", r, at)),
        ("complained", 0.0005, (r, at) => SignedWebhook.Simple("complained", r, at)),
    ];

    public static async Task<string> RunAsync(int eventsPerType)
    {
        var (measured, kinds) = await MeasureAsync(eventsPerType);
        double perEmail = Mix.Sum(m => m.PerEmail);
        double processing = Mix.Select((m, i) => m.PerEmail / perEmail * measured[i]).Sum();
        double perEvent = WebhookRequests + TriggerRequests + processing;

        var text = new StringBuilder();
        text.AppendLine($"Storage requests per event in EventProcessor, measured on Azurite ({eventsPerType} events per type, each to a new address, as the first event of an address is the costly case), and the mix they are weighted by:").AppendLine();
        text.AppendLine("| Event type | Events per email sent (assumption) | Processing requests per event (measured) | Which |");
        text.AppendLine("|---|---:|---:|---|");
        for (int i = 0; i < Mix.Length; i++)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {Mix[i].Name} | {Mix[i].PerEmail} | {measured[i]:F2} | {kinds[i]} |");
        }

        text.AppendLine().AppendLine(CultureInfo.InvariantCulture,
            $"Per event, weighted: processing {processing:F2} + webhook {WebhookRequests:F2} (token claim, queue put) + queue trigger {TriggerRequests:F2} (delete, a get per 16) = **{perEvent:F2} storage requests**.");
        double accountBound = AccountRequestsPerSecond / perEvent;
        double perShard = Math.Min(accountBound, QueueMessagesPerSecond);
        string first = accountBound < QueueMessagesPerSecond ? "the account's requests per second" : "the events queue's messages per second";
        text.AppendLine().AppendLine(CultureInfo.InvariantCulture,
            $"One shard (one storage account) sustains at most min({AccountRequestsPerSecond:N0} / {perEvent:F2}, {QueueMessagesPerSecond:N0}) = **{perShard:N0} events/s**; the first bottleneck is {first}.");

        text.AppendLine().AppendLine("Simulation (0.1 s steps, 9 hours): 10,000 events/s over 10,000 tenants whose volumes follow a Zipf law (s = 1: the largest tenant sends about 10 % of all events), each tenant on the shard its id hashes to; at minute 2 a burst of 10 times the rate for 60 s. A webhook is refused with 503 when its shard has no request or queue budget left in the step; Mailgun retries it after 5, 10, 15, 30, 60, 120 and 240 minutes, then gives up (the event is lost). Processing takes the budget the webhooks leave, at most instances x 24 in flight.").AppendLine();
        text.AppendLine("| Shards (K) | Busiest shard's share | Accepted at once, sustained rate | Refused (503) in the burst | Held by Mailgun at most (events waiting for a retry) | Every event accepted, after the burst's end | Given up by Mailgun (lost) | Our queue's peak backlog (busiest shard) | Instances at peak (busiest shard) |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (int shards in new[] { 1, 2, 4, 6, 8, 16, 64 })
        {
            var result = Simulate(shards, SimulatedRate, perEvent);
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {shards} | {result.BusiestShare:P1} | {result.SustainedAccepted:P1} | {result.BurstRefused:N0} | {result.PeakHeldByMailgun:N0} | {(result.AllAcceptedAfter is { } d ? $"{d / 60:F0} min" : "not within 9 hours")} | {result.Lost:N0} | {result.PeakBacklog:N0} | {result.PeakInstances} |");
        }

        return text.ToString();
    }

    /// <summary>Processing requests per event of each type of the mix, counted on a dedicated Azurite.</summary>
    private static async Task<(double[] Counts, string[] Kinds)> MeasureAsync(int eventsPerType)
    {
        await using var azurite = await Azurite.StartDedicatedAsync(persistent: false);
        var counter = new StorageRequestProfile(azurite.TablePort);
        await using var services = TestSettings.Services(TestSettings.Configuration(azurite.ConnectionString, new Dictionary<string, string?> { ["Storage:MaxRetries"] = "2" }),
            (s, c) => s.AddMailgunCore(c).AddSingleton<HttpPipelinePolicy>(counter), new FakeTimeProvider(WebhookSamples.Now));
        var intake = services.GetRequiredService<EventWebhookIntake>();
        var processor = services.GetRequiredService<EventProcessor>();
        var tenant = TestSettings.SingleAccount(services);

        string Envelope(JObject data)
        {
            using var prepared = intake.Prepare(tenant, Encoding.UTF8.GetBytes(SignedWebhook.Body(data, WebhookSamples.Now)));
            return Encoding.UTF8.GetString(prepared.EnvelopeJson.Span);
        }

        // Warm-up: tables and queues created, caches filled, so the counts are of the steady state.
        foreach (var warm in Enumerable.Range(0, 50).Select(i => Envelope(SignedWebhook.Failed($"warm{i}@example.com", WebhookSamples.Now))))
        {
            await processor.ProcessAsync(warm, 1, CancellationToken.None);
        }

        var counts = new double[Mix.Length];
        var kinds = new string[Mix.Length];
        for (int t = 0; t < Mix.Length; t++)
        {
            string[] envelopes = Enumerable.Range(0, eventsPerType).Select(i => Envelope(Mix[t].Make($"cap{t}x{i}@example.com", WebhookSamples.Now))).ToArray();
            counter.Reset();
            foreach (string envelope in envelopes)
            {
                await processor.ProcessAsync(envelope, 1, CancellationToken.None);
            }

            counts[t] = counter.Total / (double)eventsPerType;
            kinds[t] = counter.Summary(eventsPerType);
        }

        return (counts, kinds);
    }

    private const double SimulatedRate = 10_000;

    private sealed record SimulationResult(double BusiestShare, double SustainedAccepted, long BurstRefused, long PeakHeldByMailgun, double? AllAcceptedAfter, long Lost, long PeakBacklog, int PeakInstances);

    /// <summary>Time-stepped model of K shards; see <see cref="RunAsync"/> for what it assumes.</summary>
    private static SimulationResult Simulate(int shards, double rate, double requestsPerEvent)
    {
        const double step = 0.1;
        const double duration = 9 * 3600, burstStart = 120, burstEnd = 180;
        const int tenants = 10_000;

        // Each shard's share of the traffic: Zipf volumes over tenants, a tenant on the shard of its id's hash.
        var share = new double[shards];
        double harmonic = Enumerable.Range(1, tenants).Sum(r => 1.0 / r);
        for (int rank = 1; rank <= tenants; rank++)
        {
            share[(int)(StableHash($"loc{rank:D5}") % (uint)shards)] += 1.0 / rank / harmonic;
        }

        var backlog = new double[shards];
        var instances = new double[shards];
        // Ordered by due time: a retry of attempt n is due later than every retry of attempt n-1 enqueued before it only in
        // general, so a priority queue keeps the order exact.
        var retries = new PriorityQueue<(double Events, int Shard, int Attempt), double>();
        double lost = 0, held = 0, peakHeld = 0, sustainedOffered = 0, sustainedAccepted = 0, burstRefused = 0, peak = 0, peakInstances = 0;
        double? allAccepted = null;
        for (double now = 0; now < duration; now += step)
        {
            bool burst = now >= burstStart && now < burstEnd;
            double current = burst ? rate * 10 : rate;
            var due = new double[shards];
            var dueAttempt = new int[shards];
            while (retries.TryPeek(out var r, out double at) && at <= now)
            {
                retries.Dequeue();
                due[r.Shard] += r.Events;
                dueAttempt[r.Shard] = Math.Max(dueAttempt[r.Shard], r.Attempt);
                held -= r.Events;
            }

            for (int s = 0; s < shards; s++)
            {
                double fresh = current * share[s] * step;
                double requestBudget = AccountRequestsPerSecond * step;
                double queueBudget = QueueMessagesPerSecond * step;

                // Webhooks first (they arrive whether or not we keep up); what does not fit is refused and comes back later.
                double arriving = fresh + due[s];
                double accepted = Math.Min(arriving, Math.Min(requestBudget / WebhookRequests, queueBudget));
                if (now < burstStart)
                {
                    sustainedOffered += fresh;
                    sustainedAccepted += Math.Min(fresh, accepted);
                }

                // Fresh webhooks are refused first-come-first-served with the retries due; split the refusal between them
                // in proportion, so each part goes on with its own place in Mailgun's schedule.
                double turnedAway = arriving - accepted;
                if (turnedAway > 1e-9)
                {
                    double freshRefused = turnedAway * fresh / arriving, retryRefused = turnedAway - freshRefused;
                    if (burst)
                    {
                        burstRefused += freshRefused;
                    }

                    if (freshRefused > 0)
                    {
                        held += freshRefused;
                        retries.Enqueue((freshRefused, s, 0), now + (MailgunRetryMinutes[0] * 60));
                    }

                    int next = dueAttempt[s] + 1;
                    if (retryRefused > 0 && next < MailgunRetryMinutes.Length)
                    {
                        held += retryRefused;
                        retries.Enqueue((retryRefused, s, next), now + (MailgunRetryMinutes[next] * 60));
                    }
                    else if (retryRefused > 0)
                    {
                        lost += retryRefused;
                    }
                }

                backlog[s] += accepted;
                requestBudget -= accepted * WebhookRequests;

                // Target-based scaling: about backlog / 24 instances, added at a bounded pace.
                double wanted = Math.Min(MaxInstances, Math.Ceiling(backlog[s] / InFlightPerInstance));
                instances[s] = wanted > instances[s] ? Math.Min(wanted, instances[s] + (InstancesAddedPerSecond * step)) : wanted;
                double slots = Math.Max(1, instances[s]) * InFlightPerInstance * step / SecondsPerMessage;
                double processed = Math.Min(backlog[s], Math.Min(slots, requestBudget / (requestsPerEvent - WebhookRequests)));
                backlog[s] -= processed;
                peak = Math.Max(peak, backlog[s]);
                peakInstances = Math.Max(peakInstances, instances[s]);
            }

            peakHeld = Math.Max(peakHeld, held);
            if (now >= burstEnd && allAccepted is null && held < 1 && retries.Count == 0)
            {
                allAccepted = now - burstEnd;
            }
        }

        return new SimulationResult(share.Max(), sustainedAccepted / sustainedOffered, (long)burstRefused, (long)peakHeld, allAccepted, (long)lost, (long)peak, (int)Math.Ceiling(peakInstances));
    }

    private static uint StableHash(string text)
    {
        // string.GetHashCode is randomised per process: FNV-1a keeps the shard of a tenant the same in every run.
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 16777619;
        }

        return hash;
    }
}
