using Egress.Lab.World;
using Egress.Processes;

namespace Egress.Lab.Tests;

/// <summary>One policy for the namespace lab and the VM lab (issue 23): what is missing is installed with apt-get,
/// saying so; where it cannot be, `lab up` refuses naming the packages. apt-get here is a recording fake.</summary>
public sealed class LabPackagesTests
{
    /// <summary>Answers apt-get with the given exit codes in turn (0 once they run out) and records each command.</summary>
    private sealed class AptRunner(params int[] exitCodes) : ICommandRunner
    {
        private int _next;

        public List<string> Commands { get; } = [];

        public Task<CommandResult> RunAsync(CommandSpec command, CancellationToken cancellationToken = default)
        {
            Commands.Add($"{command.Program} {string.Join(' ', command.Arguments)}");
            var code = _next < exitCodes.Length ? exitCodes[_next++] : 0;
            return Task.FromResult(new CommandResult(code, string.Empty, code == 0 ? string.Empty : "E: Unable to locate package qemu-utils\n", TimeSpan.Zero));
        }
    }

    /// <summary>A machine with the namespace lab's programs and apt-get, and nothing of QEMU's.</summary>
    private static bool NamespaceLabMachine(string program) =>
        program == "apt-get" || LabPackages.Required.Any(r => r.Program == program);

    [Fact]
    public async Task EnsureAsync_VmLabOnAMachineWithoutQemu_InstallsItsPackagesWithAptGetAndSaysSo()
    {
        var apt = new AptRunner();
        var said = new List<string>();

        var installed = await LabPackages.EnsureAsync(apt, said.Add, LabInstances.Vm, program => NamespaceLabMachine(program) || program == "mke2fs");

        Assert.Equal(["qemu-system-x86", "qemu-utils", "mmdebstrap", "openssh-client"], installed);
        Assert.Equal(["apt-get install -y -qq --no-install-recommends qemu-system-x86 qemu-utils mmdebstrap openssh-client"], apt.Commands);
        Assert.Equal(["installing missing packages: qemu-system-x86 qemu-utils mmdebstrap openssh-client (apt-get)"], said);
    }

    [Fact]
    public async Task EnsureAsync_NamespaceLabOnTheSameMachine_NeedsNoQemuAndRunsNothing()
    {
        var apt = new AptRunner();

        var installed = await LabPackages.EnsureAsync(apt, _ => { }, LabInstances.Namespaces, NamespaceLabMachine);

        Assert.Empty(installed);
        Assert.Empty(apt.Commands);
    }

    [Fact]
    public async Task EnsureAsync_NamespaceAndVmLabMissingTheSamePackage_InstallItTheSameWay()
    {
        bool NoDnsmasq(string program) => program != "dnsmasq" && program != "qemu-img";
        var namespaces = new AptRunner();
        var vm = new AptRunner();

        await LabPackages.EnsureAsync(namespaces, _ => { }, LabInstances.Namespaces, NoDnsmasq);
        await LabPackages.EnsureAsync(vm, _ => { }, LabInstances.Vm, NoDnsmasq);

        Assert.Equal(["apt-get install -y -qq --no-install-recommends dnsmasq-base"], namespaces.Commands);
        Assert.Equal(["apt-get install -y -qq --no-install-recommends dnsmasq-base qemu-utils"], vm.Commands);
    }

    [Fact]
    public async Task EnsureAsync_FirstInstallFails_UpdatesTheIndexAndTriesOnceMore()
    {
        var apt = new AptRunner(100, 0, 0);

        await LabPackages.EnsureAsync(apt, _ => { }, LabInstances.Vm, program => program != "qemu-img");

        Assert.Equal(["apt-get install -y -qq --no-install-recommends qemu-utils", "apt-get update -qq", "apt-get install -y -qq --no-install-recommends qemu-utils"], apt.Commands);
    }

    [Fact]
    public async Task EnsureAsync_AptGetFailsTwice_RefusesNamingThePackagesTheProgramsAndAptsError()
    {
        var apt = new AptRunner(100, 0, 100);

        var refused = await Assert.ThrowsAsync<LabException>(() => LabPackages.EnsureAsync(apt, _ => { }, LabInstances.Vm, program => program != "qemu-img"));

        Assert.Equal("'lab up --instances vm' needs qemu-utils (qemu-img), and 'apt-get install qemu-utils' failed (exit 100): E: Unable to locate package qemu-utils", refused.Message);
    }

    [Fact]
    public async Task EnsureAsync_NoAptGet_RefusesNamingEachPackageWithItsProgramsAndRunsNothing()
    {
        var apt = new AptRunner();

        var vm = await Assert.ThrowsAsync<LabException>(() => LabPackages.EnsureAsync(apt, _ => { }, LabInstances.Vm, program => program is "ip" or "tc" or "nft" or "curl" or "mtr" or "ping"));
        var namespaces = await Assert.ThrowsAsync<LabException>(() => LabPackages.EnsureAsync(apt, _ => { }, LabInstances.Namespaces, _ => false));

        Assert.Equal("'lab up --instances vm' needs dnsmasq-base (dnsmasq), qemu-system-x86 (qemu-system-x86_64), qemu-utils (qemu-img), mmdebstrap, " +
                     "e2fsprogs (mke2fs), openssh-client (ssh-keygen) and this machine has no apt-get: install them with your package manager.", vm.Message);
        Assert.StartsWith("the lab needs iproute2 (ip, tc), nftables (nft), curl, mtr-tiny (mtr), iputils-ping (ping), dnsmasq-base (dnsmasq) and this machine has no apt-get", namespaces.Message, StringComparison.Ordinal);
        Assert.Empty(apt.Commands);
    }

    [Fact]
    public void MissingMessage_Vm_SaysLabUpInstallsThemAndTheAptGetLine()
    {
        Assert.Equal("'lab up --instances vm' needs qemu-utils (qemu-img): 'egress lab up' installs them (as root, with apt-get), or run 'apt-get install qemu-utils'.",
            LabPackages.MissingMessage(LabInstances.Vm, ["qemu-utils"]));
    }

    [Fact]
    public void For_Vm_IsTheNamespaceLabsProgramsAndQemusImagesAndSsh()
    {
        Assert.Equal([.. LabPackages.Required, .. LabPackages.VmRequired], LabPackages.For(LabInstances.Vm));
        Assert.Equal(LabPackages.Required, LabPackages.For(LabInstances.Namespaces));
        Assert.Contains(("qemu-img", "qemu-utils"), LabPackages.VmRequired);
    }
}
