using System.Globalization;
using Microsoft.Extensions.Logging;
using NCrontab;

namespace FunctionsHost;

/// <summary>
/// Drives one timer-triggered function: its schedule (NCRONTAB with seconds, five fields, or a constant
/// <c>hh:mm:ss</c> interval, after %NAME% was resolved from the settings) in UTC, <c>runOnStartup</c>, and runs on
/// demand. Runs of one function never overlap, as the real host's singleton lock ensures.
/// </summary>
internal sealed class TimerTrigger : TriggerLoop
{
    private readonly StandInHost _host;
    private readonly Func<DateTimeOffset, DateTimeOffset> _next;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly bool _runOnStartup;
    private DateTimeOffset? _last;

    private TimerTrigger(StandInHost host, HostedFunction function, ILogger logger)
        : base(host)
    {
        _host = host;
        Function = function;
        string schedule = function.Property("schedule") ?? throw new InvalidDataException($"function {function.Name}: the timer trigger has no schedule");
        _next = Parse(schedule, function.Name);
        _runOnStartup = string.Equals(function.Property("runOnStartup"), "true", StringComparison.OrdinalIgnoreCase);
        StandInLog.TimerScheduled(logger, function.Name, schedule, _next(DateTimeOffset.UtcNow));
        StartLoop();
    }

    public HostedFunction Function { get; }

    public static TimerTrigger Start(StandInHost host, HostedFunction function, ILogger logger) => new(host, function, logger);

    /// <summary>One run now (scheduled or on demand), after any run in progress.</summary>
    public async Task<InvocationRecord> RunAsync(string reason, CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = DateTimeOffset.UtcNow;
            var (input, metadata) = TriggerData.Timer(Function, _last, _next(now), isPastDue: false);
            var record = await _host.InvokeAsync(Function, reason, input, metadata, cancellationToken: cancellationToken).ConfigureAwait(false);
            _last = now;
            return record;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>The next occurrence after a moment, for a schedule as the timer extension accepts it.</summary>
    internal static Func<DateTimeOffset, DateTimeOffset> Parse(string schedule, string functionName)
    {
        if (schedule.Contains(':', StringComparison.Ordinal))
        {
            if (TimeSpan.TryParse(schedule, CultureInfo.InvariantCulture, out var interval) && interval > TimeSpan.Zero)
            {
                return after => after + interval;
            }

            throw new InvalidDataException($"function {functionName}: schedule '{schedule}' is not a valid interval (hh:mm:ss)");
        }

        int fields = schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var cron = CrontabSchedule.TryParse(schedule, new CrontabSchedule.ParseOptions { IncludingSeconds = fields == 6 })
            ?? throw new InvalidDataException($"function {functionName}: schedule '{schedule}' is not a valid NCRONTAB expression (six fields with seconds, or five)");
        return after => new DateTimeOffset(cron.GetNextOccurrence(after.UtcDateTime), TimeSpan.Zero);
    }

    protected override async Task RunAsync(CancellationToken stop)
    {
        if (_runOnStartup)
        {
            await RunAsync("Timer fired at start-up (runOnStartup)", stop).ConfigureAwait(false);
        }

        while (!stop.IsCancellationRequested)
        {
            var due = _next(DateTimeOffset.UtcNow);
            for (var wait = due - DateTimeOffset.UtcNow; wait > TimeSpan.Zero; wait = due - DateTimeOffset.UtcNow)
            {
                // In steps of at most a day: Task.Delay takes no more than about 49 days.
                await Task.Delay(wait < TimeSpan.FromDays(1) ? wait : TimeSpan.FromDays(1), stop).ConfigureAwait(false);
            }

            await RunAsync($"Timer fired at {due:O}", stop).ConfigureAwait(false);
        }
    }
}
