package dev.iommulab.lab.machine;

import dev.iommulab.hw.HwModelModule;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.lab.scenario.GuestSpec;
import dev.iommulab.lab.scenario.Scenario;

/**
 * The machines of a scenario's guests: each a machine of its own, built through {@link MachineBuilder} like the
 * host's, whose hardware is the guest's virtual IOMMU, whose memory is guest-physical memory, and whose event loop is
 * the host's.
 */
public final class GuestMachines {

    private GuestMachines() {
    }

    /** What all guests' memory may take of the host's: all of it but 512 MiB, left to the host kernel. */
    static final long MAX_GUEST_MEMORY = HwModelModule.MEMORY_BYTES - (512L << 20);

    /** Guest memory starts on a 2 MiB boundary of host memory (a window of host memory's chunks). */
    private static final long GUEST_MEMORY_ALIGNMENT = 2L << 20;

    /**
     * Boots the guest {@code guest} of {@code scenario} beside {@code host}: a machine of its own on the host's event
     * loop — guest-physical memory backed by host frames (contiguous pages the host kernel hands the VMM, as a VMM
     * maps the guest's RAM), the virtual IOMMU as its hardware, the guest kernel with the scenario's kernel label and
     * seed, the guest's emulated devices probed behind the virtual IOMMU.
     *
     * @throws MachineConfigException for a virtual IOMMU option this lab does not have (key under {@code guests})
     */
    public static Machine boot(GuestSpec guest, Scenario scenario, Machine host) throws MachineConfigException {
        long pages = guest.memoryBytes() / PhysicalMemory.PAGE_SIZE;
        long base = host.frames().allocateContiguous(Math.toIntExact(pages), GUEST_MEMORY_ALIGNMENT);
        PhysicalMemory memory = host.memory().window(base, guest.memoryBytes());
        EventLoop loop = host.loop();
        loop.trace().step(loop.now(), Layer.LAB, "guest", String.format("%s: %d MiB of guest memory at host %#x",
                guest.name(), guest.memoryBytes() >> 20, base));
        return builder(guest, scenario).override(binder -> {
            binder.bind(EventLoop.class).toInstance(loop);
            binder.bind(PhysicalMemory.class).toInstance(memory);
        }).build();
    }

    /**
     * Fails when a guest's virtual IOMMU model or option is not available, the guests' memory does not fit beside the
     * host's, or a guest device's backing is one this lab cannot build yet (an assigned host device).
     */
    public static void check(Scenario scenario) throws MachineConfigException {
        long total = 0;
        for (int i = 0; i < scenario.guests().size(); i++) {
            GuestSpec g = scenario.guests().get(i);
            String at = "guests." + i;
            total += g.memoryBytes();
            if (total > MAX_GUEST_MEMORY) {
                throw new MachineConfigException(at + ".memory", String.format("the guests' memory would take more"
                        + " than %d MiB of the host's %d MiB", MAX_GUEST_MEMORY >> 20,
                        HwModelModule.MEMORY_BYTES >> 20));
            }
            try {
                builder(g, scenario).check();
            } catch (MachineConfigException e) {
                throw new MachineConfigException(at + ".viommu." + e.key().replace("hardware.", ""),
                        e.getMessage().substring(e.key().length() + 2));
            }
            for (int j = 0; j < g.devices().size(); j++) {
                if (!g.devices().get(j).emulated()) {
                    throw new MachineConfigException(at + ".devices." + j + ".backing",
                            "backing 'assigned' is not available yet; available: emulated");
                }
            }
        }
    }

    private static MachineBuilder builder(GuestSpec guest, Scenario scenario) {
        MachineBuilder builder = Machine.builder().hardware(guest.viommuModel()).kernel(scenario.kernel())
                .seed(scenario.seed());
        guest.viommuOptions().forEach(builder::hardwareOption);
        for (GuestSpec.Device d : guest.devices()) {
            if (d.emulated() && d.viot()) {
                builder.device(d.spec());
            } else if (d.emulated()) {
                builder.unprobedDevice(d.spec());
            }
        }
        return builder;
    }
}
