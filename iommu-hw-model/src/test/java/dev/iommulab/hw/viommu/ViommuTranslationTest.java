package dev.iommulab.hw.viommu;

import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.viommu.ViommuOptions.Implementation;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static dev.iommulab.hw.viommu.ViommuRig.EP;
import static dev.iommulab.hw.viommu.ViommuRig.EP2;
import static dev.iommulab.hw.viommu.ViommuWire.FAULT_F_ADDRESS;
import static dev.iommulab.hw.viommu.ViommuWire.FAULT_F_READ;
import static dev.iommulab.hw.viommu.ViommuWire.FAULT_F_WRITE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An endpoint's accesses through the device (virtio 1.x §5.13.6.5 MAP semantics, the bypass rules of §5.13.6, QEMU's
 * virtio_iommu_translate()): translation, bypass, reserved regions, and the fault record each refusal writes.
 */
class ViommuTranslationTest {

    private static final long IOVA = 0x10000;
    private static final long GPA = 0x20_0000;

    private final ViommuRig rig = new ViommuRig().boot(4);

    private static ViommuFault decode(byte[] record) {
        ByteBuffer b = ByteBuffer.wrap(record).order(ByteOrder.LITTLE_ENDIAN);
        return new ViommuFault(ViommuFaultReason.values()[b.get(0)], b.getInt(4), b.getInt(8), b.getLong(16));
    }

    @Test
    void translate_mappedRange_reachesGuestPhysicalAddress() {
        rig.attach(1, EP);
        rig.map(1, IOVA, IOVA + 0x1fff, GPA, ViommuWire.MAP_F_READ | ViommuWire.MAP_F_WRITE);

        DmaCompletion w = rig.write(EP, IOVA + 0x1010, new byte[] {1, 2, 3});

        assertThat(w.pa()).isEqualTo(GPA + 0x1010);
        assertThat(rig.memory.read(GPA + 0x1010, 3)).containsExactly(1, 2, 3);
        assertThat(rig.faults).isEmpty();
    }

    @Test
    @DisplayName("iommu-hardware §6 item 39: an unattached endpoint, not in bypass, is refused with a DOMAIN fault")
    void translate_unattachedNoBypass_refusedWithDomainFault() {
        rig.memory.write(IOVA, new byte[] {9});

        DmaCompletion r = rig.read(EP, IOVA, 1);

        assertThat(r.status()).isEqualTo(CompletionStatus.UR);
        assertThat(rig.takeEvents()).singleElement().satisfies(rec -> {
            assertThat(rec).hasSize(24);
            assertThat(decode(rec)).isEqualTo(new ViommuFault(ViommuFaultReason.DOMAIN, FAULT_F_READ | FAULT_F_ADDRESS,
                    EP, IOVA));
        });
        assertThat(rig.faults).singleElement().satisfies(f -> {
            assertThat(f.reason()).isEqualTo(HwFaultReason.DEVICE_CTX_NOT_PRESENT);
            assertThat(f.vendorCode()).isEqualTo(ViommuFaultReason.DOMAIN.code());
            assertThat(f.recorded()).isTrue();
        });
    }

    @Test
    @DisplayName("QEMU: an endpoint it never saw attached faults UNKNOWN with ADDRESS only")
    void translate_qemuNeverAttached_unknownAddressOnly() {
        ViommuRig qemu = new ViommuRig(ViommuRig.NO_BYPASS.withImplementation(Implementation.QEMU)).boot(4);

        qemu.read(EP, IOVA, 1);

        assertThat(qemu.takeEvents()).extracting(ViommuTranslationTest::decode)
                .containsExactly(new ViommuFault(ViommuFaultReason.UNKNOWN, FAULT_F_ADDRESS, EP, IOVA));
    }

    @Test
    void translate_unattachedWithBypass_identityWithoutFault() {
        ViommuRig bypass = new ViommuRig(ViommuOptions.DEFAULTS).boot(4);
        bypass.memory.write(IOVA, new byte[] {9});

        assertThat(bypass.read(EP, IOVA, 1).data()).containsExactly(9);
        assertThat(bypass.faults).isEmpty();
    }

    @Test
    @DisplayName("config.bypass written 0 by the driver: the unattached endpoint now faults; a device reset keeps it 0")
    void writeConfig_bypassCleared_unattachedFaultsAndResetKeepsIt() {
        ViommuRig bypass = new ViommuRig(ViommuOptions.DEFAULTS).boot(4);

        bypass.device.writeConfig(ViommuWire.CONFIG_BYPASS, 1, 0);
        assertThat(bypass.read(EP, IOVA, 1).ok()).isFalse();
        bypass.device.writeStatus(0);
        assertThat(bypass.device.readConfig(ViommuWire.CONFIG_BYPASS, 1)).isZero();
        bypass.device.systemReset();
        assertThat(bypass.device.readConfig(ViommuWire.CONFIG_BYPASS, 1)).isOne();
    }

    @Test
    void translate_bypassDomain_identity() {
        rig.send(new ViommuRequest.Attach(1, EP, ViommuWire.ATTACH_F_BYPASS));
        rig.memory.write(IOVA, new byte[] {5});

        assertThat(rig.read(EP, IOVA, 1).data()).containsExactly(5);
    }

