namespace MailgunFunctions.Dnd;

/// <summary>
/// Where the store hands the notices of the changes it recorded: the change feed's dispatcher. The store writes the
/// change and its outbox row in one transaction and then asks for dispatch; the change feed sends and confirms. An
/// interface, so that the DND state does not depend on how its changes travel.
/// </summary>
public interface IDndChangeDispatch
{
    /// <summary>
    /// Dispatches now if possible. A failure is logged, not thrown: the change is recorded and stays pending for the
    /// redelivery or the sweeper. Cancellation is passed on.
    /// </summary>
    Task TryDispatchAsync(IReadOnlyList<DndNotice> notices, CancellationToken cancellationToken);
}
