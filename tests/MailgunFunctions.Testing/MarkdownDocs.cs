using System.Text;
using System.Text.RegularExpressions;

namespace MailgunFunctions.Testing;

/// <summary>One row of a Markdown table, with the table's header and where the row is.</summary>
public sealed record MarkdownTableRow(string File, int Line, IReadOnlyList<string> Header, IReadOnlyList<string> Cells)
{
    /// <summary>The names written in backticks in the row's first cell.</summary>
    public IReadOnlyList<string> FirstCellCodeSpans => MarkdownDocs.CodeSpans(Cells.Count > 0 ? Cells[0] : "");

    public string Where => $"{File}:{Line}";
}

/// <summary>A relative link of a Markdown file: its target path (empty for the same file) and its anchor.</summary>
public sealed record MarkdownLink(string File, int Line, string Target, string Path, string? Anchor)
{
    public string Where => $"{File}:{Line}";
}

/// <summary>
/// Reads the repository's Markdown the way the docs tests need it: the documentation pages, their tables outside code
/// blocks, their relative links, and the anchors GitHub makes from headings. Kept small and strict on purpose: the docs
/// are written to be read by it (see TESTING.md, "Docs that cannot drift").
/// </summary>
public static partial class MarkdownDocs
{
    /// <summary>Folders never searched for Markdown: packages, build output, and dot-folders (.git, local tools and data).</summary>
    private static readonly string[] SkippedFolders = ["node_modules", "bin", "obj", "artifacts"];

    /// <summary>The documentation of the product: the front page, ARCHITECTURE.md, TESTING.md and every page under docs/.</summary>
    public static IReadOnlyList<string> DocumentationPages()
    {
        string root = RepositoryRoot.Find();
        var pages = new List<string> { "README.md", "ARCHITECTURE.md", "TESTING.md" };
        pages.AddRange(Directory.GetFiles(Path.Combine(root, "docs"), "*.md")
            .Select(p => Relative(root, p))
            .OrderBy(p => p, StringComparer.Ordinal));
        return pages;
    }

    /// <summary>Every Markdown file of the repository, as paths relative to its root with '/' separators.</summary>
    public static IReadOnlyList<string> AllMarkdownFiles()
    {
        string root = RepositoryRoot.Find();
        var found = new List<string>();
        var folders = new Stack<string>([root]);
        while (folders.Count > 0)
        {
            string folder = folders.Pop();
            found.AddRange(Directory.GetFiles(folder, "*.md").Select(p => Relative(root, p)));
            foreach (string sub in Directory.GetDirectories(folder))
            {
                string name = System.IO.Path.GetFileName(sub);
                if (!name.StartsWith('.') && !SkippedFolders.Contains(name, StringComparer.Ordinal))
                {
                    folders.Push(sub);
                }
            }
        }

        return found.OrderBy(p => p, StringComparer.Ordinal).ToList();
    }

    public static string Read(string relativePath) => File.ReadAllText(System.IO.Path.Combine(RepositoryRoot.Find(), relativePath));

