using System.Globalization;

namespace MailgunOps;

/// <summary>
/// Progress of long work on stderr. On a terminal one line is rewritten in place (carriage return, erase to the end of the
/// line) at most every <see cref="TerminalInterval"/>; when stderr is redirected (a pipe, a log file, CI, tests) there are no
/// control codes: a plain line every <see cref="PlainEveryItems"/> items or <see cref="PlainInterval"/>, whichever comes
/// first. A small implementation of our own rather than Spectre.Console: its live displays take over the console, which
/// tests drive through their own writers, and what is needed is one line.
/// Thread-safe: concurrent replays count through <see cref="Add"/>.
/// </summary>
public sealed class ProgressLine : IProgress<long>
{
    public const int PlainEveryItems = 1000;
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan TerminalInterval = TimeSpan.FromMilliseconds(250);

    private readonly TextWriter _error;
    private readonly bool _terminal;
    private readonly string _what;
    private readonly string _unit;
    private readonly long? _total;
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly Lock _gate = new();
    private long _done;
    private long _printedAt;
    private long _printedDone;
    private bool _shown;

    /// <param name="error">stderr.</param>
    /// <param name="terminal">Whether stderr is a terminal (rewrite one line) or redirected (plain lines).</param>
    /// <param name="what">The work, e.g. "replay".</param>
    /// <param name="unit">What is counted, e.g. "events".</param>
    /// <param name="total">How many there will be, when known.</param>
    /// <param name="time">The clock the rate and ETA are measured with.</param>
    public ProgressLine(TextWriter error, bool terminal, string what, string unit, long? total, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _error = error;
        _terminal = terminal;
        _what = what;
        _unit = unit;
        _total = total;
        _time = time;
        _started = time.GetTimestamp();
        _printedAt = _started;
    }

    public long Done => Interlocked.Read(ref _done);

    /// <summary>Counts <paramref name="count"/> more items done and prints when a line is due.</summary>
    public void Add(long count = 1)
    {
        long done = Interlocked.Add(ref _done, count);
        long now = _time.GetTimestamp();
        TimeSpan sincePrinted = _time.GetElapsedTime(Volatile.Read(ref _printedAt), now);
        bool due = _terminal
            ? sincePrinted >= TerminalInterval
            : done - Volatile.Read(ref _printedDone) >= PlainEveryItems || sincePrinted >= PlainInterval;
        if (due)
        {
            Print(done, now, final: false);
        }
    }

    /// <summary>For work that reports counts through <see cref="IProgress{T}"/> (the export's records per page).</summary>
    public void Report(long value) => Add(value);

    /// <summary>The last line: ends the rewritten terminal line, or prints the plain total (when anything was counted).</summary>
    public void Finish()
    {
        long done = Done;
        if (done > 0 || _shown)
        {
            Print(done, _time.GetTimestamp(), final: true);
        }
    }

    private void Print(long done, long now, bool final)
    {
        lock (_gate)
        {
            if (!final && done <= _printedDone)
            {
                // A concurrent caller printed a newer count meanwhile.
                return;
            }

            string line = Format(_what, _unit, done, _total, _time.GetElapsedTime(_started, now));
            if (_terminal)
            {
                _error.Write("\r" + line + "\u001b[K" + (final ? Environment.NewLine : ""));
            }
            else
            {
                _error.WriteLine(line);
            }

            _error.Flush();
            _shown = true;
            Volatile.Write(ref _printedDone, done);
            Volatile.Write(ref _printedAt, now);
        }
    }

    /// <summary>
    /// "replay: 1,200 of 5,000 events (24.0%), 300/s, ETA 0:13", or without a total "backfill: 1,200 events, 300/s".
    /// The rate and ETA are left out until some time has passed (a rate from nothing says nothing).
    /// </summary>
    public static string Format(string what, string unit, long done, long? total, TimeSpan elapsed)
    {
        var text = new System.Text.StringBuilder().Append(what).Append(": ").Append(done.ToString("N0", CultureInfo.InvariantCulture));
        if (total is { } all)
        {
            text.Append(" of ").Append(all.ToString("N0", CultureInfo.InvariantCulture)).Append(' ').Append(unit);
            double percent = all == 0 ? 100 : Math.Min(100, 100.0 * done / all);
            text.Append(" (").Append(percent.ToString("F1", CultureInfo.InvariantCulture)).Append("%)");
        }
        else
        {
            text.Append(' ').Append(unit);
        }

        if (elapsed.TotalSeconds >= 0.5 && done > 0)
        {
            double rate = done / elapsed.TotalSeconds;
            text.Append(", ").Append(rate.ToString(rate >= 10 ? "N0" : "N1", CultureInfo.InvariantCulture)).Append("/s");
            if (total is { } remainingOf && remainingOf > done)
            {
                text.Append(", ETA ").Append(Duration(TimeSpan.FromSeconds((remainingOf - done) / rate)));
            }
        }

        return text.ToString();
    }

    /// <summary>"0:07", "12:30", "2:05:00": minutes and seconds, hours when needed.</summary>
    public static string Duration(TimeSpan span)
    {
        long seconds = (long)Math.Ceiling(span.TotalSeconds);
        long hours = seconds / 3600, minutes = seconds / 60 % 60, rest = seconds % 60;
        return hours > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{hours}:{minutes:D2}:{rest:D2}")
            : string.Create(CultureInfo.InvariantCulture, $"{minutes}:{rest:D2}");
    }
}
