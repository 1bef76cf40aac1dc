using System.Formats.Tar;

namespace Fisher.Deploy.Tests;

/// <summary>One entry of an image layer: its path relative to the root (no leading "./" or "/").</summary>
public sealed record LayerEntry(int Layer, string Path, TarEntryType Type, long Length, string LinkName);
