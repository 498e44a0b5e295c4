using System.Reflection;
using MailgunFunctions.Dnd;
using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Tests;

/// <summary>Operators alert on log event ids (docs/operations.md and docs/export.md name several): one id must mean one thing.</summary>
public class LogEventIdTests
{
    [Test]
    public void Every_structured_log_event_has_its_own_id()
    {
        var events = typeof(DndStore).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Select(m => (Method: $"{m.DeclaringType!.Name}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(e => e.Attribute is not null)
            .ToList();

        var shared = events.GroupBy(e => e.Attribute!.EventId).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Method))}").ToList();

        Assert.Multiple(() =>
        {
            Assert.That(events, Has.Count.GreaterThan(30), "the scan finds the log methods");
            Assert.That(shared, Is.Empty);
        });
    }
}
