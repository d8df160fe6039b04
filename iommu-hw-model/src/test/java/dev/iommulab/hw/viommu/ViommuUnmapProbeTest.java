package dev.iommulab.hw.viommu;

import dev.iommulab.hw.viommu.ViommuOptions.Implementation;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import static dev.iommulab.hw.viommu.ViommuRig.EP;
import static dev.iommulab.hw.viommu.ViommuRig.EP2;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * UNMAP (virtio 1.x §5.13.6.6, with the specification's seven examples), PROBE (§5.13.6.7) and requests the device
 * cannot parse (§5.13.6 "When the device fails to parse a request"), by the specification and by QEMU.
 */
class ViommuUnmapProbeTest {

    /** One unit of the spec's examples is one 4 KiB page here: map(0, 4) maps pages 0 to 4. */
    private static final long PAGE = 0x1000;
    private static final long GPA = 0x40_0000;

    private final ViommuRig rig = new ViommuRig().boot(0);
    private final ViommuRig qemu = new ViommuRig(ViommuRig.NO_BYPASS.withImplementation(Implementation.QEMU)).boot(0);

    private static ViommuStatus map(ViommuRig r, int first, int last) {
        return r.map(1, first * PAGE, (last + 1) * PAGE - 1, GPA + first * PAGE, ViommuWire.MAP_F_READ);
    }

    private static ViommuStatus unmap(ViommuRig r, int first, int last) {
        return r.send(new ViommuRequest.Unmap(1, first * PAGE, (last + 1) * PAGE - 1));
    }

    private static boolean mapped(ViommuRig r, int page) {
        return r.read(EP, page * PAGE, 4).ok();
    }

    /**
     * The UNMAP examples of virtio 1.x §5.13.6.6, each on a blank domain: the maps (a as "a0-a1", b as "b0-b1"),
     * the unmap, its status, and which of a and b remain.
     */
    @ParameterizedTest(name = "({0}) unmap({3},{4}) -> {5}")
    @CsvSource({
        "1, ,    ,    0, 4,  OK,    ,      ",
        "2, 0-9, ,    0, 9,  OK,    false, ",
        "3, 0-4, 5-9, 0, 9,  OK,    false, false",
        "4, 0-9, ,    0, 4,  RANGE, true,  ",
        "5, 0-4, 5-9, 0, 4,  OK,    false, true",
        "6, 0-4, ,    0, 9,  OK,    false, ",
        "7, 0-4, 10-14, 0, 14, OK,  false, false",
    })
    void unmap_specExample_statusAndRemainingMappings(int example, String a, String b, int first, int last,
                                                      ViommuStatus status, Boolean aRemains, Boolean bRemains) {
        rig.attach(1, EP);
        for (String m : new String[] {a, b}) {
            if (m != null) {
                String[] r = m.split("-");
                assertThat(map(rig, Integer.parseInt(r[0]), Integer.parseInt(r[1]))).isEqualTo(ViommuStatus.OK);
            }
        }

        assertThat(unmap(rig, first, last)).as("example %d", example).isEqualTo(status);

        if (aRemains != null) {
            assertThat(mapped(rig, Integer.parseInt(a.split("-")[0]))).isEqualTo(aRemains);
        }
        if (bRemains != null) {
            assertThat(mapped(rig, Integer.parseInt(b.split("-")[0]))).isEqualTo(bRemains);
        }
    }

    @Test
    @DisplayName("iommu-hardware §6 item 42: UNMAP(0,4) of mapping [0,9] is RANGE and the mapping remains whole")
    void unmap_wouldSplitMapping_rangeAndMappingRemains() {
        for (ViommuRig r : new ViommuRig[] {rig, qemu}) {
            r.attach(1, EP);
            map(r, 0, 9);

            assertThat(unmap(r, 0, 4)).isEqualTo(ViommuStatus.RANGE);

            assertThat(mapped(r, 0)).isTrue();
            assertThat(mapped(r, 9)).isTrue();
        }
    }

    @Test
    @DisplayName("UNMAP over a=(0,4), b=(5,9) ending inside b: the spec removes nothing, QEMU has already removed a")
    void unmap_secondMappingWouldSplit_specRemovesNoneQemuRemovesFirst() {
        for (ViommuRig r : new ViommuRig[] {rig, qemu}) {
            r.attach(1, EP);
            map(r, 0, 4);
            map(r, 5, 9);

            assertThat(unmap(r, 0, 7)).isEqualTo(ViommuStatus.RANGE);
            assertThat(mapped(r, 5)).isTrue();
        }
        assertThat(mapped(rig, 0)).isTrue();
        assertThat(mapped(qemu, 0)).isFalse();
    }

    @Test
    void unmap_reservedNonzero_specInvalAndNothingRemoved() {
        rig.attach(1, EP);
        map(rig, 0, 0);

        assertThat(rig.send(new ViommuRequest.Unmap(1, 0, PAGE - 1, 1))).isEqualTo(ViommuStatus.INVAL);

        assertThat(mapped(rig, 0)).isTrue();
    }

    @Test
    void unmap_unknownDomain_noent() {
        assertThat(unmap(rig, 0, 0)).isEqualTo(ViommuStatus.NOENT);
    }

    @Test
    @DisplayName("PROBE: one 24-byte RESV_MEM property per region, the rest of probe_size zero, then the tail")
    void probe_endpointWithRegions_propertiesByteExact() {
        int size = rig.device.options().probeSize();

        assertThat(rig.send(new ViommuRequest.Probe(EP2))).isEqualTo(ViommuStatus.OK);

        ByteBuffer b = ByteBuffer.wrap(rig.written(size + 4)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getShort(0)).isEqualTo((short) ViommuWire.PROBE_T_RESV_MEM);
        assertThat(b.getShort(2)).isEqualTo((short) 20);
        assertThat(b.get(4)).isEqualTo((byte) ViommuWire.RESV_MEM_T_MSI);
        assertThat(b.getLong(8)).isEqualTo(0xc0_0000L);
        assertThat(b.getLong(16)).isEqualTo(0xcf_ffffL);
        assertThat(b.get(28)).isEqualTo((byte) ViommuWire.RESV_MEM_T_RESERVED);
        assertThat(b.getLong(32)).isEqualTo(0xfee0_0000L);
        assertThat(Arrays.copyOfRange(b.array(), 48, size + 4)).containsOnly(0);
    }

    @Test
    void probe_unknownEndpoint_noent() {
        assertThat(rig.send(new ViommuRequest.Probe(0x99))).isEqualTo(ViommuStatus.NOENT);
    }

    @Test
    @DisplayName("PROBE with a writable part smaller than probe_size + 4: INVAL by the spec, DEVERR from QEMU")
    void probe_bufferTooSmall_specInvalQemuDeverr() {
        byte[] body = new ViommuRequest.Probe(EP).encode();

        assertThat(rig.sendRaw(body, 64)).isEqualTo(4);
        assertThat(rig.written(1)).containsExactly(ViommuStatus.INVAL.code());
        assertThat(qemu.sendRaw(body, 64)).isEqualTo(4);
        assertThat(qemu.written(1)).containsExactly(ViommuStatus.DEVERR.code());
    }

    @Test
    @DisplayName("An unknown request type: returned unwritten by the spec; QEMU answers UNSUPP")
    void request_unknownType_specUnwrittenQemuUnsupp() {
        byte[] body = new byte[20];
        body[0] = 9;

        assertThat(rig.sendRaw(body, 4)).isZero();
        assertThat(rig.written(4)).containsOnly(0xff);
        assertThat(qemu.sendRaw(body, 4)).isEqualTo(4);
        assertThat(qemu.written(1)).containsExactly(ViommuStatus.UNSUPP.code());
    }

    @Test
    @DisplayName("A request shorter than its type (an ATTACH of 12 bytes) is INVAL and attaches nothing")
    void request_bodyShorterThanType_invalAndNothingDone() {
        byte[] body = Arrays.copyOf(new ViommuRequest.Attach(1, EP, 0).encode(), 12);

        assertThat(rig.sendRaw(body, 4)).isEqualTo(4);
        assertThat(rig.written(1)).containsExactly(ViommuStatus.INVAL.code());
        assertThat(rig.device.domainCount()).isZero();
    }

    @Test
    @DisplayName("No room for the tail: the spec returns the buffers unwritten; QEMU's virtio_error breaks the device")
    void request_noTail_specUnwrittenQemuNeedsReset() {
        byte[] body = new ViommuRequest.Attach(1, EP, 0).encode();

        assertThat(rig.sendRaw(body, 0)).isZero();
        assertThat(rig.device.needsReset()).isFalse();
        assertThat(rig.device.domainCount()).isZero();

        assertThat(qemu.sendRaw(body, 0)).as("nothing returned").isEqualTo(-1);
        assertThat(qemu.device.needsReset()).isTrue();
        assertThat(qemu.device.vmmLog()).containsExactly("virtio-iommu bad head/tail size");
        assertThat(qemu.configIrqs).isOne();
        assertThat(qemu.device.domainCount()).isZero();
    }
}
