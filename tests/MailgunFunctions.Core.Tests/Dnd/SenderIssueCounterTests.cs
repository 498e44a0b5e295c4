using Azure.Data.Tables;
using MailgunFunctions.Dnd;
using MailgunFunctions.Events;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.Processing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static MailgunFunctions.Tests.Dnd.DndTestEvents;

namespace MailgunFunctions.Tests.Dnd;

public class SenderIssueCounterTests
{
    private ProcessingHarness _harness = null!;

    [SetUp]
    public async Task SetUp() => _harness = await ProcessingHarness.CreateAsync(new Dictionary<string, string?> { ["Dnd:SenderIssueWarningThreshold"] = "3" });

    [TearDown]
    public async Task TearDown() => await _harness.DisposeAsync();

    private SenderIssueCounter Counter => _harness.Services.GetRequiredService<SenderIssueCounter>();

    private MailgunEvent AuthFailure(DateTimeOffset at, int i) =>
        Event(SignedWebhook.Failed($"user{i}@example.net", at, message: "5.7.26 Unauthenticated email from mg.example.com is not accepted due to domain's DMARC policy", domain: _harness.Tenant));

    private Task<SenderIssueCount> RecordAsync(MailgunEvent e) => Counter.RecordAsync(_harness.Tenant, e, new FakeEventClassifier().Classify(e), default);

    [Test]
    public async Task RecordAsync_counts_an_event_once_however_often_it_is_delivered()
    {
        var e = AuthFailure(T0, 1);
        var first = await RecordAsync(e);
        var again = await RecordAsync(e);
        var other = await RecordAsync(AuthFailure(T0.AddMinutes(1), 2));
        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(new SenderIssueCount(_harness.Tenant, T0, 1, 1, true)));
            Assert.That(again.Counted, Is.False);
            Assert.That(again.Total, Is.EqualTo(1));
            Assert.That(other.Total, Is.EqualTo(2));
            Assert.That(other.ForRule, Is.EqualTo(2));
        });
    }

    [Test]
    public async Task RecordAsync_counts_per_bucket_of_event_time()
    {
        await RecordAsync(AuthFailure(T0.AddMinutes(9), 1));
        var next = await RecordAsync(AuthFailure(T0.AddMinutes(10), 2));
        Assert.That(next, Is.EqualTo(new SenderIssueCount(_harness.Tenant, T0.AddMinutes(10), 1, 1, true)));
    }

    [Test]
    public async Task RecordAsync_warns_once_per_threshold_crossing()
    {
        for (int i = 0; i < 7; i++)
        {
            await RecordAsync(AuthFailure(T0.AddSeconds(i), i));
        }

        var storms = _harness.Logs.Entries.Where(l => l.Level == LogLevel.Warning && l.Text.Contains("SENDER ISSUE STORM", StringComparison.Ordinal)).ToList();
        Assert.That(storms, Has.Count.EqualTo(2), string.Join("\n", storms));
        Assert.That(storms[0].Text, Does.Contain("4 sender-side failures").And.Contain("5.7.26"));
    }

    [Test]
    public async Task RecordAsync_from_parallel_writers_counts_every_event_exactly()
    {
        var events = Enumerable.Range(0, 6).Select(i => AuthFailure(T0.AddSeconds(i), i)).ToArray();
        await Task.WhenAll(events.Select(e => Task.Run(() => RecordAsync(e))));
        var table = _harness.Clients.Tables.GetTableClient(StorageNames.SenderIssuesTable);
        string partition = SenderIssueCounter.Partition(_harness.Tenant, T0);
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(x => x.PartitionKey == partition))
        {
            rows.Add(row);
        }

        Assert.Multiple(() =>
        {
            Assert.That(rows.Count(r => r.RowKey.StartsWith("e_", StringComparison.Ordinal)), Is.EqualTo(6));
            Assert.That(rows.Single(r => r.RowKey == "total").GetInt64("Count"), Is.EqualTo(6));
            Assert.That(rows.Single(r => r.RowKey.StartsWith("c_", StringComparison.Ordinal)).GetString("Code"), Is.EqualTo("5.7.26"));
        });
    }
}
