using System.CommandLine;
using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;
using MailgunFunctions.Events;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
// Inside MailgunFunctions.* "Classification" is the namespace; the record needs an alias.
using ClassificationResult = MailgunFunctions.Classification.Classification;

namespace MailgunOps;

/// <summary><c>classify</c>: runs the pipeline's <see cref="BounceClassifier"/> on given fields or on event-data lines.</summary>
public static class ClassifyCommand
{
    public static Command Build(OpsRuntime runtime)
    {
        var file = new Option<FileInfo?>("--file") { Description = "Mailgun event-data objects, one per line (JSON Lines); writes one JSON line per input." };
        var code = new Option<int?>("--code") { Description = "SMTP or Mailgun delivery-status code (550, 605...)." };
        var enhanced = new Option<string?>("--enhanced") { Description = "Enhanced status code X.Y.Z (RFC 3463)." };
        var message = new Option<string?>("--message") { Description = "The server's answer text." };
        var severity = new Option<string?>("--severity") { Description = "permanent or temporary." };
        var reason = new Option<string?>("--reason") { Description = "Mailgun's reason (suppress-bounce, old, generic...)." };
        var eventType = new Option<string?>("--event") { Description = "Event type (default: failed)." };
        var command = new Command("classify", "Explain how the pipeline classifies a failure: category, DND effect, rule and why.")
        {
            file, code, enhanced, message, severity, reason, eventType,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var classifier = ctx.Get<BounceClassifier>();
            if (parse.GetValue(file) is { } input)
            {
                if (!input.Exists)
                {
                    throw new OpsException(ExitCodes.NotFound, $"file '{input.FullName}' does not exist");
                }

                int failed = 0;
                int lineNumber = 0;
                foreach (string line in File.ReadLines(input.FullName))
                {
                    token.ThrowIfCancellationRequested();
                    lineNumber++;
                    if (string.IsNullOrWhiteSpace(line))
                    {
                        continue;
                    }

                    try
                    {
                        var e = MailgunEventParser.Parse(ReplayCommands.EventData(JObject.Parse(line)));
                        ctx.Output.Line(View(classifier.Classify(e), e.Id, lineNumber));
                    }
                    catch (Exception ex) when (ex is JsonException or EventFormatException or OpsException)
                    {
                        failed++;
                        ctx.Output.Line(new { line = lineNumber, error = ex is EventFormatException f ? f.Reason : ex.Message });
                    }
                }

                return failed == 0 ? ExitCodes.Ok : ExitCodes.Problems;
            }

            var fields = new ClassificationInput
            {
                EventType = parse.GetValue(eventType) ?? "failed",
                Code = parse.GetValue(code),
                EnhancedCode = parse.GetValue(enhanced),
                Message = parse.GetValue(message),
                Severity = parse.GetValue(severity),
                Reason = parse.GetValue(reason),
            };
            var result = classifier.Classify(fields);
            if (ctx.Output.Json)
            {
                ctx.Output.Document(View(result, null, null));
            }
            else
            {
                ctx.Output.Text($"category:    {result.Category.ToProductName()}");
                ctx.Output.Text($"dnd:         {result.Effect.ToProductName()}");
                ctx.Output.Text($"rule:        {result.Rule}");
                ctx.Output.Text($"signal:      {result.Signal.ToProductName()}");
                if (result.Words is not null)
                {
                    ctx.Output.Text($"words:       {result.Words}");
                }

                // What pointed elsewhere and lost: the code read alone, other causes' words, the severity.
                ctx.Output.Text($"outranked:   {result.Outranked ?? "nothing (every signal agrees)"}");
                ctx.Output.Text($"explanation: {result.Explanation}");
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static object View(ClassificationResult c, string? id, int? line) => new
    {
        id,
        line,
        category = c.Category.ToProductName(),
        dnd = c.Effect.ToProductName(),
        explanation = c.Explanation,
        rule = c.Rule,
        signal = c.Signal.ToProductName(),
        words = c.Words,
        outranked = c.Outranked,
        code = c.Code,
        enhancedCode = c.EnhancedCode,
    };
}
