using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace Fisher.Data.Tests;

/// <summary>
/// The repository documents itself: every section of docs/estimators.md that a comment cites with the section sign
/// (in src/, tests/, bench/, tools/ and docs/) is a heading there, every cited identity of its section 10.1 is an
/// item of that list, and no README points outside the repository (a relative path that climbs above the root, an
/// absolute file link, or the machine's shared design folder). Every document cited by file name (<c>name.md</c>) in
/// src/, tests/, bench/, tools/, docs/, build/, deploy/ and the root's build files and README is in docs/ (or, when it
/// has a folder or is a README, at that path inside the repository); every "decision n" cited is a numbered decision
/// of docs/architecture.md, and every section of it cited by quoted title is one of its headings.
/// </summary>
public sealed partial class DocumentationTests
{
    private const string EstimatorsDoc = "docs/estimators.md";

    /// <summary>Folders whose text files may cite docs/estimators.md.</summary>
    private static readonly string[] CitingFolders = ["src", "tests", "bench", "tools", "docs"];

    private static readonly string[] SkippedFolders = ["bin", "obj", ".git", "results", "node_modules"];

    private const string ArchitectureDoc = "docs/architecture.md";

    /// <summary>Folders whose text files may cite a document by file name or a decision of docs/architecture.md.</summary>
    private static readonly string[] DocumentCitingFolders = ["src", "tests", "bench", "tools", "docs", "build", "deploy"];

