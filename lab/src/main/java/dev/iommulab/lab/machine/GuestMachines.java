package dev.iommulab.lab.machine;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
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

    /**
     * Boots the guest {@code guest} of {@code scenario} on the host's event loop: a machine of its own — guest-physical
     * memory, the virtual IOMMU as its hardware, the guest kernel with the scenario's kernel label and seed, the
     * guest's emulated devices probed behind the virtual IOMMU.
     *
     * @throws MachineConfigException for a virtual IOMMU option this lab does not have (key under {@code guests})
     */
    public static Machine boot(GuestSpec guest, Scenario scenario, EventLoop loop) throws MachineConfigException {
        PhysicalMemory memory = new PhysicalMemory(guest.memoryBytes());
        return builder(guest, scenario).override(binder -> {
            binder.bind(EventLoop.class).toInstance(loop);
            binder.bind(PhysicalMemory.class).toInstance(memory);
        }).build();
    }

    /**
     * Fails when a guest's virtual IOMMU model or option is not available, or a guest device's backing is one this
     * lab cannot build yet (an assigned host device).
     */
    public static void check(Scenario scenario) throws MachineConfigException {
        for (int i = 0; i < scenario.guests().size(); i++) {
            GuestSpec g = scenario.guests().get(i);
            String at = "guests." + i;
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
