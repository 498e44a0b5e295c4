using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using MailgunFunctions.App;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.AspNetCore.Mvc;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Tenants;

/// <summary>
/// Every Mailgun event type, in the shapes Mailgun documents today and the shapes its dashboard's "test webhook" sends
/// (tests/MailgunFunctions.Testing/MailgunPayloads, sources in SOURCES.md), signed with a tenant's key and posted to the
/// tenant's URL, lands under that tenant with the effect the platform's rules give it, and nothing lands in poison.
/// </summary>
public class MailgunPayloadTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    public static IEnumerable<MailgunPayloadCase> Cases() => MailgunPayloads.Cases();

    [TestCaseSource(nameof(Cases))]
    public async Task A_payload_lands_under_its_tenant_with_its_effect_and_nothing_in_poison(MailgunPayloadCase payload)
    {
        string storage = await Azurite.SharedConnectionStringAsync();
        using var app = new AppServices(storage, Now);
        string tenant = TestTenants.NewId("pl"), domain = tenant + ".example.com", key = TestTenants.NewSigningKey();
        await TestTenants.RegisterAsync(app.Provider, tenant, key, [domain], mailgunAccountId: "sub-account-1");
        var data = payload.EventData(domain);
        // Each case its own recipient, so the shared tables never mix cases (the shapes reuse Mailgun's sample addresses).
        string recipient = $"contact.{Guid.NewGuid():N}@example.net";
        foreach (var field in new[] { "recipient" })
        {
            if (data[field] is JValue)
            {
                data[field] = recipient;
            }
        }

        // The samples' times are years old; a real event reaches us minutes after it happened, and a temporary DND is
        // only in force for its duration after the bounce.
        if (data["timestamp"] is JValue)
        {
            data["timestamp"] = Now.AddMinutes(-2).ToUnixTimeMilliseconds() / 1000.0;
        }

        if (data["message"]?["headers"]?["to"] is JValue && data["recipient"] is null)
        {
            data["message"]!["headers"]!["to"] = $"Contact <{recipient}>";
        }

        // The events queue is shared by the tests of this assembly: this case's message is found by its token.
        var queue = new QueueClient(storage, StorageNames.EventsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await queue.CreateIfNotExistsAsync();
        var result = (ContentResult)await app.Function<EventsWebhook>().RunForTenantAsync(AppServices.Post(SignedWebhook.Body(data, Now.AddMinutes(-1), key: key)), tenant, CancellationToken.None);
        string outcome = (string)JObject.Parse(result.Content!)["outcome"]!;
        if (payload.Expected == "refused")
        {
            Assert.That((result.StatusCode, outcome), Is.EqualTo(((int?)406, "event_invalid")), payload.Why);
            return;
        }

        Assert.That((result.StatusCode, outcome), Is.EqualTo(((int?)200, "accepted")), $"{payload.File}: {result.Content}");
        var processed = await ProcessOwnMessageAsync(app, queue, tenant);

        var status = data["recipient"] is null && data["message"]?["headers"]?["to"] is null
            ? (Entry: (DndEntry?)null, Status: DndStatus.None)
            : await app.Get<DndStore>().GetStatusAsync(tenant, recipient, CancellationToken.None);
        var history = await app.Get<DndStore>().HistoryAsync(tenant, recipient, CancellationToken.None).ToListAsync();
        Assert.Multiple(() =>
        {
            Assert.That(processed.Outcome, Is.Not.EqualTo(MailgunFunctions.Processing.EventOutcome.Poisoned), $"{payload.File}: poisoned ({processed.PoisonReason})");
            Assert.That(DndNames.Of(status.Status.State), Is.EqualTo(payload.Expected), $"{payload.File}: {payload.Why} (classified {processed.Classification?.Category} by {processed.Classification?.Rule})");
            Assert.That(history, payload.Expected == "none" ? Is.Empty : Has.Count.EqualTo(1), "one history record per DND change, none for activity");
            Assert.That(processed.Tenant, Is.EqualTo(tenant).Or.Null, "applied to the tenant of the URL");
        });
    }

    /// <summary>Takes this tenant's message off the shared queue and runs the queue function's processor on it.</summary>
    private static async Task<MailgunFunctions.Processing.EventProcessingResult> ProcessOwnMessageAsync(AppServices app, QueueClient queue, string tenant)
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            foreach (var m in (await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(1))).Value)
            {
                if (!m.Body.ToString().Contains($"\"tenant\":\"{tenant}\"", StringComparison.Ordinal))
                {
                    continue;
                }

                var result = await app.Get<MailgunFunctions.Processing.EventProcessor>().ProcessAsync(m.Body.ToString(), 1, CancellationToken.None);
                await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
                return result;
            }
        }

        throw new AssertionException($"the event of tenant {tenant} never reached the queue");
    }
}
