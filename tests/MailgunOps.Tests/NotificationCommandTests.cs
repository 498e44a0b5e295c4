using MailgunFunctions;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunOps.Tests;

/// <summary>
/// <c>notifications list|replay</c> on dead letters parked by the Core's own <see cref="NotificationDeadLetters"/>: the operator
/// sees what the platform never received, and a replay puts it back on the retry queue and out of the table.
/// </summary>
[NonParallelizable]
public sealed class NotificationCommandTests : OpsHarness
{
    private async Task<DndNotice> ParkAsync(string address, long version)
    {
        await using var services = TestSettings.Services(TestSettings.Configuration(Storage), (s, c) => s.AddMailgunCore(c), TimeProvider.System);
        var now = DateTimeOffset.UtcNow;
        var unsubscribed = new DndStatus(DndState.Permanent, now, null, "platform-unsubscribe");
        var notice = DndNotice.For(DndChange.PlatformUnsubscribe(now, "link 0123456789abcdef"), Tenant, address, "c-9", version, DndStatus.None, unsubscribed, now);
        var attempt = new NotificationAttempt { Attempt = 40, FirstAttemptAt = now.AddDays(-1), DueAt = now, LastError = "503 from the platform", Notice = notice };
        await services.GetRequiredService<NotificationDeadLetters>().ParkAsync(attempt, "503 from the platform", CancellationToken.None);
        return notice;
    }

    private async Task<List<string>> RetryQueueNoticeIdsAsync()
    {
        await using var services = TestSettings.Services(TestSettings.Configuration(Storage), (s, c) => s.AddMailgunCore(c), TimeProvider.System);
        var queue = services.GetRequiredService<StorageClients>().Queues.GetQueueClient(StorageNames.NotificationsQueue);
        var peeked = await queue.PeekMessagesAsync(32);
        return peeked.Value.Select(m => NotificationAttempt.FromJson(m.Body.ToString()).Notice.Id).ToList();
    }

    [Test]
    public async Task DeadLettersAreListedAndReplayedOntoTheRetryQueue()
    {
        var first = await ParkAsync($"ann.{Guid.NewGuid():N}@example.org", 3);
        var second = await ParkAsync($"bob.{Guid.NewGuid():N}@example.org", 1);

        var list = await RunAsync("notifications", "list", "--tenant", Tenant, "--json");
        var table = await RunAsync("notifications", "list", "--tenant", Tenant);
        var neither = await RunAsync("notifications", "replay", "--tenant", Tenant);
        var unknown = await RunAsync("notifications", "replay", "no-such-letter", "--tenant", Tenant);
        string firstRow = list.JsonLines.Single(l => (string?)l["notice"]!["id"] == first.Id)["id"]!.ToString();
        var one = await RunAsync("notifications", "replay", firstRow, "--tenant", Tenant, "--json");
        var afterOne = await RunAsync("notifications", "list", "--tenant", Tenant, "--json");
        var rest = await RunAsync("notifications", "replay", "--all", "--tenant", Tenant, "--json");
        var afterAll = await RunAsync("notifications", "list", "--tenant", Tenant, "--json");
        var queued = await RetryQueueNoticeIdsAsync();

        Assert.Multiple(() =>
        {
            Assert.That(list.ExitCode, Is.EqualTo(0), list.ToString());
            Assert.That(list.JsonLines.Select(l => (long?)l["notice"]!["version"]), Is.EquivalentTo(new long?[] { 3, 1 }));
            Assert.That(list.JsonLines.Select(l => (string?)l["lastError"]), Has.All.EqualTo("503 from the platform"));
            Assert.That(table.Stdout, Does.Contain("none->permanent").And.Contain(first.Address));
            Assert.That(neither.ExitCode, Is.EqualTo(ExitCodes.Usage), neither.ToString());
            Assert.That(unknown.ExitCode, Is.EqualTo(ExitCodes.NotFound), unknown.ToString());
            Assert.That(one.ExitCode, Is.EqualTo(0), one.ToString());
            Assert.That(((JArray)one.Json["replayed"]!).Select(t => (string?)t), Is.EqualTo(new[] { firstRow }));
            Assert.That(afterOne.JsonLines.Select(l => (string?)l["notice"]!["id"]), Is.EqualTo(new[] { second.Id }), "only the replayed one left the table");
            Assert.That(rest.ExitCode, Is.EqualTo(0), rest.ToString());
            Assert.That(afterAll.Stdout.Trim(), Is.Empty);
            Assert.That(queued, Does.Contain(first.Id).And.Contain(second.Id), "both are back on the retry queue");
        });
    }
}
