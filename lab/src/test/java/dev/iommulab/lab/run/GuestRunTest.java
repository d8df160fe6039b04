package dev.iommulab.lab.run;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuMap;
import dev.iommulab.core.pgtable.IommuProt;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.MemoryAccess;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.viommu.ViommuWire;
import dev.iommulab.hw.viommu.VirtioIommu;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.invariants.InvariantsExempt;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.scenario.ScenarioLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/**
 * Guests in a run: a second kernel on the host's event loop, whose entries, log and expectations stay its own; and
 * the guest invariants, each shown able to fail.
 */
class GuestRunTest {

    @TempDir
    Path dir;

    private final ScenarioRunner runner = new ScenarioRunner();

    /**
     * A run of a host without devices and guest vm0 (64 MiB, a virtio-iommu with {@code viommuOptions} appended to its
     * model) with one NIC nic0 at 00:02.0 ({@code nicKeys} appended), then {@code body} (steps, expectations).
     */
    private RunResult runGuest(String viommuOptions, String nicKeys, String body) throws Exception {
        return run("""
                name: g
                hardware: { model: vtd }
                guests:
                  - name: vm0
                    memory: 64MiB
                    viommu: { model: virtio-iommu%s }
                    devices:
                      - { name: nic0, bdf: "00:02.0", profile: nic%s }
                """.formatted(viommuOptions, nicKeys) + body);
    }

    private RunResult run(String yaml) throws Exception {
        return runner.run(new ScenarioLoader().load(ScenarioFiles.write(dir, "g.yaml", yaml)));
    }

    /** A host and a guest device of the same name: each expectation counts only its own machine's entries. */
    @Test
    void run_sameDeviceNameOnHostAndGuest_entriesAndExpectationsKeptApart() throws Exception {
        RunResult r = run("""
                name: g
                hardware: { model: vtd }
                devices:
                  - { name: nic0, bdf: "00:04.0", profile: nic }
                guests:
                  - name: vm0
                    memory: 64MiB
                    viommu: { model: virtio-iommu, options: { bypass: false } }
                    devices:
                      - { name: nic0, bdf: "00:02.0", profile: nic }
                steps:
                  - dma: { guest: vm0, device: nic0, addr: 0x20000, size: 64, access: read }
                  - run: idle
                expect:
                  - dma: { guest: vm0, device: nic0, status: ur, count: 1 }
                  - dma: { device: nic0, status: ur, count: 0 }
                  - log: { guest: vm0, contains: "page fault from EP 16 at 0x20000" }
                  - log: { contains: "page fault from EP 16" }
                """);

        assertThat(r.dma()).singleElement().satisfies(d -> assertThat(d.guest()).isEqualTo("vm0"));
        assertThat(r.expectations()).extracting(RunResult.ExpectationEntry::holds)
                .containsExactly(true, true, true, false);
        assertThat(r.log()).noneMatch(l -> l.contains("virtio_iommu"));
        assertThat(r.guests()).singleElement().satisfies(g -> assertThat(g.log())
                .anyMatch(l -> l.endsWith("virtio_iommu virtio0: page fault from EP 16 at 0x20000 [R]")));
    }

    /** A guest device the guest kernel does not know (viot: false): kernel steps on it fail with ENODEV. */
    @Test
    void run_attachUnprobedGuestDevice_enodevStepError() throws Exception {
        RunResult r = runGuest("", ", viot: false", """
                steps:
                  - attach: { guest: vm0, device: nic0, domain: dma }
                """);

        assertThat(r.stepErrors()).singleElement().satisfies(e -> {
            assertThat(e.errno()).isEqualTo("ENODEV");
            assertThat(e.error()).contains("nic0 is not behind an IOMMU this kernel knows");
        });
    }

    private static Machine guestLike() throws Exception {
        return Machine.builder().hardware("virtio-iommu").hardwareOption("bypass", false)
                .device("vnet0", "00:02.0", d -> d.profile("nic")).build();
    }