    /// <summary>The lines of a file that are Markdown text (not inside fenced code blocks), with their 1-based numbers.</summary>
    public static IEnumerable<(int Line, string Text)> TextLines(string content)
    {
        string? fence = null;
        string[] lines = content.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            var opener = FenceLine().Match(line);
            if (opener.Success)
            {
                string marker = opener.Groups[1].Value;
                if (fence is null)
                {
                    fence = marker;
                    continue;
                }

                if (marker[0] == fence[0] && marker.Length >= fence.Length && line.Trim().Length == marker.Length)
                {
                    fence = null;
                    continue;
                }
            }

            if (fence is null)
            {
                yield return (i + 1, line);
            }
        }
    }

    /// <summary>Every row of every table of the given files (header and separator rows excluded).</summary>
    public static IEnumerable<MarkdownTableRow> TableRows(IEnumerable<string> files)
    {
        foreach (string file in files)
        {
            IReadOnlyList<string>? header = null;
            bool separatorSeen = false;
            foreach (var (line, text) in TextLines(Read(file)))
            {
                if (!text.TrimStart().StartsWith('|'))
                {
                    header = null;
                    separatorSeen = false;
                    continue;
                }

                var cells = Cells(text);
                if (header is null)
                {
                    header = cells;
                }
                else if (!separatorSeen && cells.All(c => SeparatorCell().IsMatch(c)))
                {
                    separatorSeen = true;
                }
                else
                {
                    yield return new MarkdownTableRow(file, line, header, cells);
                }
            }
        }
    }

    /// <summary>The cells of a table row: split on '|' outside code spans, '\|' kept as text.</summary>
    public static IReadOnlyList<string> Cells(string row)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        bool inCode = false;
        string text = row.Trim();
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\\' && i + 1 < text.Length && text[i + 1] == '|')
            {
                cell.Append('|');
                i++;
            }
            else if (c == '`')
            {
                inCode = !inCode;
                cell.Append(c);
            }
            else if (c == '|' && !inCode)
            {
                cells.Add(cell.ToString().Trim());
                cell.Clear();
            }
            else
            {
                cell.Append(c);
            }
        }

        cells.Add(cell.ToString().Trim());
        // A row written "| a | b |" has an empty piece before the first and after the last bar.
        if (text.StartsWith('|'))
        {
            cells.RemoveAt(0);
        }

        if (text.EndsWith('|') && cells.Count > 0)
        {
            cells.RemoveAt(cells.Count - 1);
        }

        return cells;
    }

    /// <summary>The contents of the code spans (backticks) of a piece of Markdown.</summary>
    public static IReadOnlyList<string> CodeSpans(string markdown) =>
        CodeSpan().Matches(markdown).Select(m => m.Groups[1].Value).ToList();

    /// <summary>The relative links of a file (inline links, images and reference definitions); web and mail links are left out.</summary>
    public static IEnumerable<MarkdownLink> RelativeLinks(string file)
    {
        foreach (var (line, text) in TextLines(Read(file)))
        {
            string withoutCode = CodeSpan().Replace(text, m => new string(' ', m.Length));
            var targets = InlineLink().Matches(withoutCode).Select(m => m.Groups[1].Value)
                .Concat(ReferenceDefinition().Matches(withoutCode).Select(m => m.Groups[1].Value));
            foreach (string raw in targets)
            {
                string target = raw.Trim('<', '>');
                if (UriScheme().IsMatch(target) || target.StartsWith("//", StringComparison.Ordinal))
                {
                    continue;
                }

                int hash = target.IndexOf('#', StringComparison.Ordinal);
                string path = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
                string? anchor = hash < 0 ? null : Uri.UnescapeDataString(target[(hash + 1)..]);
                yield return new MarkdownLink(file, line, target, path, anchor);
            }
        }
    }

    /// <summary>
    /// The anchors GitHub gives a file's headings: the heading's text without markup, lower-cased, every character that
    /// is not a letter, digit, space, '-' or '_' dropped, spaces made '-'; a repeated slug gets "-1", "-2"... Explicit
    /// <c>&lt;a id="..."&gt;</c> / <c>name</c> anchors count too.
    /// </summary>
    public static IReadOnlySet<string> Anchors(string content)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (_, text) in TextLines(content))
        {
            foreach (Match explicitAnchor in ExplicitAnchor().Matches(text))
            {
                anchors.Add(explicitAnchor.Groups[1].Value);
            }

            var heading = Heading().Match(text);
            if (!heading.Success)
            {
                continue;
            }

            string slug = Slug(heading.Groups[1].Value);
            int count = seen.GetValueOrDefault(slug);
            seen[slug] = count + 1;
            anchors.Add(count == 0 ? slug : $"{slug}-{count}");
        }

        return anchors;
    }

    public static string Slug(string heading)
    {
        string text = MarkdownLinkText().Replace(heading, "$1");
        var slug = new StringBuilder();
        foreach (char c in text.Trim().ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c == '-' || c == '_')
            {
                slug.Append(c);
            }
            else if (c == ' ')
            {
                slug.Append('-');
            }
        }

        return slug.ToString();
    }

    private static string Relative(string root, string path) => System.IO.Path.GetRelativePath(root, path).Replace('\\', '/');

    [GeneratedRegex(@"^\s{0,3}(`{3,}|~{3,})")]
    private static partial Regex FenceLine();

    [GeneratedRegex(@"^\s*:?-{3,}:?\s*$")]
    private static partial Regex SeparatorCell();

    [GeneratedRegex(@"`([^`]+)`")]
    private static partial Regex CodeSpan();

    // [text](target) or ![alt](target), with an optional "title"; the text may hold one level of brackets.
    [GeneratedRegex(@"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+""[^""]*"")?\s*\)")]
    private static partial Regex InlineLink();

    [GeneratedRegex(@"^\s{0,3}\[[^\]]+\]:\s+(\S+)")]
    private static partial Regex ReferenceDefinition();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.-]*:")]
    private static partial Regex UriScheme();

    [GeneratedRegex(@"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"<a\s+(?:id|name)=""([^""]+)""")]
    private static partial Regex ExplicitAnchor();

    [GeneratedRegex(@"\[([^\]]*)\]\([^)]*\)")]
    private static partial Regex MarkdownLinkText();
}
