using Polly;
using Polly.Retry;

namespace MailgunFunctions.Storage;

/// <summary>
/// The one retry rule of every read-merge-write under ETags (optimistic concurrency): when the write finds that another
/// writer got there first since the read (a 412 on the ETag, a 409 on an insert, a 404 after a delete: which ones, the
/// caller's <c>isConflict</c> says), the whole attempt (read, merge, write) runs again after a short pause with jitter,
/// which spreads competing writers apart, up to <c>maxAttempts</c> attempts in all. After the last the conflict
/// propagates and the caller's message goes back to its queue. The pauses are not business time, so they run on the
/// system clock, not the injected one.
/// </summary>
public static class ConcurrencyRetry
{
    public static ResiliencePipeline Pipeline(int maxAttempts, Func<Exception, bool> isConflict)
    {
        ArgumentNullException.ThrowIfNull(isConflict);
        if (maxAttempts <= 1)
        {
            return ResiliencePipeline.Empty;
        }

        return new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && isConflict(ex)),
                MaxRetryAttempts = maxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(10),
                MaxDelay = TimeSpan.FromMilliseconds(250),
            })
            .Build();
    }
}
