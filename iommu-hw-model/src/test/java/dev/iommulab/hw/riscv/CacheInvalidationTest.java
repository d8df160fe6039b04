package dev.iommulab.hw.riscv;

import static dev.iommulab.hw.riscv.RiscvFixture.DID;
import static dev.iommulab.hw.riscv.RiscvFixture.GSCID;
import static dev.iommulab.hw.riscv.RiscvFixture.PA;
import static dev.iommulab.hw.riscv.RiscvFixture.PASID;
import static dev.iommulab.hw.riscv.RiscvFixture.PSCID;
import static dev.iommulab.hw.riscv.RiscvFixture.USER_RW;
import static dev.iommulab.hw.riscv.RiscvFixture.VA;
import static dev.iommulab.hw.riscv.RiscvFixture.read;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.pgtable.RiscvPageTable;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.pgtable.RiscvPte;
import org.junit.jupiter.api.Test;

/**
 * Caches that really cache: the IOTLB, the device-context cache and the process-context cache keep using
 * what they read until {@code IOTINVAL.VMA}/{@code .GVMA} or {@code IODIR.INVAL_DDT}/{@code INVAL_PDT} drop it,
 * with the operand rules of the spec's tables (riscv-iommu "Caching in-memory data structures", "IOMMU
 * Page-Table cache invalidation commands", "IOMMU directory cache invalidation commands";
 * reference/iommu-hardware.md §2.4.5, §5).
 */
class CacheInvalidationTest {

    private static final long PA_OTHER = PA + 0x10_0000;

    private RiscvFixture f = new RiscvFixture();

