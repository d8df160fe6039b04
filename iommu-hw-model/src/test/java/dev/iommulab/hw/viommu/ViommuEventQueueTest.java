package dev.iommulab.hw.viommu;

import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.viommu.ViommuOptions.Implementation;
import dev.iommulab.hw.viommu.ViommuOptions.NoBuffer;
import dev.iommulab.hw.virtio.Segment;
import dev.iommulab.hw.virtio.VirtioStatus;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.iommulab.hw.viommu.ViommuRig.EP;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The event queue (virtio 1.x §5.13.6.8 Fault reporting; QEMU's virtio_iommu_report_fault()): one record per fault
 * in the next buffer, and what happens when the driver has left none — dropped (QEMU) or held (the {@code wait}
 * option) until it adds buffers.
 */
class ViommuEventQueueTest {

    private static final long IOVA = 0x10000;

    private static ViommuRig waiting(int depth) {
        return new ViommuRig(ViommuRig.NO_BYPASS.withNoBuffer(NoBuffer.WAIT, depth));
    }

    /** Endpoint EP, unattached and not in bypass, reads {@code n} different pages. */
    private static void faults(ViommuRig rig, int n) {
        for (int i = 0; i < n; i++) {
            assertThat(rig.read(EP, IOVA + i * 0x1000L, 4).ok()).isFalse();
        }
    }

    @Test
    void report_bufferAvailable_recordDeliveredAndInterrupt() {
        ViommuRig rig = new ViommuRig().boot(2);

        faults(rig, 1);

        assertThat(rig.takeEvents()).hasSize(1);
        assertThat(rig.eventIrqs).isOne();
        assertThat(rig.events).singleElement().satisfies(e -> {
            assertThat(e.delivered()).isTrue();
            assertThat(e.delayNs()).isZero();
        });
    }

    @Test
    @DisplayName("iommu-hardware §6 item 41 (drop): no event buffer, the record is lost and logged once; DMA refused")
    void report_noBufferDrop_droppedAndLoggedOnce() {
        ViommuRig rig = new ViommuRig().boot(1);

        faults(rig, 3);

        assertThat(rig.takeEvents()).hasSize(1);
        assertThat(rig.events).extracting(ViommuEvent::delivered).containsExactly(true, false, false);
        assertThat(rig.faults).extracting(HwFault::recorded).containsExactly(true, false, false);
        assertThat(rig.device.vmmLog())
                .containsExactly("no buffer available in event queue to report event");
        assertThat(rig.device.eventsDropped()).isEqualTo(2);
    }

    @Test
    @DisplayName("iommu-hardware §6 item 41 (wait): held in order until the driver adds buffers; DMA refused at once")
    void report_noBufferWait_heldUntilRefillThenDeliveredInOrderWithDelay() {
        ViommuRig rig = waiting(8).boot(1);
        faults(rig, 3);
        assertThat(rig.device.eventsHeld()).isEqualTo(2);
        assertThat(rig.takeEvents()).hasSize(1);
        long faultedAt = rig.loop.now();

        rig.loop.runFor(10_000);
        rig.addEventBuffers(4);
        rig.kickEvents();

        assertThat(rig.takeEvents()).as("address byte 1: pages 0x11 and 0x12").hasSize(2)
                .extracting(r -> r[17] & 0xff).containsExactly(0x10, 0x20);
        assertThat(rig.events).extracting(ViommuEvent::delivered).containsExactly(true, true, true);
        assertThat(rig.events.get(1).delayNs()).isGreaterThanOrEqualTo(10_000 + TimingModel.ESTIMATES.vmExitNs());
        assertThat(rig.events.get(1).atNs()).isLessThanOrEqualTo(faultedAt);
        assertThat(rig.device.eventsHeld()).isZero();
    }

    @Test
    @DisplayName("wait: a fault beyond the held records' bound is dropped, and so is every held one at a reset")
    void report_waitBoundFullAndReset_dropped() {
        ViommuRig rig = waiting(2).boot(0);

        faults(rig, 3);
        assertThat(rig.events).extracting(ViommuEvent::delivered).containsExactly(false);
        assertThat(rig.device.vmmLog())
                .containsExactly("event backlog full: event dropped");

        rig.device.writeStatus(0);

        assertThat(rig.events).hasSize(3).extracting(ViommuEvent::delivered).containsOnly(false);
        assertThat(rig.device.eventsHeld()).isZero();
    }

    @Test
    @DisplayName("An event buffer of 16 bytes: the spec returns it unwritten (event dropped); QEMU breaks the device")
    void report_bufferTooSmall_specReturnsUnwrittenQemuNeedsReset() {
        ViommuRig spec = new ViommuRig().boot(0);
        ViommuRig qemu = new ViommuRig(ViommuRig.NO_BYPASS.withImplementation(Implementation.QEMU)).boot(0);
        for (ViommuRig r : new ViommuRig[] {spec, qemu}) {
            r.eventq.addSgs(List.of(), List.of(new Segment(ViommuRig.EVENT_BUFFERS_AT, 16)), 0x8000);
            faults(r, 1);
            assertThat(r.events).extracting(ViommuEvent::delivered).containsExactly(false);
        }

        assertThat(spec.eventq.getBuf()).hasValueSatisfying(b -> assertThat(b.len()).isZero());
        assertThat(spec.device.needsReset()).isFalse();
        assertThat(qemu.device.needsReset()).isTrue();
        assertThat(qemu.device.status() & VirtioStatus.DEVICE_NEEDS_RESET).isNotZero();
        assertThat(qemu.device.vmmLog()).as("QEMU's translate line, then its virtio_error()")
                .containsExactly("virtio_iommu_translate sid=16 is not known!!", "error buffer of wrong size");
        assertThat(qemu.configIrqs).isOne();
    }

    @Test
    void report_recordAcrossTwoDescriptors_scatteredWhole() {
        ViommuRig rig = new ViommuRig().boot(0);
        long a = ViommuRig.EVENT_BUFFERS_AT;
        rig.eventq.addSgs(List.of(), List.of(new Segment(a, 8), new Segment(a + 0x100, 16)), 1);

        faults(rig, 1);

        byte[] record = new ViommuFault(ViommuFaultReason.DOMAIN,
                ViommuWire.FAULT_F_READ | ViommuWire.FAULT_F_ADDRESS, EP, IOVA).encode();
        assertThat(rig.memory.read(a, 8)).containsExactly(java.util.Arrays.copyOf(record, 8));
        assertThat(rig.memory.read(a + 0x100, 16)).containsExactly(java.util.Arrays.copyOfRange(record, 8, 24));
        assertThat(rig.eventq.getBuf()).hasValueSatisfying(b -> assertThat(b.len()).isEqualTo(24));
    }

    @Test
    @DisplayName("A broken device drops every fault: its queues stopped")
    void report_deviceNeedsReset_dropped() {
        ViommuRig qemu = new ViommuRig(ViommuRig.NO_BYPASS.withImplementation(Implementation.QEMU)).boot(4);
        qemu.sendRaw(new ViommuRequest.Attach(1, EP, 0).encode(), 0);

        faults(qemu, 1);

        assertThat(qemu.events).extracting(ViommuEvent::delivered).containsExactly(false);
        assertThat(qemu.takeEvents()).isEmpty();
    }
}
