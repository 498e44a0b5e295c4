using System.Diagnostics.Metrics;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MailgunFunctions.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Tests.Infra;

/// <summary>
/// The alert rules and the workbook (infra/modules/alerts.bicep, infra/workbooks/) query what the app writes: every log
/// event id they name is a [LoggerMessage] id of the Core, every metric name an instrument of <see cref="MailgunMetrics"/>.
/// A renamed instrument or a renumbered event fails here instead of leaving an alert that never fires.
/// </summary>
public sealed partial class AlertsTemplateTests
{
    private static readonly string[] ExpectedRules =
        ["poison-queue", "sender-issue-storm", "export-failure", "rate-warning", "rate-critical", "webhook-401-spike", "webhook-503-spike"];

    [Test]
    public async Task Every_alert_rule_and_workbook_query_names_events_and_metrics_the_app_writes()
    {
        var compiled = await BicepCli.RunAsync("build", Path.Combine(BicepCli.InfraFolder, "modules", "alerts.bicep"), "--stdout");
        Assert.That(compiled.ExitCode, Is.Zero, compiled.Diagnostics);
        var rules = JsonNode.Parse(compiled.StandardOutput)!["variables"]!["rules"]!.AsArray();
        var workbook = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(BicepCli.InfraFolder, "workbooks", "operations.workbook.json")))!;
        var queries = rules.Select(r => r!["query"]!.ToString())
            .Concat(workbook["items"]!.AsArray().Select(i => i!["content"]!["query"]?.ToString()).OfType<string>())
            .ToList();

        var eventIds = queries.SelectMany(q => EventIdPattern().Matches(q)).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        var metricNames = queries.SelectMany(q => MetricPattern().Matches(q)).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Multiple(() =>
        {
            Assert.That(rules.Select(r => r!["name"]!.ToString()), Is.EquivalentTo(ExpectedRules));
            Assert.That(eventIds, Is.SupersetOf(new[] { 2001, 3004, 7021, 15001, 15002 }), "the queries are read");
            Assert.That(eventIds, Is.SubsetOf(LogEventIds()), "an event id no [LoggerMessage] has");
            Assert.That(metricNames, Has.Count.GreaterThanOrEqualTo(6), "the workbook charts every instrument");
            Assert.That(metricNames, Is.SubsetOf(InstrumentNames()), "a metric MailgunMetrics does not create");
        });
    }

    private static HashSet<int> LogEventIds() => typeof(CoreRegistration).Assembly.GetTypes()
        .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
        .Select(m => m.GetCustomAttribute<LoggerMessageAttribute>())
        .OfType<LoggerMessageAttribute>()
        .Select(a => a.EventId)
        .ToHashSet();

    private static HashSet<string> InstrumentNames()
    {
        using var services = new ServiceCollection().AddMailgunMetrics().BuildServiceProvider();
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == MailgunMetrics.MeterName)
                {
                    names.Add(instrument.Name);
                }
            },
        };
        listener.Start();
        _ = services.GetRequiredService<MailgunMetrics>();
        return names;
    }

    /// <summary>A quoted number of 4 or 5 digits: an event id (result codes such as "401" have 3).</summary>
    [GeneratedRegex("\"(\\d{4,5})\"")]
    private static partial Regex EventIdPattern();

    [GeneratedRegex("\"(mailgun\\.[a-z_.]+)\"")]
    private static partial Regex MetricPattern();
}