    /// <summary>Files at the root that may do the same.</summary>
    private static readonly string[] DocumentCitingRootFiles = ["Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "README.md"];

    /// <summary>Names of files the project writes (a result folder's report), not documents it cites.</summary>
    private static readonly string[] WrittenFileNames = ["report.md"];

    /// <summary>
    /// This file: its made-up texts cite missing documents and decisions on purpose, so the scans for documents,
    /// decisions and quoted sections leave it out.
    /// </summary>
    private const string ThisFile = "tests/Fisher.Data.Tests/DocumentationTests.cs";

    [Fact]
    public void EveryCitedSectionIsAHeadingOfEstimatorsMd()
    {
        var root = RepositoryRoot();
        var headings = SectionHeadings(File.ReadAllText(Path.Combine(root, EstimatorsDoc)));
        var missing = new List<string>();
        int citations = 0;
        foreach (var file in CitingFolders.SelectMany(f => TextFiles(Path.Combine(root, f))))
        {
            var text = File.ReadAllText(file);
            foreach (var section in CitedSections(text))
            {
                citations++;
                if (!headings.Contains(section))
                    missing.Add($"{Relative(root, file)}: \u00a7{section}");
            }
        }
        Assert.True(citations > 50, $"found only {citations} section citations: is the scan looking in the right place ({root})?");
        Assert.True(missing.Count == 0,
            $"{EstimatorsDoc} has no heading for these cited sections (add a heading whose text starts with the number):{Environment.NewLine}"
            + string.Join(Environment.NewLine, missing.Distinct(StringComparer.Ordinal)));
    }

    [Fact]
    public void EveryCitedIdentityIsAnItemOfSection10_1()
    {
        var root = RepositoryRoot();
        var items = IdentityItems(File.ReadAllText(Path.Combine(root, EstimatorsDoc)));
        Assert.NotEmpty(items);
        var missing = new List<string>();
        foreach (var file in CitingFolders.SelectMany(f => TextFiles(Path.Combine(root, f))))
        {
            foreach (var identity in CitedIdentities(File.ReadAllText(file)))
            {
                if (!items.Contains(identity))
                    missing.Add($"{Relative(root, file)}: identity {identity}");
            }
        }
        Assert.True(missing.Count == 0,
            $"section 10.1 of {EstimatorsDoc} has no numbered item for:{Environment.NewLine}" + string.Join(Environment.NewLine, missing.Distinct(StringComparer.Ordinal)));
    }

    [Fact]
    public void NoReadmePointsOutsideTheRepository()
    {
        var root = RepositoryRoot();
        var readmes = Files(root)
            .Where(f => Path.GetFileName(f).Equals("README.md", StringComparison.OrdinalIgnoreCase))
            .ToArray();
        Assert.Contains(readmes, f => Relative(root, f) == "README.md");
        var problems = readmes.SelectMany(f => OutsideReferences(root, f, File.ReadAllText(f))).ToArray();
        Assert.True(problems.Length == 0,
            $"READMEs must point only inside the repository:{Environment.NewLine}" + string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void EveryCitedDocumentExists()
    {
        var root = RepositoryRoot();
        var problems = new List<string>();
        int citations = 0;
        foreach (var file in DocumentCitingFiles(root))
        {
            foreach (var path in CitedDocuments(File.ReadAllText(file)))
            {
                citations++;
                if (MissingDocument(root, file, path) is { } problem)
                    problems.Add($"{Relative(root, file)}: {problem}");
            }
        }
        Assert.True(citations > 50, $"found only {citations} document citations: is the scan looking in the right place ({root})?");
        Assert.True(problems.Count == 0,
            $"cited documents must be in docs/ (or at the cited path inside the repository):{Environment.NewLine}"
            + string.Join(Environment.NewLine, problems.Distinct(StringComparer.Ordinal)));
    }

    [Fact]
    public void EveryCitedDecisionIsANumberedDecisionOfArchitectureMd()
    {
        var root = RepositoryRoot();
        var decisions = DecisionItems(File.ReadAllText(Path.Combine(root, ArchitectureDoc)));
        Assert.Contains(1, decisions);
        Assert.Contains(6, decisions);
        var missing = new List<string>();
        int citations = 0;
        foreach (var file in DocumentCitingFiles(root))
        {
            foreach (var decision in CitedDecisions(File.ReadAllText(file)))
            {
                citations++;
                if (!decisions.Contains(decision))
                    missing.Add($"{Relative(root, file)}: decision {decision}");
            }
        }
        Assert.True(citations >= 3, $"found only {citations} decision citations: is the scan looking in the right place ({root})?");
        Assert.True(missing.Count == 0,
            $"the Decisions section of {ArchitectureDoc} has no numbered item for:{Environment.NewLine}"
            + string.Join(Environment.NewLine, missing.Distinct(StringComparer.Ordinal)));
    }

    [Fact]
    public void EveryQuotedSectionOfArchitectureMdIsAHeading()
    {
        var root = RepositoryRoot();
        var headings = HeadingTitles(File.ReadAllText(Path.Combine(root, ArchitectureDoc)));
        Assert.Contains("What a result contains", headings);
        var missing = DocumentCitingFiles(root)
            .SelectMany(f => CitedArchitectureSections(File.ReadAllText(f)).Where(t => !headings.Contains(t)).Select(t => $"{Relative(root, f)}: \"{t}\""))
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        Assert.True(missing.Length == 0,
            $"{ArchitectureDoc} has no heading with these quoted titles:{Environment.NewLine}" + string.Join(Environment.NewLine, missing));
    }

    // The checks must be able to fail: the same functions on made-up text.

    [Fact]
    public void AMissingSectionIsFound()
    {
        var headings = SectionHeadings("# Title\n\n## 3. Variances\n\n### 3.2 Label and input parts\n\n#### 5.3a Output layer\n");
        Assert.Equal(["3", "3.2", "5.3a"], headings.Order(StringComparer.Ordinal));
        var cited = CitedSections("/// see estimators.md \u00a73.2 and \u00a73, \u00a7\u00a73\u20135, \u00a79.4\u20139.6, \u00a75.3a; \u00a7 7.1.");
        Assert.Equal(["3.2", "3", "3", "5", "9.4", "9.6", "5.3a", "7.1"], cited);
        Assert.Equal(["5", "9.4", "9.6", "7.1"], cited.Where(c => !headings.Contains(c)));
    }

    [Fact]
    public void AMissingIdentityIsFound()
    {
        var items = IdentityItems("## 10. Verification\n\n### 10.1 Identities\n\n1. **One**: a.\n2. **Two**: b.\n\n### 10.2 Other\n\n3. not an identity\n");
        Assert.Equal([1, 2], items.Order());
        Assert.Equal([2, 16, 1, 3, 8, 4], CitedIdentities("identity 2; Identity 16; \u00a710.1 items 1, 3 and 8; \u00a710.1 item 4"));
    }

    [Fact]
    public void AReadmeThatLeavesTheRepositoryIsFound()
    {
        var root = Path.Combine(Path.GetTempPath(), "repo");
        var readme = Path.Combine(root, "src", "Lib", "README.md");
        const string text = """
            The mathematics of `../../../shared/design/estimators.md`; see [the docs](../../docs/estimators.md),
            ![picture](../../docs/a.png), [web](https://example.org/a/../b), [abs](/etc/passwd),
            [file](file:///tmp/x.md) and ../../../outside.txt; /work/shared/design/architecture.md.
            """;
        var problems = OutsideReferences(root, readme, text).ToArray();
        Assert.Equal(5, problems.Length);
        Assert.Contains(problems, p => p.Contains("../../../shared/design/estimators.md", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("../../../outside.txt", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("/etc/passwd", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("file:///tmp/x.md", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("/work/shared/design/architecture.md", StringComparison.Ordinal));
        Assert.Empty(OutsideReferences(root, readme, "See [the docs](../../docs/estimators.md) and `../Other/README.md`."));
    }

    [Fact]
    public void AMissingDocumentIsFound()
    {
        using var repo = new TempFolder();
        Directory.CreateDirectory(Path.Combine(repo.Path, "docs"));
        Directory.CreateDirectory(Path.Combine(repo.Path, "src", "Lib"));
        File.WriteAllText(Path.Combine(repo.Path, "docs", "estimators.md"), "# E\n");
        File.WriteAllText(Path.Combine(repo.Path, "src", "Lib", "README.md"), "# Lib\n");
        var source = Path.Combine(repo.Path, "src", "Lib", "Code.cs");
        const string text = """
            /// (docs/architecture.md, decision 1); stack-notes.md and estimators.md §3; writes report.md; see README.md
            /// and ../Lib/README.md, `deploy/README.md`, /work/shared/design/house-style.md, ../../../outside.md, ~/notes.md;
            /// not citations: https://example.org/a/x.md, file:///tmp/y.md, *.md, notes.mdx, README.md5.
            """;
        var cited = CitedDocuments(text);
        Assert.Equal(
            ["docs/architecture.md", "stack-notes.md", "estimators.md", "report.md", "README.md", "../Lib/README.md",
             "deploy/README.md", "/work/shared/design/house-style.md", "../../../outside.md", "~/notes.md"],
            cited);
        var problems = cited.Select(c => MissingDocument(repo.Path, source, c)).ToArray();
        Assert.Equal([true, true, false, false, false, false, true, true, true, true], problems.Select(p => p is not null));
        Assert.All(problems[7..], p => Assert.Contains("outside the repository", p, StringComparison.Ordinal));

        // Once the documents exist in docs/ (and the README at its path), only the outside ones remain.
        File.WriteAllText(Path.Combine(repo.Path, "docs", "architecture.md"), "# A\n");
        File.WriteAllText(Path.Combine(repo.Path, "docs", "stack-notes.md"), "# S\n");
        Directory.CreateDirectory(Path.Combine(repo.Path, "deploy"));
        File.WriteAllText(Path.Combine(repo.Path, "deploy", "README.md"), "# D\n");
        Assert.Equal(3, cited.Count(c => MissingDocument(repo.Path, source, c) is not null));

        // A README cited without a folder must be next to the citing file or above it, inside the repository.
        var tool = Path.Combine(repo.Path, "tools", "make.py");
        Assert.NotNull(MissingDocument(repo.Path, tool, "README.md"));
        File.WriteAllText(Path.Combine(repo.Path, "README.md"), "# Root\n");
        Assert.Null(MissingDocument(repo.Path, tool, "README.md"));
    }

    [Fact]
    public void AMissingDecisionIsFound()
    {
        var decisions = DecisionItems(
            "# A\n\n## Decisions\n\n1. **One.** a\n   continued 4. not an item\n2. **Two.** b\n10. **Ten.** c\n\n## What a result contains\n\n3. not a decision\n");
        Assert.Equal([1, 2, 10], decisions.Order());
        Assert.Empty(DecisionItems("# A\n\n## Other\n\n1. one\n"));
        var cited = CitedDecisions("(docs/architecture.md, decision 1); Decision 10; decisions 5 and 6; decisions 2, 3, and 7; the decision which; decisions)");
        Assert.Equal([1, 10, 5, 6, 2, 3, 7], cited);
        Assert.Equal([5, 6, 3, 7], cited.Where(d => !decisions.Contains(d)));
    }

    [Fact]
    public void AMissingQuotedSectionIsFound()
    {
        var titles = HeadingTitles("# A\n\n## What a result contains\n\n### 2. Numbered\n");
        var cited = CitedArchitectureSections(
            "(architecture.md, \"What a result contains\"), docs/architecture.md \"a result\", architecture.md, \"Tensors\"; estimators.md \"x\"");
        Assert.Equal(["What a result contains", "a result", "Tensors"], cited);
        Assert.Equal(["a result", "Tensors"], cited.Where(t => !titles.Contains(t)));
    }

    /// <summary>The numbers of all headings whose text starts with a section number ("## 3. Variances" gives "3").</summary>
    internal static HashSet<string> SectionHeadings(string markdown) =>
        HeadingPattern().Matches(markdown).Select(m => m.Groups["number"].Value).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Every section cited with the section sign: "§3.2", "§ 7.1", "§5.3a", and both ends of ranges such as
    /// "§9.4–9.6" or "§§2–5".
    /// </summary>
    internal static List<string> CitedSections(string text)
    {
        var result = new List<string>();
        foreach (Match m in CitationPattern().Matches(text))
        {
            result.Add(m.Groups["first"].Value);
            if (m.Groups["last"].Success)
                result.Add(m.Groups["last"].Value);
        }
        return result;
    }

    /// <summary>The numbers of the items of the numbered list in section 10.1.</summary>
    internal static HashSet<int> IdentityItems(string markdown)
    {
        var items = new HashSet<int>();
        bool inside = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.StartsWith('#'))
            {
                inside = HeadingPattern().Match(line) is { Success: true } heading && heading.Groups["number"].Value == "10.1";
                continue;
            }
            if (inside && ItemPattern().Match(line) is { Success: true } item)
                items.Add(int.Parse(item.Groups["number"].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
        return items;
    }

    /// <summary>Identities cited as "identity n" or "§10.1 item(s) n, m and k".</summary>
    internal static List<int> CitedIdentities(string text)
    {
        var result = new List<int>();
        foreach (Match m in IdentityPattern().Matches(text))
        {
            var numbers = m.Groups["single"].Success ? m.Groups["single"].Value : m.Groups["list"].Value;
            result.AddRange(NumberPattern().Matches(numbers).Select(n => int.Parse(n.Value, System.Globalization.CultureInfo.InvariantCulture)));
        }
        return result;
    }

    /// <summary>
    /// References in one README that leave the repository: relative paths (in links or anywhere in the text) that
    /// resolve above <paramref name="root"/>, links to absolute paths or file: URLs, and the machine's /work folders.
    /// </summary>
    internal static IEnumerable<string> OutsideReferences(string root, string readme, string text)
    {
        var fullRoot = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        var directory = Path.GetDirectoryName(Path.GetFullPath(readme))!;
        string name = Relative(root, readme);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in LinkPattern().Matches(text))
        {
            var target = m.Groups["target"].Value;
            if (target.StartsWith("file:", StringComparison.OrdinalIgnoreCase) || target.StartsWith('/') || target.StartsWith('~'))
            {
                if (seen.Add(target))
                    yield return $"{name}: links to {target}, outside the repository";
            }
        }
        foreach (Match m in RelativePathPattern().Matches(text))
        {
            var path = m.Value.TrimEnd('.', ',', ';', ':');
            if (IsInsideUrl(text, m.Index, m.Length))
                continue;
            var resolved = Path.GetFullPath(Path.Combine(directory, path.Replace('/', Path.DirectorySeparatorChar)));
            if (!(resolved + Path.DirectorySeparatorChar).StartsWith(fullRoot, StringComparison.Ordinal) && seen.Add(path))
                yield return $"{name}: {path} resolves to {resolved}, outside the repository";
        }
        foreach (Match m in MachinePathPattern().Matches(text))
        {
            var path = m.Value.TrimEnd('.', ',', ';', ':');
            if (seen.Add(path))
                yield return $"{name}: {path} is a path on this machine, outside the repository";
        }
    }

    /// <summary>True when the match at <paramref name="index"/> is part of a URL (a token containing scheme://).</summary>
    private static bool IsInsideUrl(string text, int index, int length)
    {
        int start = index;
        while (start > 0 && !char.IsWhiteSpace(text[start - 1]) && text[start - 1] is not ('(' or '`' or '<' or '[' or '"'))
            start--;
        return text.AsSpan(start, index + length - start).Contains("://", StringComparison.Ordinal);
    }

    /// <summary>
    /// Documents cited by file name: every token ending in <c>.md</c> (with its folder, if any), except inside URLs.
    /// </summary>
    internal static List<string> CitedDocuments(string text)
    {
        var result = new List<string>();
        foreach (Match m in DocumentPattern().Matches(text))
        {
            if (!IsInsideUrl(text, m.Index, m.Length))
                result.Add(m.Value);
        }
        return result;
    }

    /// <summary>
    /// Why a cited document is not in the repository, or null when it is. A bare name must be in docs/ or be a file
    /// the project writes; a bare README.md must be in the citing file's folder or one above it; a name with a folder
    /// must exist relative to the root or to the citing file's folder. Absolute paths and paths that climb above the
    /// root are outside the repository.
    /// </summary>
    internal static string? MissingDocument(string root, string citingFile, string path)
    {
        var fullRoot = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar);
        bool Inside(string full) => (full + Path.DirectorySeparatorChar).StartsWith(fullRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        if (path.StartsWith('/') || path.StartsWith('~'))
            return $"{path} is outside the repository";
        var directory = Path.GetDirectoryName(Path.GetFullPath(citingFile))!;
        var native = path.Replace('/', Path.DirectorySeparatorChar);
        if (path.Contains('/', StringComparison.Ordinal))
        {
            var candidates = new[] { Path.GetFullPath(Path.Combine(fullRoot, native)), Path.GetFullPath(Path.Combine(directory, native)) };
            if (candidates.Any(c => Inside(c) && File.Exists(c)))
                return null;
            return candidates.Any(Inside) ? $"{path} does not exist" : $"{path} is outside the repository";
        }
        if (path.Equals("README.md", StringComparison.OrdinalIgnoreCase))
        {
            for (var dir = directory; Inside(dir); dir = Path.GetDirectoryName(dir)!)
            {
                if (File.Exists(Path.Combine(dir, path)))
                    return null;
                if (dir.Length <= fullRoot.Length)
                    break;
            }
            return $"{path}: no README.md in {Relative(root, directory)} or above it";
        }
        if (WrittenFileNames.Contains(path, StringComparer.Ordinal) || File.Exists(Path.Combine(fullRoot, "docs", path)))
            return null;
        return $"{path} is not in docs/";
    }

    /// <summary>The numbers of the numbered list under the heading whose text starts with "Decisions".</summary>
    internal static HashSet<int> DecisionItems(string markdown)
    {
        var items = new HashSet<int>();
        bool inside = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.StartsWith('#'))
            {
                inside = line.TrimStart('#').TrimStart().StartsWith("Decisions", StringComparison.OrdinalIgnoreCase);
                continue;
            }
            if (inside && ItemPattern().Match(line) is { Success: true } item)
                items.Add(int.Parse(item.Groups["number"].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
        return items;
    }

    /// <summary>Decisions cited as "decision n" or "decisions n, m and k".</summary>
    internal static List<int> CitedDecisions(string text) =>
        DecisionPattern().Matches(text)
            .SelectMany(m => NumberPattern().Matches(m.Groups["list"].Value))
            .Select(n => int.Parse(n.Value, System.Globalization.CultureInfo.InvariantCulture))
            .ToList();

    /// <summary>The text of every heading, without its hashes.</summary>
    internal static HashSet<string> HeadingTitles(string markdown) =>
        markdown.Split('\n').Where(l => l.StartsWith('#')).Select(l => l.TrimStart('#').Trim()).ToHashSet(StringComparer.Ordinal);

    /// <summary>Sections of architecture.md cited by quoted title, as in <c>architecture.md, "What a result contains"</c>.</summary>
    internal static List<string> CitedArchitectureSections(string text) =>
        ArchitectureSectionPattern().Matches(text).Select(m => m.Groups["title"].Value).ToList();

    /// <summary>Text files of <see cref="DocumentCitingFolders"/> and <see cref="DocumentCitingRootFiles"/>, without this file.</summary>
    private static IEnumerable<string> DocumentCitingFiles(string root) =>
        DocumentCitingFolders.SelectMany(f => TextFiles(Path.Combine(root, f)))
            .Concat(DocumentCitingRootFiles.Select(f => Path.Combine(root, f)).Where(File.Exists))
            .Where(f => Relative(root, f) != ThisFile);

    /// <summary>The folder holding Fisher.Distributed.sln, found by walking up from the test's output folder.</summary>
    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Fisher.Distributed.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no Fisher.Distributed.sln above {AppContext.BaseDirectory}");
    }

    private static IEnumerable<string> Files(string folder)
    {
        if (!Directory.Exists(folder))
            yield break;
        foreach (var file in Directory.EnumerateFiles(folder))
            yield return file;
        foreach (var sub in Directory.EnumerateDirectories(folder))
        {
            if (SkippedFolders.Contains(Path.GetFileName(sub), StringComparer.Ordinal))
                continue;
            foreach (var file in Files(sub))
                yield return file;
        }
    }

    /// <summary>Files that look like text: no NUL byte in their first 8 KB.</summary>
    private static IEnumerable<string> TextFiles(string folder) => Files(folder).Where(IsText);

    private static bool IsText(string file)
    {
        using var stream = File.OpenRead(file);
        var buffer = new byte[8192];
        int read = stream.Read(buffer, 0, buffer.Length);
        return Array.IndexOf(buffer, (byte)0, 0, read) < 0;
    }

    private static string Relative(string root, string file) => Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');

    [GeneratedRegex(@"^#{1,6}[ \t]+(?<number>\d+(?:\.\d+)*[a-z]?)(?=[.\s])", RegexOptions.Multiline)]
    private static partial Regex HeadingPattern();

    [GeneratedRegex(@"\u00a7+[ \t]?(?<first>\d+(?:\.\d+)*(?:[a-z](?![A-Za-z]))?)(?:[ \t]?[\u2013-][ \t]?\u00a7?(?<last>\d+(?:\.\d+)*(?:[a-z](?![A-Za-z]))?))?")]
    private static partial Regex CitationPattern();

    [GeneratedRegex(@"^(?<number>\d+)\.[ \t]")]
    private static partial Regex ItemPattern();

    [GeneratedRegex(@"\bidentity[ \t]+(?<single>\d+)|\u00a710\.1[ \t]+items?[ \t]+(?<list>\d+(?:(?:,[ \t]*|[ \t]+and[ \t]+)\d+)*)", RegexOptions.IgnoreCase)]
    private static partial Regex IdentityPattern();

    [GeneratedRegex(@"\d+")]
    private static partial Regex NumberPattern();

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)(?:[ \t]+""[^""]*"")?\)")]
    private static partial Regex LinkPattern();

    [GeneratedRegex(@"[\w.~/-]*\.\./[^\s`'""()<>\[\]]*")]
    private static partial Regex RelativePathPattern();

    [GeneratedRegex(@"(?<![\w.])/work/[^\s`'""()<>\[\]]*")]
    private static partial Regex MachinePathPattern();

    [GeneratedRegex(@"(?<![\w.~/-])[\w.~/-]*[\w-]\.md(?![\w-])")]
    private static partial Regex DocumentPattern();

    [GeneratedRegex(@"\bdecisions?[ \t]+(?<list>\d+(?:(?:,[ \t]*(?:and[ \t]+)?|[ \t]+and[ \t]+)\d+)*)", RegexOptions.IgnoreCase)]
    private static partial Regex DecisionPattern();

    [GeneratedRegex(@"architecture\.md,?[ \t]+""(?<title>[^""\r\n]+)""")]
    private static partial Regex ArchitectureSectionPattern();
}
