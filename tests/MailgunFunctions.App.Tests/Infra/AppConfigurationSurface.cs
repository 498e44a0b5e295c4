using System.Collections;
using System.Reflection;
using System.Text.RegularExpressions;
using MailgunFunctions.App;

namespace MailgunFunctions.Tests.Infra;

/// <summary>One setting the app reads, in app-setting form (<c>Section__Property</c>).</summary>
/// <param name="Name">Exact setting name, or the prefix before <c>__*</c> when <paramref name="IsPrefix"/>.</param>
/// <param name="IsPrefix">Dictionaries and lists: at least one <c>Name__*</c> entry is required.</param>
/// <param name="Owner">Where the app reads it (options class and property, or a binding expression).</param>
/// <param name="Property">The options property, when the setting binds to one.</param>
public sealed record RequiredSetting(string Name, bool IsPrefix, string Owner, PropertyInfo? Property = null)
{
    public string Display => IsPrefix ? $"{Name}__*" : Name;

    public bool IsSatisfiedBy(IEnumerable<string> settingNames) => IsPrefix
        ? settingNames.Any(s => s.StartsWith(Name + "__", StringComparison.OrdinalIgnoreCase))
        : settingNames.Contains(Name, StringComparer.OrdinalIgnoreCase);

    public bool Covers(string settingName) => IsPrefix
        ? settingName.StartsWith(Name + "__", StringComparison.OrdinalIgnoreCase)
        : string.Equals(settingName, Name, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Everything the app reads from configuration, discovered by reflection so that a new option cannot be
/// forgotten in infra/main.bicep: every options class (a class with <c>public const string Section</c>) in the
/// Core and App assemblies, and every <c>%Setting%</c> binding expression on a function's trigger attributes.
/// </summary>
public static partial class AppConfigurationSurface
{
    public static IReadOnlyList<Assembly> Assemblies { get; } =
    [
        typeof(CoreRegistration).Assembly,
        typeof(FunctionsRegistration).Assembly,
    ];

    public static IReadOnlyList<Type> OptionsTypes() => Assemblies
        .SelectMany(a => a.GetTypes())
        .Where(t => t is { IsClass: true, IsAbstract: false } && SectionOf(t) is not null)
        .OrderBy(t => t.FullName, StringComparer.Ordinal)
        .ToList();

    public static string? SectionOf(Type type) =>
        type.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field
        && field.FieldType == typeof(string)
            ? (string?)field.GetRawConstantValue()
            : null;

    public static IReadOnlyList<RequiredSetting> RequiredSettings() =>
        OptionsSettings().Concat(BindingExpressionSettings()).ToList();

    /// <summary>The settable public properties of every options class, as <c>Section__Property</c> names.</summary>
    public static IEnumerable<RequiredSetting> OptionsSettings()
    {
        foreach (var type in OptionsTypes())
        {
            foreach (var setting in SettingsOf(type, SectionOf(type)!.Replace(":", "__", StringComparison.Ordinal), type.Name))
            {
                yield return setting;
            }
        }
    }

    /// <summary><c>%Name%</c> expressions in the trigger attributes of the app's functions (schedules, queue names...).</summary>
    public static IEnumerable<RequiredSetting> BindingExpressionSettings()
    {
        var methods = typeof(FunctionsRegistration).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static))
            .Where(m => m.GetCustomAttributes().Any(a => a.GetType().Name == "FunctionAttribute"));
        foreach (var method in methods)
        {
            var attributes = method.GetParameters().SelectMany(p => p.GetCustomAttributes()).Concat(method.GetCustomAttributes());
            foreach (var attribute in attributes)
            {
                var values = attribute.GetType().GetProperties()
                    .Where(p => p.PropertyType == typeof(string) && p.GetIndexParameters().Length == 0)
                    .Select(p => p.GetValue(attribute) as string)
                    .OfType<string>();
                foreach (Match match in values.SelectMany(v => BindingExpression().Matches(v)))
                {
                    yield return new RequiredSetting(
                        match.Groups[1].Value.Replace(":", "__", StringComparison.Ordinal), IsPrefix: false, $"{method.DeclaringType?.Name}.{method.Name} ({attribute.GetType().Name})");
                }
            }
        }
    }

    private static IEnumerable<RequiredSetting> SettingsOf(Type type, string prefix, string owner)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0);
        foreach (var property in properties)
        {
            string name = $"{prefix}__{KeyName(property)}";
            string where = $"{owner}.{property.Name}";
            if (IsScalar(property.PropertyType))
            {
                yield return new RequiredSetting(name, IsPrefix: false, where, property);
            }
            else if (typeof(IEnumerable).IsAssignableFrom(property.PropertyType))
            {
                yield return new RequiredSetting(name, IsPrefix: true, where, property);
            }
            else
            {
                foreach (var nested in SettingsOf(property.PropertyType, name, where))
                {
                    yield return nested;
                }
            }
        }
    }

    // [ConfigurationKeyName("...")] renames the key the binder looks for.
    private static string KeyName(PropertyInfo property) =>
        property.GetCustomAttributes().FirstOrDefault(a => a.GetType().Name == "ConfigurationKeyNameAttribute") is { } attribute
            ? (string)attribute.GetType().GetProperty("Name")!.GetValue(attribute)!
            : property.Name;

    private static bool IsScalar(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal)
            || type == typeof(TimeSpan) || type == typeof(DateTimeOffset) || type == typeof(DateTime)
            || type == typeof(Guid) || type == typeof(Uri) || type == typeof(TimeOnly) || type == typeof(DateOnly);
    }

    [GeneratedRegex("%([A-Za-z0-9_:.-]+)%")]
    private static partial Regex BindingExpression();
}
