package dev.iommulab.drivers.riscv;

import static dev.iommulab.core.pgtable.IommuProt.IOMMU_READ;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.pscid;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuMap;
import dev.iommulab.core.IotlbGather;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.pgtable.IoPgtableFormat;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.riscv.RiscvCause;
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvDeviceContext;
import dev.iommulab.hw.riscv.RiscvProcessContext;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The RISC-V driver's blocking, identity and paging domains (riscv_iommu_attach_blocking_domain(),
 * riscv_iommu_attach_identity_domain(), riscv_iommu_attach_paging_domain() with riscv_iommu_iodir_update(),
 * riscv_iommu_bond_unlink(), riscv_iommu_iotlb_sync() / riscv_iommu_iotlb_inval() in drivers/iommu/riscv/iommu.c)
 * on a function without PASID (device context) and, beyond mainline, on one with a process directory (process
 * context 0 for the RID, or a PASID); DMA goes through the model's walk of what the driver wrote.
 *
 * <p>What every driver does here is asserted once for all drivers by
 * {@link dev.iommulab.fixtures.drivers.IommuOpsContract} ({@link RiscvIommuOpsContractTest}); this class keeps the
 * RISC-V specifics: exact descriptors and commands, vendor fault codes, log lines, timing.
 */
class RiscvDomainsTest {

    private static final int NIC = 0x0400;
    private static final long IOVA = 0x0000_0030_0000_0000L;
    private static final long PAGE = 0x0600_0000L;
    private static final RiscvCommand FENCE = RiscvCommand.iofenceC(false, false, true, true, 0, 0);

    private final RiscvIommuFixture f = new RiscvIommuFixture();
    private final PcieEndpoint nicEp = f.probePlain("nic0", NIC, DeviceProfile.NIC, 0);
    private final Device nic = f.core.devices().get(1);

    private long dataPage(int fill) {
        byte[] bytes = new byte[4096];
        Arrays.fill(bytes, (byte) fill);
        f.memory.write(PAGE, bytes);
        return PAGE;
    }

    private List<RiscvCommand> commandsSince(int mark) {
        List<RiscvCommand> all = f.commands();
        return all.subList(mark, all.size());
    }

    /**
     * Probe with the lab's BLOCKED default leaves the context as riscv_iommu_probe_device() wrote it (not valid,
     * SADE) and sends nothing; DMA faults 258.
     */
    @Test
    void probeDevice_blockedDefault_contextNotValidAndNoCommand() {
        assertThat(f.core.getDomainForDev(nic)).isSameAs(f.driver.blockedDomain());
        assertThat(f.dc(NIC).tc()).isEqualTo(RiscvDeviceContext.TC_SADE);

        assertThat(f.read(nicEp, IOVA, 64).status()).isEqualTo(DmaStatus.UR);
        assertThat(f.hwFaults).extracting(HwFault::vendorCode).containsExactly(RiscvCause.DDT_NOT_VALID);
    }

    /**
     * A paging domain (Sv57, the deepest mode the IOMMU has): fsc = Sv57 | root, ta = PSCID, tc.V set last,
     * IODIR.INVAL_DDT and IOFENCE.C; a DMA read of the mapped IOVA gets the page.
     */
    @Test
    void attachDevice_pagingDomain_writesDeviceContextAndDmaReachesPage() {
        IommuDomain d = f.core.pagingDomainAlloc(nic);
        IommuMap.map(d, IOVA, dataPage(0x21), 4096, IOMMU_READ);
        int mark = f.commands().size();

        f.core.attachDevice(d, nic);

        RiscvDeviceContext dc = f.dc(NIC);
        assertThat(d.pgtable().format()).isEqualTo(IoPgtableFormat.RISCV_SV57);
        assertThat(dc.has(RiscvDeviceContext.TC_V)).isTrue();
        assertThat(dc.has(RiscvDeviceContext.TC_PDTV)).isFalse();
        assertThat(dc.fscMode()).isEqualTo(RiscvPagingMode.SV57.encoding());
        assertThat(dc.fscRoot()).isEqualTo(d.pgtable().root());
        assertThat(dc.pscid()).isEqualTo(pscid(d));
        assertThat(dc.iohgatpMode()).isEqualTo(RiscvDeviceContext.MODE_BARE);
        assertThat(commandsSince(mark)).containsExactly(RiscvCommand.iodirInvalDdt(true, NIC), FENCE);
        DmaOutcome out = f.read(nicEp, IOVA + 64, 64);
        assertThat(out.status()).isEqualTo(DmaStatus.OK);
        assertThat(out.data()).containsOnly((byte) 0x21);
    }