    /** guest-dma-within-mappings: an access reaching another frame than the guest mapped is a violation. */
    @Test
    void guestDmaWatch_accessOffTheGuestMapping_violation() throws Exception {
        Machine m = guestLike();
        Device dev = m.device("vnet0");
        IommuDomain d = m.core().pagingDomainAlloc(dev);
        m.core().attachDevice(d, dev);
        long frame = m.frames().allocate();
        IommuMap.map(d, 0x10000, frame, 4096, IommuProt.IOMMU_READ);
        GuestDmaWatch watch = new GuestDmaWatch(m, () -> "test");

        watch.onAccess("vnet0", new MemoryAccess(0x10, -1, 0x10040, frame + 0x40, 8, Access.READ, false));
        watch.onAccess("vnet0", new MemoryAccess(0x10, -1, 0x10040, frame + 0x1040, 8, Access.READ, false));
        watch.onAccess("vnet0", new MemoryAccess(0x10, -1, 0x30000, 0x30000, 8, Access.READ, false));

        assertThat(watch.judged).isEqualTo(3);
        assertThat(watch.violations).containsExactly(
                String.format("vnet0 read iova 0x10040+8 -> gpa %#x: the guest maps it to %#x (step test)",
                        frame + 0x1040, frame + 0x40),
                "vnet0 read iova 0x30000+8 -> gpa 0x30000: the guest maps nothing there (step test)");
    }

    /**
     * virtio-events-delivered-or-dropped: a record the device delivered but the guest never took back (its event
     * interrupt lost) breaks it.
     */
    @Test
    @InvariantsExempt(reason = "the invariant must see a record the guest never took",
            invariants = "virtio-events-delivered-or-dropped")
    void eventsInvariant_interruptLost_fails() throws Exception {
        Machine m = guestLike();
        VirtioIommu device = (VirtioIommu) m.hardware();
        GuestDmaWatch watch = new GuestDmaWatch(m, () -> "test");
        device.setQueueInterrupt(ViommuWire.EVENT_QUEUE, () -> { });

        m.runDma("vnet0", new DmaJob(0x50000, 64, Access.READ, -1, false, null));
        m.runUntilIdle();

        assertThat(new ViommuInvariants(m, device, watch).check()).filteredOn(i -> !i.holds())
                .singleElement().satisfies(i -> {
                    assertThat(i.name()).isEqualTo("virtio-events-delivered-or-dropped");
                    assertThat(i.detail()).isEqualTo("1 fault(s): 1 delivered, 0 dropped, 0 held; the guest took 0");
                });
    }

    /** Guest memory is host memory: what the guest kernel wrote is at the host frames the VMM took for it. */
    @Test
    void run_guestMemory_backedByHostFrames() throws Exception {
        RunResult r = runGuest("", "", """
                steps:
                  - attach: { guest: vm0, device: nic0, domain: dma }
                """);
        Machine guest = runner.guest("vm0");
        String where = r.journey().stream().filter(s -> s.symbol().equals("guest")).findFirst().orElseThrow()
                .message();
        long base = Long.decode(where.substring(where.lastIndexOf(' ') + 1));
        guest.memory().writeLong(0x123_4000L, 0x55aa_55aa_55aa_55aaL);

        assertThat(where).startsWith("vm0: 64 MiB of guest memory at host 0x");
        assertThat(guest.memory().size()).isEqualTo(64L << 20);
        assertThat(base % (2L << 20)).isZero();
        assertThat(runner.machine().memory().readLong(base + 0x123_4000L)).isEqualTo(0x55aa_55aa_55aa_55aaL);
        assertThat(runner.guest("vm1")).isNull();
    }

    /**
     * An emulated device whose descriptor fetch the virtio-iommu refuses stops, as its profile says (non-functional
     * until FLR), and an FLR brings it back; the refused fetch is a MAPPING event like any access.
     */
    @Test
    void run_descriptorFetchRefused_deviceStopsUntilFlr() throws Exception {
        RunResult r = runGuest(", options: { bypass: false }", "", """
                steps:
                  - attach: { guest: vm0, device: nic0, domain: dma }
                  - map: { guest: vm0, device: nic0, iova: 0x10000, size: 4KiB, prot: rw }
                  - dma: { guest: vm0, device: nic0, addr: 0x10000, size: 64, access: write, descriptor: 0x30000 }
                  - dma: { guest: vm0, device: nic0, addr: 0x10000, size: 64, access: write }
                  - flr: { guest: vm0, device: nic0 }
                  - dma: { guest: vm0, device: nic0, addr: 0x10000, size: 64, access: write }
                  - run: idle
                expect:
                  - virtio-event: { guest: vm0, device: nic0, reason: MAPPING, count: 1 }
                """);

        assertThat(r.dma()).extracting(RunResult.DmaEntry::status, RunResult.DmaEntry::faultAddr)
                .containsExactly(tuple("ur", "0x30000"), tuple("device-error", null), tuple("ok", null));
        assertThat(r.passed()).isTrue();
    }
}
