namespace MailgunFunctions.Storage;

/// <summary>Which exceptions mean "storage failed, answer 503 so Mailgun retries" for the webhooks.</summary>
public static class StorageFailure
{
    /// <summary>Anything that goes wrong while talking to storage, but not the caller hanging up.</summary>
    public static bool Is(Exception ex, CancellationToken cancellationToken) =>
        !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested);
}