    /**
     * iommu_detach_device() to the blocking domain: riscv_iommu_iodir_update() invalidates the valid context
     * first, then writes it not valid; the last bond of the paging domain goes, so its PSCID is invalidated;
     * DMA faults 258 even though the IOTLB held the translation.
     */
    @Test
    void detachDevice_pagingDomain_contextInvalidPscidFlushedAndDmaFaults() {
        IommuDomain d = f.core.pagingDomainAlloc(nic);
        IommuMap.map(d, IOVA, dataPage(1), 4096, IOMMU_READ);
        f.core.attachDevice(d, nic);
        assertThat(f.read(nicEp, IOVA, 64).status()).isEqualTo(DmaStatus.OK);
        int mark = f.commands().size();

        f.core.detachDevice(d, nic);

        assertThat(f.dc(NIC).has(RiscvDeviceContext.TC_V)).isFalse();
        assertThat(commandsSince(mark)).containsExactly(RiscvCommand.iodirInvalDdt(true, NIC), FENCE,
                RiscvCommand.iodirInvalDdt(true, NIC), FENCE,
                RiscvCommand.iotinvalVma(false, 0, true, pscid(d), false, 0), FENCE);
        assertThat(f.read(nicEp, IOVA, 64).status()).isEqualTo(DmaStatus.UR);
        assertThat(f.hwFaults).extracting(HwFault::vendorCode).containsExactly(RiscvCause.DDT_NOT_VALID);
    }

    /**
     * The stale window: after iommu_unmap_fast() of one of two pages (no table freed) the IOTLB still translates
     * it; iommu_iotlb_sync() sends IOTINVAL.VMA for that page of the PSCID and IOFENCE.C, and the next read
     * faults (load page fault, 13).
     */
    @Test
    void unmapFast_beforeSync_iotlbStillTranslatesAndPageInvalidationClosesIt() {
        IommuDomain d = f.core.pagingDomainAlloc(nic);
        f.core.attachDevice(d, nic);
        IommuMap.map(d, IOVA, dataPage(0x55), 8192, IOMMU_READ);
        assertThat(f.read(nicEp, IOVA, 64).status()).isEqualTo(DmaStatus.OK);
        IotlbGather gather = new IotlbGather();

        IommuMap.unmapFast(d, IOVA, 4096, gather);
        DmaOutcome stale = f.read(nicEp, IOVA, 64);
        int mark = f.commands().size();
        IommuMap.iotlbSync(d, gather);

        assertThat(stale.status()).isEqualTo(DmaStatus.OK);
        assertThat(stale.data()).containsOnly((byte) 0x55);
        assertThat(commandsSince(mark)).containsExactly(
                RiscvCommand.iotinvalVma(false, 0, true, pscid(d), true, IOVA), FENCE);
        assertThat(f.read(nicEp, IOVA, 64).status()).isEqualTo(DmaStatus.UR);
        assertThat(f.hwFaults).extracting(HwFault::vendorCode).containsExactly(RiscvCause.READ_PAGE_FAULT);
        assertThat(f.read(nicEp, IOVA + 4096, 64).status()).isEqualTo(DmaStatus.OK);
    }

    /** An unmap that frees tables invalidates the whole PSCID (AV = 0): IOTINVAL.VMA cannot name non-leaf entries. */
    @Test
    void unmap_freesTables_invalidatesWholePscid() {
        IommuDomain d = f.core.pagingDomainAlloc(nic);
        f.core.attachDevice(d, nic);
        IommuMap.map(d, IOVA, PAGE, 8192, IOMMU_READ);
        int mark = f.commands().size();

        IommuMap.unmap(d, IOVA, 8192);

        assertThat(commandsSince(mark)).containsExactly(
                RiscvCommand.iotinvalVma(false, 0, true, pscid(d), false, 0), FENCE);
    }

