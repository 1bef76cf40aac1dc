// Compiled by MSBuild's RoslynCodeTaskFactory (one file, Directory.Build.targets) and by the test project,
// which defines FISHER_ELF_TESTS to leave out the MSBuild task class.
// Marks version needs of an ELF64 shared object as weak (VER_FLG_WEAK) when the system library that
// should provide them lacks those versions. Used by Directory.Build.targets (inline task) on
// libLibTorchSharp.so, which TorchSharp builds against GCC 13 and which therefore asks for
// GLIBCXX_3.4.32; Debian 12's libstdc++ stops at 3.4.30. The only symbol behind that version is the
// link-time marker std::ios_base_library_init(), which is never called (see docs/stack-notes.md).
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
#if !FISHER_ELF_TESTS
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
#endif

namespace Fisher.Build
{
    /// <summary>One version need of an ELF file: the library it is needed from, the version name and whether it is weak.</summary>
    public sealed class ElfVersionNeed
    {
        public ElfVersionNeed(string file, string version, bool weak, long flagsOffset)
        {
            File = file;
            Version = version;
            Weak = weak;
            FlagsOffset = flagsOffset;
        }

        public string File { get; }
        public string Version { get; }
        public bool Weak { get; }
        public long FlagsOffset { get; }
    }

    /// <summary>Reads the .gnu.version_r section of an ELF64 little-endian file and weakens selected needs.</summary>
    public static class ElfVersionNeedPatcher
    {
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const ushort VerFlgWeak = 0x2;

        /// <summary>Lists every version need (vn_file, vna_name) of an ELF64 little-endian file.</summary>
        public static List<ElfVersionNeed> ReadVersionNeeds(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException("only ELF64 little-endian files are supported");

            long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
            int shentsize = BitConverter.ToUInt16(elf, 0x3A);
            int shnum = BitConverter.ToUInt16(elf, 0x3C);
            var needs = new List<ElfVersionNeed>();
            for (int s = 0; s < shnum; s++)
            {
                long sh = shoff + (long)s * shentsize;
                uint type = BitConverter.ToUInt32(elf, (int)sh + 4);
                if (type != ShtGnuVerneed)
                    continue;
                long offset = (long)BitConverter.ToUInt64(elf, (int)sh + 0x18);
                uint link = BitConverter.ToUInt32(elf, (int)sh + 0x28);
                uint count = BitConverter.ToUInt32(elf, (int)sh + 0x2C); // sh_info = number of Verneed entries
                long strSh = shoff + (long)link * shentsize;
                long strOffset = (long)BitConverter.ToUInt64(elf, (int)strSh + 0x18);

                long vn = offset;
                for (uint i = 0; i < count; i++)
                {
                    ushort cnt = BitConverter.ToUInt16(elf, (int)vn + 2);
                    string file = ReadString(elf, strOffset + BitConverter.ToUInt32(elf, (int)vn + 4));
                    uint aux = BitConverter.ToUInt32(elf, (int)vn + 8);
                    uint next = BitConverter.ToUInt32(elf, (int)vn + 12);
                    long va = vn + aux;
                    for (ushort j = 0; j < cnt; j++)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, (int)va + 4);
                        string name = ReadString(elf, strOffset + BitConverter.ToUInt32(elf, (int)va + 8));
                        needs.Add(new ElfVersionNeed(file, name, (flags & VerFlgWeak) != 0, va + 4));
                        uint vnaNext = BitConverter.ToUInt32(elf, (int)va + 12);
                        if (vnaNext == 0)
                            break;
                        va += vnaNext;
                    }
                    if (next == 0)
                        break;
                    vn += next;
                }
            }
            return needs;
        }

        /// <summary>
        /// Marks as weak every need of <paramref name="path"/> from <paramref name="neededFile"/> whose version
        /// <paramref name="isProvided"/> says the system lacks. Idempotent; returns the versions it changed.
        /// </summary>
        public static List<string> WeakenMissing(string path, string neededFile, Func<string, bool> isProvided)
        {
            byte[] elf = System.IO.File.ReadAllBytes(path);
            var changed = new List<string>();
            foreach (var need in ReadVersionNeeds(elf))
            {
                if (need.File != neededFile || need.Weak || isProvided(need.Version))
                    continue;
                ushort flags = BitConverter.ToUInt16(elf, (int)need.FlagsOffset);
                flags |= VerFlgWeak;
                elf[need.FlagsOffset] = (byte)(flags & 0xff);
                elf[need.FlagsOffset + 1] = (byte)(flags >> 8);
                changed.Add(need.Version);
            }
            if (changed.Count > 0)
            {
                string temp = path + ".patching";
                System.IO.File.WriteAllBytes(temp, elf);
                System.IO.File.Copy(temp, path, true);
                System.IO.File.Delete(temp);
            }
            return changed;
        }

        /// <summary>
        /// True when the library at <paramref name="libraryPath"/> defines the version name: its dynamic string
        /// table then holds the name as a NUL-terminated string.
        /// </summary>
        public static Func<string, bool> VersionsDefinedBy(string libraryPath)
        {
            byte[] lib = System.IO.File.ReadAllBytes(libraryPath);
            return version =>
            {
                byte[] needle = Encoding.ASCII.GetBytes("\0" + version + "\0");
                return IndexOf(lib, needle) >= 0;
            };
        }

        /// <summary>The system's libstdc++.so.6 on common Linux layouts, or null.</summary>
        public static string? FindSystemLibStdCxx()
        {
            foreach (var dir in new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib/aarch64-linux-gnu", "/usr/lib" })
            {
                string candidate = Path.Combine(dir, "libstdc++.so.6");
                if (System.IO.File.Exists(candidate))
                    return candidate;
            }
            return null;
        }

        // Plain search: the inline MSBuild task compiles against netstandard2.0, which lacks span searches.
        private static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (int i = 0; i + needle.Length <= haystack.Length; i++)
            {
                int k = 0;
                while (k < needle.Length && haystack[i + k] == needle[k])
                    k++;
                if (k == needle.Length)
                    return i;
            }
            return -1;
        }

        private static string ReadString(byte[] elf, long offset)
        {
            int end = (int)offset;
            while (elf[end] != 0)
                end++;
            return Encoding.ASCII.GetString(elf, (int)offset, end - (int)offset);
        }
    }
}

#if !FISHER_ELF_TESTS
/// <summary>MSBuild task: weakens the libstdc++ version needs the system lacks in each file.</summary>
public sealed class WeakenMissingElfVersionNeeds : Task
{
    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        string? libstdcxx = Fisher.Build.ElfVersionNeedPatcher.FindSystemLibStdCxx();
        if (libstdcxx == null)
        {
            Log.LogMessage(MessageImportance.Normal, "No system libstdc++.so.6 found; TorchSharp native shim left as it is.");
            return true;
        }
        var provided = Fisher.Build.ElfVersionNeedPatcher.VersionsDefinedBy(libstdcxx);
        foreach (var item in Files)
        {
            string path = item.GetMetadata("FullPath");
            var changed = Fisher.Build.ElfVersionNeedPatcher.WeakenMissing(path, "libstdc++.so.6", provided);
            if (changed.Count > 0)
                Log.LogMessage(MessageImportance.High, $"{path}: marked weak the version needs {string.Join(", ", changed)} that {libstdcxx} lacks.");
        }
        return true;
    }
}
#endif
