using MailgunFunctions.Testing;

namespace MailgunFunctions.Tests.Docs;

/// <summary>
/// Every relative link in the repository's Markdown points at a file that exists, and every <c>#anchor</c> at a heading
/// of its target (GitHub's anchors), so moving or renaming a section cannot leave a dead link behind.
/// </summary>
public class MarkdownLinkTests
{
    [Test]
    public void Every_relative_link_and_anchor_resolves()
    {
        string root = RepositoryRoot.Find();
        var files = MarkdownDocs.AllMarkdownFiles();
        var anchorsByFile = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
        IReadOnlySet<string> AnchorsOf(string file) =>
            anchorsByFile.TryGetValue(file, out var known) ? known : anchorsByFile[file] = MarkdownDocs.Anchors(MarkdownDocs.Read(file));

        var links = files.SelectMany(MarkdownDocs.RelativeLinks).ToList();
        var broken = new List<string>();
        foreach (var link in links)
        {
            string target = link.Path.Length == 0
                ? link.File
                : Path.GetRelativePath(root, Path.GetFullPath(Path.Combine(root, Path.GetDirectoryName(link.File) ?? "", link.Path))).Replace('\\', '/');
            string full = Path.Combine(root, target);
            if (!File.Exists(full) && !Directory.Exists(full))
            {
                broken.Add($"{link.Where}: ({link.Target}) -> {target} does not exist");
            }
            else if (link.Anchor is { Length: > 0 } anchor && target.EndsWith(".md", StringComparison.OrdinalIgnoreCase)
                && !AnchorsOf(target).Contains(anchor))
            {
                broken.Add($"{link.Where}: ({link.Target}) -> no heading with anchor #{anchor} in {target}");
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(files, Does.Contain("README.md").And.Contain("docs/dnd.md"), "the scan finds the docs");
            Assert.That(links.Count(l => l.Anchor is not null), Is.GreaterThan(10), "the scan finds links with anchors");
            Assert.That(broken, Is.Empty, "Broken links in the Markdown:\n  " + string.Join("\n  ", broken));
        });
    }

    [TestCase("Table `DndEntries`: one row per (tenant, address)", "table-dndentries-one-row-per-tenant-address")]
    [TestCase("Queue settings (`host.json` → `extensions.queues`)", "queue-settings-hostjson--extensionsqueues")]
    [TestCase("The platform's own unsubscribe link", "the-platforms-own-unsubscribe-link")]
    [TestCase("Operator CLI: `mailgun-ops`", "operator-cli-mailgun-ops")]
    [TestCase("snake_case and [a link](x.md) stay", "snake_case-and-a-link-stay")]
    public void Anchors_follow_GitHubs_slugs(string heading, string anchor) =>
        Assert.That(MarkdownDocs.Slug(heading), Is.EqualTo(anchor));

    [Test]
    public void Repeated_headings_get_numbered_anchors_and_code_blocks_are_not_headings()
    {
        string page = "# Options\n\n```bash\n# not a heading\n```\n\n## Options\n\n### Options\n";

        Assert.That(MarkdownDocs.Anchors(page), Is.EquivalentTo(new[] { "options", "options-1", "options-2" }));
    }
}