    /**
     * A function with a process directory (the SVA accelerator, ATS): its RID goes through process context 0
     * (DPE), which the paging domain fills (fsc Sv57 | root, ta V | PSCID); after an unmap the ATC still holds
     * the translation until the sync's ATS.INVAL for the RID (no PASID) completes.
     */
    @Test
    void attachDevice_pdtFunction_processContextZeroAndAtsInvalClosesAtcWindow() {
        IommuDomain d = f.core.pagingDomainAlloc(f.dev);
        f.core.attachDevice(d, f.dev);
        IommuMap.map(d, IOVA, dataPage(0x66), 8192, IOMMU_READ);
        assertThat(f.read(f.endpoint, IOVA, 64).status()).isEqualTo(DmaStatus.OK);
        IotlbGather gather = new IotlbGather();

        IommuMap.unmapFast(d, IOVA, 4096, gather);
        DmaOutcome stale = f.read(f.endpoint, IOVA, 64);
        int mark = f.commands().size();
        IommuMap.iotlbSync(d, gather);
        f.loop.runUntilIdle();

        RiscvProcessContext pc0 = f.pc(0);
        assertThat(pc0.has(RiscvProcessContext.TA_V)).isTrue();
        assertThat(pc0.pscid()).isEqualTo(pscid(d));
        assertThat(pc0.fscRoot()).isEqualTo(d.pgtable().root());
        assertThat(stale.status()).isEqualTo(DmaStatus.OK);
        assertThat(commandsSince(mark)).containsExactly(
                RiscvCommand.iotinvalVma(false, 0, true, pscid(d), true, IOVA),
                RiscvCommand.atsInval(RiscvIommuFixture.RID, false, 0, false, IOVA, 4096), FENCE);
        assertThat(f.read(f.endpoint, IOVA, 64).status()).isEqualTo(DmaStatus.UR);
    }

    /**
     * iommu_replace_device_pasid() from a paging to the identity domain at a PASID: the process context becomes
     * Bare and valid, IODIR.INVAL_PDT; the paging domain's last bond goes (its PSCID is invalidated) and the
     * function's ATC for the PASID is invalidated.
     */
    @Test
    void replaceDevicePasid_pagingToIdentity_rewritesProcessContextAndInvalidates() {
        int pasid = RiscvIommuFixture.PASID;
        IommuDomain d = f.core.pagingDomainAlloc(f.dev);
        f.core.attachDevicePasid(d, f.dev, pasid, new AttachHandle(d));
        assertThat(f.pc(pasid).pscid()).isEqualTo(pscid(d));
        int mark = f.commands().size();
        IommuDomain identity = f.driver.identityDomain();

        f.core.replaceDevicePasid(identity, f.dev, pasid, new AttachHandle(identity));

        assertThat(f.pc(pasid).has(RiscvProcessContext.TA_V)).isTrue();
        assertThat(f.pc(pasid).fsc()).isZero();
        RiscvCommand all = RiscvCommand.atsInval(RiscvIommuFixture.RID, true, pasid, false, 0, 4096);
        assertThat(commandsSince(mark)).containsExactly(RiscvCommand.iodirInvalPdt(RiscvIommuFixture.RID, pasid),
                FENCE, RiscvCommand.iotinvalVma(false, 0, true, pscid(d), false, 0), FENCE,
                new RiscvCommand(all.qw0(), RiscvIommuDriver.ATS_INVAL_ALL), FENCE);
    }

    /**
     * A PDT level that cannot be allocated: the attach at a new PASID fails with -ENOMEM, the PASID stays free,
     * no command is sent.
     */
    @Test
    void attachDevicePasid_pdtLevelAllocFails_throwsEnomemAndChangesNothing() {
        IommuDomain d = f.core.pagingDomainAlloc(f.dev);
        int mark = f.commands().size();
        f.failures.failNext(FrameAllocator.SITE, 1);

        KernelException e = catchThrowableOfType(KernelException.class,
                () -> f.core.attachDevicePasid(d, f.dev, RiscvIommuFixture.PASID, new AttachHandle(d)));

        assertThat(e.errno()).isEqualTo(Errno.ENOMEM);
        assertThat(f.dev.group().pasidDomains()).isEmpty();
        assertThat(commandsSince(mark)).isEmpty();
    }

}
