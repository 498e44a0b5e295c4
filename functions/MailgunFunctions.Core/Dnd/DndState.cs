namespace MailgunFunctions.Dnd;

/// <summary>
/// Email Do-Not-Disturb state of one contact address. Ordered by precedence:
/// Locked &gt; Permanent &gt; Temporary &gt; None.
/// </summary>
public enum DndState
{
    /// <summary>"none": we may send.</summary>
    None = 0,
    /// <summary>"temporary": soft bounce; ends at its expiry or at a later delivery.</summary>
    Temporary = 1,
    /// <summary>"permanent": hard bounce, block or unsubscribe; an operator re-enable clears it.</summary>
    Permanent = 2,
    /// <summary>"locked": spam complaint; only an audited admin override touches it.</summary>
    Locked = 3,
}
