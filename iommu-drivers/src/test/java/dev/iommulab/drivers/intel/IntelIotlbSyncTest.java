package dev.iommulab.drivers.intel;

import static dev.iommulab.core.pgtable.IommuProt.IOMMU_READ;
import static dev.iommulab.drivers.intel.IntelDomainFixture.ACC_RID;
import static dev.iommulab.drivers.intel.IntelDomainFixture.domainId;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuMap;
import dev.iommulab.core.IotlbGather;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.vtd.QiDescriptor;
import org.junit.jupiter.api.Test;

/**
 * Unmap, gather and sync on VT-d (intel_iommu_tlb_sync() → cache_tag_flush_range() in intel/cache.c,
 * iommu_unmap_fast() / iommu_iotlb_sync() in iommu.c): until the sync the IOTLB and the device's ATC may still
 * translate an unmapped IOVA — the stale window the gather and its sync close — and the sync sends exactly the
 * page-selective invalidations of the gathered range.
 *
 * <p>What every driver does here is asserted once for all drivers by
 * {@link dev.iommulab.fixtures.drivers.IommuOpsContract} ({@link IntelIommuOpsContractTest}); this class keeps the
 * VT-d specifics: exact descriptors and commands, vendor fault codes, log lines, timing.
 */
class IntelIotlbSyncTest {

    private static final long IOVA = 0x0000_0010_0000_0000L;
    private static final long PAGE = 0x0400_0000L;

    private final IntelDomainFixture f = new IntelDomainFixture();

    private IommuDomain attached(int flags, dev.iommulab.core.Device dev) {
        IommuDomain d = f.core.domainAllocPaging(dev, DomainType.UNMANAGED, flags);
        f.core.attachDevice(d, dev);
        return d;
    }

    /**
     * A NIC without ATS, first-stage domain: after iommu_unmap_fast() the page table no longer maps the IOVA, yet
     * a DMA still reads the old page through the IOTLB; iommu_iotlb_sync() queues one page-selective PASID-IOTLB
     * invalidation (DID, PASID 0, AM 1 for two pages) and the next DMA faults 0x71.
     */
    @Test
    void unmapFast_beforeSync_iotlbStillTranslatesAndSyncClosesTheWindow() {
        IommuDomain d = attached(0, f.nic);
        IommuMap.map(d, IOVA, f.dataPage(PAGE, 0x77), 8192, IOMMU_READ);
        assertThat(f.read(f.nicEp, IOVA).status()).isEqualTo(DmaStatus.OK);
        IotlbGather gather = new IotlbGather();

        assertThat(IommuMap.unmapFast(d, IOVA, 8192, gather)).isEqualTo(8192);
        DmaOutcome stale = f.read(f.nicEp, IOVA);
        long mark = f.qiMark();
        IommuMap.iotlbSync(d, gather);

        assertThat(IommuMap.iovaToPhys(d, IOVA)).isZero();
        assertThat(stale.status()).as("stale IOTLB entry used before the sync").isEqualTo(DmaStatus.OK);
        assertThat(stale.data()).containsOnly((byte) 0x77);
        assertThat(f.qiSince(mark)).containsExactly(QiDescriptor.pasidIotlbPages(domainId(d), 0, IOVA, 1));
        assertThat(f.read(f.nicEp, IOVA).status()).isEqualTo(DmaStatus.UR);
        assertThat(f.hwFaults).extracting(HwFault::vendorCode).containsExactly(0x71);
    }

    /**
     * An ATS function keeps the translation in its ATC: after iommu_unmap_fast() its DMA still succeeds with
     * translated requests; the sync adds a device-TLB invalidation of the RID (type 0x3) after the PASID-IOTLB
     * one, and once the function completed it the next DMA is refused (ATS answers R = W = 0, no PRI: UR).
     */
    @Test
    void unmapFast_atsFunction_atcStaleUntilDeviceTlbInvalidation() {
        IommuDomain d = attached(0, f.acc);
        IommuMap.map(d, IOVA, f.dataPage(PAGE, 0x42), 4096, IOMMU_READ);
        assertThat(f.read(f.accEp, IOVA).status()).isEqualTo(DmaStatus.OK);
        IotlbGather gather = new IotlbGather();

        IommuMap.unmapFast(d, IOVA, 4096, gather);
        DmaOutcome stale = f.read(f.accEp, IOVA);
        long mark = f.qiMark();
        IommuMap.iotlbSync(d, gather);
        f.loop.runUntilIdle();

        assertThat(stale.status()).isEqualTo(DmaStatus.OK);
        assertThat(stale.data()).containsOnly((byte) 0x42);
        assertThat(f.qiSince(mark)).containsExactly(QiDescriptor.pasidIotlbPages(domainId(d), 0, IOVA, 0),
                QiDescriptor.deviceTlb(ACC_RID, IOVA, 0));
        assertThat(f.read(f.accEp, IOVA).status()).isEqualTo(DmaStatus.UR);
    }

    /**
     * A second-stage domain attached to two functions: one page-selective IOTLB invalidation for the DID
     * (type 0x2, not one per device) plus the device-TLB of the ATS function; a range of 3 pages starting at an
     * odd page is widened to an aligned 8-page block (calculate_psi_aligned_address()).
     */
    @Test
    void unmap_secondStageOnTwoDevices_oneIotlbPsiPerDidAndAlignedMask() {
        IommuDomain d = attached(IommuCore.HWPT_ALLOC_NEST_PARENT, f.nic);
        f.core.attachDevice(d, f.acc);
        long start = IOVA + 3 * 4096;
        IommuMap.map(d, start, PAGE, 3 * 4096, IOMMU_READ);
        long mark = f.qiMark();

        IommuMap.unmap(d, start, 3 * 4096);
        f.loop.runUntilIdle();

        int did = domainId(d);
        assertThat(f.qiSince(mark)).containsExactly(
                QiDescriptor.iotlb(QiDescriptor.IOTLB_PAGE, did, IOVA, 3, false),
                QiDescriptor.deviceTlb(ACC_RID, IOVA, 3));
    }

    /**
     * Unmapping 4 MiB of 2 MiB pages: AM 10 is beyond CAP.MAMV, so a second-stage domain gets a domain-selective
     * IOTLB invalidation; a first-stage one a PASID-IOTLB invalidation with AM 10.
     */
    @Test
    void unmap_rangeBeyondMamv_domainSelectiveForSecondStageOnly() {
        IommuDomain ss = f.core.domainAllocPaging(f.nic, DomainType.UNMANAGED, IommuCore.HWPT_ALLOC_NEST_PARENT);
        IommuDomain fs = f.core.pagingDomainAlloc(f.acc);
        f.core.attachDevice(ss, f.nic);
        f.core.attachDevice(fs, f.acc);
        IommuMap.map(ss, IOVA, 0x0800_0000L, 4L << 20, IOMMU_READ);
        IommuMap.map(fs, IOVA, 0x0800_0000L, 4L << 20, IOMMU_READ);
        long mark = f.qiMark();

        assertThat(IommuMap.unmap(ss, IOVA, 4L << 20)).isEqualTo(4L << 20);
        assertThat(IommuMap.unmap(fs, IOVA, 4L << 20)).isEqualTo(4L << 20);
        f.loop.runUntilIdle();

        assertThat(f.qiSince(mark)).containsExactly(
                QiDescriptor.iotlb(QiDescriptor.IOTLB_DOMAIN, domainId(ss), 0, 0, false),
                QiDescriptor.pasidIotlbPages(domainId(fs), 0, IOVA, 10),
                QiDescriptor.deviceTlb(ACC_RID, IOVA, 10));
    }

}
