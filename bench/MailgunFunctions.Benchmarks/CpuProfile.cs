using System.Diagnostics;
using System.Globalization;
using MailgunFunctions.Testing;

namespace MailgunFunctions.Benchmarks;

/// <summary>CPU time used over one load run by this process (load generator and the code under test) and by Azurite.</summary>
public sealed record CpuUse(TimeSpan BenchProcess, TimeSpan Azurite)
{
    public static CpuUse operator -(CpuUse after, CpuUse before) =>
        new(after.BenchProcess - before.BenchProcess, after.Azurite - before.Azurite);
}

/// <summary>
/// Reads the CPU time used so far by this process and by one Azurite instance with its child processes. Both share the
/// machine's cores during a load run, so throughput alone cannot say whether our code or the emulator is the bottleneck:
/// CPU milliseconds per event on each side can.
/// </summary>
public sealed class CpuProfile
{
    // /proc/<pid>/stat counts CPU time in clock ticks of USER_HZ, which is 100 on Linux.
    private const double TicksPerSecond = 100;

    private readonly int _azuriteProcessId;

    public CpuProfile(Azurite azurite) => _azuriteProcessId = AzuriteProcessId(azurite.TablePort);

    public CpuUse Read()
    {
        TimeSpan bench;
        using (var self = Process.GetCurrentProcess())
        {
            bench = self.TotalProcessorTime;
        }

        return new CpuUse(bench, TimeSpan.FromSeconds(AzuriteTicks() / TicksPerSecond));
    }

    /// <summary>
    /// utime + stime of Azurite's process and of every live descendant, plus cutime + cstime (children already reaped).
    /// Azurite runs as one node process today; a worker it might fork would otherwise be missed.
    /// </summary>
    private long AzuriteTicks()
    {
        var processes = new List<(int Pid, int ParentPid, long Ticks)>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out int pid) && ReadStat(pid) is { } stat)
            {
                processes.Add((pid, stat.ParentPid, stat.Ticks));
            }
        }

        // Repeat until no new descendant turns up: a grandchild may come before its parent in /proc's order.
        var tree = new HashSet<int> { _azuriteProcessId };
        for (bool grew = true; grew;)
        {
            grew = false;
            foreach (var p in processes)
            {
                grew |= tree.Contains(p.ParentPid) && tree.Add(p.Pid);
            }
        }

        return processes.Where(p => tree.Contains(p.Pid)).Sum(p => p.Ticks);
    }

    /// <summary>
    /// Azurite.cs keeps its Process to itself, but the command line it starts names the instance's table port, which is
    /// unique per running instance. The node_modules/.bin script's shebang execs node, so this is node's process id.
    /// </summary>
    private static int AzuriteProcessId(int tablePort)
    {
        string mark = $"\0--tablePort\0{tablePort.ToString(CultureInfo.InvariantCulture)}\0";
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
            {
                continue;
            }

            try
            {
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(mark, StringComparison.Ordinal))
                {
                    return pid;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }

        throw new InvalidOperationException($"no running process has '--tablePort {tablePort}' on its command line: is Azurite started?");
    }

    private static (int ParentPid, long Ticks)? ReadStat(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // Field 2 (the command name) is in parentheses and may hold spaces: count fields from the last ')'.
        // After it: [0] = field 3 (state), [1] = field 4 (ppid), [11..14] = fields 14..17 (utime, stime, cutime, cstime).
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int index) => long.Parse(fields[index], CultureInfo.InvariantCulture);
        return ((int)Field(1), Field(11) + Field(12) + Field(13) + Field(14));
    }
}