    private long readValue(RiscvFixture x, long va) {
        var d = x.iommu.memoryRequest(read(va));
        assertThat(d.ok()).as("read of %#x", va).isTrue();
        return java.nio.ByteBuffer.wrap(d.data()).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** Maps VA → PA, reads once (caching it), then remaps VA → PA_OTHER in memory only. */
    private void cacheThenRemap(long extraFlags) {
        f.attachSva(0);
        f.enableCq(64, false);
        f.memory.writeLong(PA, 1);
        f.memory.writeLong(PA_OTHER, 2);
        long leaf = f.map(VA, PA, USER_RW | extraFlags);
        assertThat(readValue(f, VA)).isEqualTo(1);
        f.memory.writeLong(leaf, RiscvPte.encode(PA_OTHER, USER_RW | extraFlags | RiscvPte.V));
    }

    @Test
    void iotlb_pteChanged_staleUntilIotinvalVmaForTheAddress() {
        cacheThenRemap(0);
        assertThat(readValue(f, VA)).isEqualTo(1);

        f.submit(RiscvCommand.iotinvalVma(false, 0, true, PSCID, true, VA + 0x1000));
        assertThat(readValue(f, VA)).as("another page's invalidation leaves it").isEqualTo(1);
        f.submit(RiscvCommand.iotinvalVma(false, 0, true, PSCID, true, VA));

        assertThat(readValue(f, VA)).isEqualTo(2);
    }

    @Test
    void iotlb_vmaForOtherPscid_keepsEntry() {
        cacheThenRemap(0);

        f.submit(RiscvCommand.iotinvalVma(false, 0, true, PSCID + 1, false, 0));
        assertThat(readValue(f, VA)).isEqualTo(1);
        f.submit(RiscvCommand.iotinvalVma(true, GSCID, false, 0, false, 0));
        assertThat(readValue(f, VA)).as("GV = 1 names VM address spaces only").isEqualTo(1);
        f.submit(RiscvCommand.iotinvalVma(false, 0, false, 0, false, 0));

        assertThat(readValue(f, VA)).isEqualTo(2);
    }

    @Test
    void iotlb_globalMapping_survivesVmaWithPscidButNotWithout() {
        cacheThenRemap(RiscvPte.G);

        f.submit(RiscvCommand.iotinvalVma(false, 0, true, PSCID, true, VA));
        assertThat(readValue(f, VA)).isEqualTo(1);
        f.submit(RiscvCommand.iotinvalVma(false, 0, false, 0, true, VA));

        assertThat(readValue(f, VA)).isEqualTo(2);
    }

    @Test
    void iotlb_cachedWithoutWrite_writeRewalksAndSeesNewPte() {
        f.attachSva(0);
        long leaf = f.map(VA, PA, RiscvPte.R | RiscvPte.U | RiscvPte.A);
        assertThat(f.iommu.memoryRequest(read(VA)).ok()).isTrue();
        f.memory.writeLong(leaf, RiscvPte.encode(PA, USER_RW | RiscvPte.V));

        assertThat(f.iommu.memoryRequest(RiscvFixture.write(VA, new byte[] {5})).ok()).isTrue();

        assertThat(f.memory.read(PA, 1)).containsExactly(5);
    }

    @Test
    void iotlb_capacityOne_secondPageEvictsFirst() {
        f = new RiscvFixture(RiscvConfig.defaults("r").withIotlbEntries(1));
        cacheThenRemap(0);
        f.map(VA + 0x1000, PA, USER_RW);

        readValue(f, VA + 0x1000);

        assertThat(readValue(f, VA)).isEqualTo(2);
    }

    @Test
    void iotlb_noEntries_tableChangeSeenAtOnce() {
        f = new RiscvFixture(RiscvConfig.defaults("r").withIotlbEntries(0));
        cacheThenRemap(0);

        assertThat(readValue(f, VA)).isEqualTo(2);
    }

    @Test
    void iotlb_gStageChanged_staleUntilIotinvalGvmaOfItsGscid() {
        f.ddt(RiscvRegs.DDTP_MODE_3LVL);
        f.enableCq(64, false);
        long gRoot = f.frames(4, RiscvPagingMode.G_STAGE_ROOT_SIZE);
        long leaf = new RiscvPageTable(f.memory, RiscvPagingMode.SV39X4).map(gRoot, VA, PA, 4096, USER_RW, f::frame);
        f.writeDc(DID, new RiscvDeviceContext(RiscvDeviceContext.TC_V, RiscvDeviceContext.encodeIohgatp(8, GSCID,
                gRoot), 0, 0));
        f.memory.writeLong(PA, 1);
        f.memory.writeLong(PA_OTHER, 2);
        assertThat(f.iommu.memoryRequest(RiscvFixture.readNoPasid(VA)).data()[0]).isEqualTo((byte) 1);
        f.memory.writeLong(leaf, RiscvPte.encode(PA_OTHER, USER_RW | RiscvPte.V));

        f.submit(RiscvCommand.iotinvalGvma(true, GSCID + 1, false, 0));
        assertThat(f.iommu.memoryRequest(RiscvFixture.readNoPasid(VA)).data()[0]).isEqualTo((byte) 1);
        f.submit(RiscvCommand.iotinvalGvma(true, GSCID, true, VA));

        assertThat(f.iommu.memoryRequest(RiscvFixture.readNoPasid(VA)).data()[0]).isEqualTo((byte) 2);
    }

    @Test
    void ddtCache_contextInvalidated_usedUntilIodirInvalDdt() {
        f = new RiscvFixture(RiscvConfig.defaults("r").withIotlbEntries(0));
        f.attachSva(0);
        f.enableCq(64, false);
        f.map(VA, PA, USER_RW);
        readValue(f, VA);
        f.editDc(dc -> dc.without(RiscvDeviceContext.TC_V));
        assertThat(f.iommu.memoryRequest(read(VA)).ok()).isTrue();

        f.submit(RiscvCommand.iodirInvalDdt(true, DID + 1));
        assertThat(f.iommu.memoryRequest(read(VA)).ok()).isTrue();
        f.submit(RiscvCommand.iodirInvalDdt(true, DID));

        assertThat(f.iommu.memoryRequest(read(VA)).ok()).isFalse();
        assertThat(f.lastFault().vendorCode()).isEqualTo(RiscvCause.DDT_NOT_VALID);
    }

    @Test
    void ddtCache_allDevices_dvZeroDropsEverything() {
        f = new RiscvFixture(RiscvConfig.defaults("r").withIotlbEntries(0));
        f.attachSva(0);
        f.enableCq(64, false);
        f.map(VA, PA, USER_RW);
        readValue(f, VA);
        f.editDc(dc -> dc.without(RiscvDeviceContext.TC_V));

        f.submit(RiscvCommand.iodirInvalDdt(false, 0));

        assertThat(f.iommu.memoryRequest(read(VA)).ok()).isFalse();
    }

    @Test
    void pdtCache_processContextInvalidated_usedUntilIodirInvalPdt() {
        f = new RiscvFixture(RiscvConfig.defaults("r").withIotlbEntries(0));
        f.attachSva(0);
        f.enableCq(64, false);
        f.map(VA, PA, USER_RW);
        readValue(f, VA);
        f.writePc(PASID, new RiscvProcessContext(0, 0));
        assertThat(f.iommu.memoryRequest(read(VA)).ok()).isTrue();

        f.submit(RiscvCommand.iodirInvalPdt(DID, PASID + 1));
        assertThat(f.iommu.memoryRequest(read(VA)).ok()).isTrue();
        f.submit(RiscvCommand.iodirInvalPdt(DID, PASID));

        assertThat(f.iommu.memoryRequest(read(VA)).ok()).isFalse();
        assertThat(f.lastFault().vendorCode()).isEqualTo(RiscvCause.PDT_NOT_VALID);
    }

    @Test
    void pdtCache_iodirInvalDdt_alsoDropsTheDevicesProcessContexts() {
        f = new RiscvFixture(RiscvConfig.defaults("r").withIotlbEntries(0));
        f.attachSva(0);
        f.enableCq(64, false);
        f.map(VA, PA, USER_RW);
        readValue(f, VA);
        f.writePc(PASID, new RiscvProcessContext(0, 0));

        f.submit(RiscvCommand.iodirInvalDdt(true, DID));

        assertThat(f.iommu.memoryRequest(read(VA)).ok()).isFalse();
    }

    @Test
    void caches_invalidEntryMadeValid_seenWithoutInvalidation() {
        f.attachSva(0);
        f.map(VA, PA, USER_RW);
        f.editDc(dc -> dc.without(RiscvDeviceContext.TC_V));
        assertThat(f.iommu.memoryRequest(read(VA)).ok()).isFalse();

        f.editDc(dc -> dc.with(RiscvDeviceContext.TC_V));

        assertThat(f.iommu.memoryRequest(read(VA)).ok()).isTrue();
    }
}
