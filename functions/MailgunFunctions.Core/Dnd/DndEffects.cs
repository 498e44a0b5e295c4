using MailgunFunctions.Classification;

namespace MailgunFunctions.Dnd;

/// <summary>
/// What each category of the classifier does to the contact's DND (the platform's rules): the one place where that is
/// decided, so the classification and the DND state can never disagree. The classifier only names the category.
/// </summary>
public static class DndEffects
{
    /// <summary>The DND effect of each category.</summary>
    public static DndState EffectOf(BounceCategory category) => category switch
    {
        BounceCategory.HardBounce or BounceCategory.Blocked or BounceCategory.Unsubscribe => DndState.Permanent,
        BounceCategory.SoftBounce => DndState.Temporary,
        BounceCategory.Complaint => DndState.Locked,
        _ => DndState.None,
    };

    /// <summary>The kebab-case name of a DND state, as the CLI, JSON output and docs spell it.</summary>
    public static string ToProductName(this DndState state) => state switch
    {
        DndState.None => "none",
        DndState.Temporary => "temporary",
        DndState.Permanent => "permanent",
        DndState.Locked => "locked",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown DND state."),
    };

    /// <summary>Reads a DND state name as the CLI accepts it (kebab-case, case-insensitive).</summary>
    public static bool TryParseDndState(string? name, out DndState state) => ProductNames.TryParse(name, ToProductName, out state);

    extension(Classification.Classification classification)
    {
        /// <summary>The DND effect of the classification's category (<see cref="EffectOf"/>).</summary>
        public DndState Effect => EffectOf(classification.Category);
    }
}