    @Test
    @DisplayName("iommu-hardware §6 item 40: a write to a READ-only mapping is refused: MAPPING, WRITE|ADDRESS")
    void translate_writeToReadOnlyMapping_mappingFaultWithWriteFlag() {
        rig.attach(1, EP);
        rig.map(1, IOVA, IOVA + 0xfff, GPA, ViommuWire.MAP_F_READ);

        assertThat(rig.read(EP, IOVA + 0x40, 4).ok()).isTrue();
        assertThat(rig.write(EP, IOVA + 0x40, new byte[] {1}).ok()).isFalse();

        assertThat(rig.memory.read(GPA + 0x40, 1)).containsExactly(0);
        assertThat(rig.takeEvents()).extracting(ViommuTranslationTest::decode).containsExactly(
                new ViommuFault(ViommuFaultReason.MAPPING, FAULT_F_WRITE | FAULT_F_ADDRESS, EP, IOVA + 0x40));
        assertThat(rig.faults).extracting(HwFault::reason).containsExactly(HwFaultReason.PERMISSION_WRITE);
    }

    @Test
    @DisplayName("A WRITE-only mapping does not allow reads: MAPPING with READ|ADDRESS")
    void translate_readOfWriteOnlyMapping_mappingFaultWithReadFlag() {
        rig.attach(1, EP);
        rig.map(1, IOVA, IOVA + 0xfff, GPA, ViommuWire.MAP_F_WRITE);

        assertThat(rig.read(EP, IOVA, 4).ok()).isFalse();
        assertThat(rig.write(EP, IOVA, new byte[] {1}).ok()).isTrue();

        assertThat(rig.takeEvents()).extracting(ViommuTranslationTest::decode).containsExactly(
                new ViommuFault(ViommuFaultReason.MAPPING, FAULT_F_READ | FAULT_F_ADDRESS, EP, IOVA));
    }

    @Test
    @DisplayName("An unmapped address: MAPPING; the spec names the access, QEMU only the address")
    void translate_unmapped_mappingFaultFlagsBySpecAndQemu() {
        ViommuRig qemu = new ViommuRig(ViommuRig.NO_BYPASS.withImplementation(Implementation.QEMU)).boot(4);
        for (ViommuRig r : new ViommuRig[] {rig, qemu}) {
            r.attach(1, EP);
            r.map(1, IOVA, IOVA + 0xfff, GPA, ViommuWire.MAP_F_READ);
            r.read(EP, 0x20000, 8);
        }

        assertThat(decode(rig.takeEvents().get(0)).flags()).isEqualTo(FAULT_F_READ | FAULT_F_ADDRESS);
        assertThat(decode(qemu.takeEvents().get(0)).flags()).isEqualTo(FAULT_F_ADDRESS);
    }

    @Test
    @DisplayName("QEMU maps a range that ends inside a page: an access running past its end is refused")
    void translate_accessRunningPastMappingEnd_refused() {
        ViommuRig qemu = new ViommuRig(ViommuRig.NO_BYPASS.withImplementation(Implementation.QEMU)).boot(4);
        qemu.attach(1, EP);
        qemu.map(1, IOVA, IOVA + 0x7ff, GPA, ViommuWire.MAP_F_READ);

        assertThat(qemu.read(EP, IOVA + 0x7f8, 8).ok()).isTrue();
        assertThat(qemu.read(EP, IOVA + 0x7fc, 8).ok()).isFalse();
        assertThat(qemu.faults).extracting(HwFault::reason).containsExactly(HwFaultReason.TRANSLATION_NOT_PRESENT);
    }

    @Test
    @DisplayName("Reserved regions: the MSI window is reached untranslated even unattached; a RESERVED one faults")
    void translate_reservedRegions_msiIdentityReservedMappingFault() {
        rig.attach(1, EP2);

        assertThat(rig.write(EP2, 0xc0_0040, new byte[] {1}).ok()).isTrue();
        assertThat(rig.memory.read(0xc0_0040, 1)).containsExactly(1);
        assertThat(rig.read(EP2, 0xfee0_0000L, 4).status()).isEqualTo(CompletionStatus.UR);

        assertThat(rig.faults).singleElement().satisfies(f -> {
            assertThat(f.vendorCode()).isEqualTo(ViommuFaultReason.MAPPING.code());
            assertThat(f.access()).isEqualTo(Access.READ);
        });
    }

    @Test
    void translate_unknownRequester_refusedUnknown() {
        rig.read(0x77, IOVA, 4);

        assertThat(rig.takeEvents()).extracting(ViommuTranslationTest::decode)
                .containsExactly(new ViommuFault(ViommuFaultReason.UNKNOWN, FAULT_F_ADDRESS, 0x77, IOVA));
    }

    /**
     * QEMU's virtio_iommu_translate() prints each of its refusals once per call site, whatever the arguments:
     * not attached, no mapping, permission.
     */
    @Test
    void translate_qemuRefusals_eachCallSitePrintedOnce() {
        ViommuRig qemu = new ViommuRig(ViommuRig.NO_BYPASS.withImplementation(Implementation.QEMU)).boot(8);
        qemu.attach(1, EP);
        qemu.map(1, IOVA, IOVA + 0xfff, GPA, ViommuWire.MAP_F_READ);

        qemu.read(EP, 0x40000, 4);
        qemu.read(EP, 0x50000, 4);
        qemu.write(EP, IOVA, new byte[] {1});
        qemu.write(EP, IOVA + 8, new byte[] {1});

        assertThat(qemu.device.vmmLog()).containsExactly("virtio_iommu_translate no mapping for 0x40000 for sid=16",
                "virtio_iommu_translate permission error on 0x10000(2): allowed=1");
    }
}
