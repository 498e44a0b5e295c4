using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Testing;

/// <summary>A logger provider that keeps every formatted message (with its exception) for assertions.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Category, string Text)> _entries = new();
    private readonly ConcurrentQueue<(int EventId, LogLevel Level, string Text)> _events = new();
    private readonly ConcurrentQueue<(string Category, string Text)> _scopes = new();

    /// <summary>Every scope opened (its text and properties): a secret in a scope reaches every sink that writes scopes.</summary>
    public IReadOnlyList<(string Category, string Text)> Scopes => _scopes.ToArray();

    public IReadOnlyList<(LogLevel Level, string Category, string Text)> Entries => _entries.ToArray();

    /// <summary>The same entries with their event ids (operators alert on ids, so tests assert them).</summary>
    public IReadOnlyList<(int EventId, LogLevel Level, string Text)> Events => _events.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            string text = state.ToString() ?? "";
            if (state is IEnumerable<KeyValuePair<string, object?>> properties)
            {
                text += " | " + string.Join(", ", properties.Select(p => $"{p.Key}={p.Value}"));
            }

            owner._scopes.Enqueue((category, text));
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string text = formatter(state, exception);
            if (state is IEnumerable<KeyValuePair<string, object?>> properties)
            {
                text += " | " + string.Join(", ", properties.Select(p => $"{p.Key}={p.Value}"));
            }

            if (exception is not null)
            {
                text += " | " + exception;
            }

            owner._entries.Enqueue((logLevel, category, text));
            owner._events.Enqueue((eventId.Id, logLevel, text));
        }
    }
}
