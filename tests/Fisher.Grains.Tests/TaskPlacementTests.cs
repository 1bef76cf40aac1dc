using System.Net;
using Orleans.Runtime;

namespace Fisher.Grains.Tests;

/// <summary>
/// TaskPlacement: tasks go to every active silo up to an even share; a silo where a lease expired is avoided; a stopping
/// silo is never chosen, and with every silo stopping tasks wait (no hand-back loop on a one-silo cluster).
/// </summary>
public sealed class TaskPlacementTests
{
    private static readonly SiloAddress[] Silos = [Silo(11111), Silo(11112), Silo(11113)];

    private static SiloAddress Silo(int port) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1);

    [Fact]
    public void Six_tasks_on_three_silos_go_two_to_each()
    {
        var placement = new TaskPlacement();
        placement.SetSilos(Silos.Reverse());
        var chosen = Enumerable.Range(0, 6).Select(i => placement.Choose($"t{i}")).ToArray();
        Assert.All(Silos, s => Assert.Equal(2, chosen.Count(c => s.Equals(c))));
        Assert.Equal(3, placement.SiloCount);
    }

    [Fact]
    public void A_released_slot_takes_the_next_task()
    {
        var placement = new TaskPlacement();
        placement.SetSilos(Silos);
        var first = Enumerable.Range(0, 3).Select(i => placement.Choose($"t{i}")!).ToArray();
        placement.Release("t1");
        Assert.Equal(first[1], placement.Choose("t3"));
    }

    [Fact]
    public void A_silo_that_lost_a_task_is_avoided_while_another_is_trusted()
    {
        var placement = new TaskPlacement();
        placement.SetSilos(Silos);
        var lostOn = placement.Choose("t0")!;
        placement.Lost("t0", TimeSpan.FromMinutes(1));
        var next = Enumerable.Range(1, 4).Select(i => placement.Choose($"t{i}")).ToArray();
        Assert.DoesNotContain(lostOn, next);
    }

    [Fact]
    public void Without_known_silos_Orleans_places_the_task()
    {
        var placement = new TaskPlacement();
        Assert.Null(placement.Choose("t0"));
        Assert.Equal(1, placement.SiloCount);
    }

    [Fact]
    public void A_stopping_silo_gets_no_task_and_with_every_silo_stopping_tasks_wait()
    {
        var placement = new TaskPlacement();
        placement.SetSilos(Silos);
        placement.Stopping(Silos[0], TimeSpan.FromMinutes(1));
        var chosen = Enumerable.Range(0, 6).Select(i => placement.Choose($"t{i}")).ToArray();
        Assert.DoesNotContain(Silos[0], chosen);
        Assert.Equal(2, placement.SiloCount); // the concurrency limit counts the silos that take tasks
        Assert.True(placement.CanPlace);

        placement.Stopping(Silos[1], TimeSpan.FromMinutes(1));
        placement.Stopping(Silos[2], TimeSpan.FromMinutes(1));
        Assert.False(placement.CanPlace); // the coordinator keeps the tasks pending
        Assert.Null(placement.Choose("t6"));

        placement.SetSilos([.. Silos, Silo(11114)]); // a new silo joins (a rolling update's new pod)
        Assert.True(placement.CanPlace);
        Assert.Equal(Silo(11114), placement.Choose("t7"));
    }
}
