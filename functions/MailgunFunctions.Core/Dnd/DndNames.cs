using System.Text;

namespace MailgunFunctions.Dnd;

/// <summary>
/// The kebab-case names stored in tables and shown by the CLI ("hard-bounce", "permanent-cause", "locked"): the
/// words operators type in filters, independent of C# member names.
/// </summary>
public static class DndNames
{
    public static string Of<TEnum>(TEnum value)
        where TEnum : struct, Enum
    {
        string name = value.ToString();
        var sb = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                sb.Append('-');
            }

            sb.Append(char.ToLowerInvariant(name[i]));
        }

        return sb.ToString();
    }

    public static TEnum? Parse<TEnum>(string? name)
        where TEnum : struct, Enum =>
        Enum.GetValues<TEnum>().Where(v => Of(v) == name).Select(v => (TEnum?)v).FirstOrDefault();
}
