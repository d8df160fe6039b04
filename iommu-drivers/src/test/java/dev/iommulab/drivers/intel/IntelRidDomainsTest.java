package dev.iommulab.drivers.intel;

import static dev.iommulab.core.pgtable.IommuProt.IOMMU_READ;
import static dev.iommulab.core.pgtable.IommuProt.IOMMU_WRITE;
import static dev.iommulab.drivers.intel.IntelDomainFixture.NIC_RID;
import static dev.iommulab.drivers.intel.IntelDomainFixture.did;
import static dev.iommulab.drivers.intel.IntelDomainFixture.domainId;
import static dev.iommulab.drivers.intel.IntelDomainFixture.pgtt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuMap;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.pgtable.IoPgtableFormat;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.vtd.QiDescriptor;
import dev.iommulab.hw.vtd.VtdEntries;
import org.junit.jupiter.api.Test;

/**
 * What each domain type means in the RID_PASID entry (PASID 0) of a scalable-mode VT-d unit, and that DMA
 * without PASID really goes through it: intel_iommu_attach_device(), identity_domain_attach_dev(),
 * blocking_domain_attach_dev() / device_block_translation(), intel_pasid_setup_first_level(),
 * intel_pasid_setup_second_level(), intel_pasid_setup_pass_through(), intel_pasid_replace_*() and
 * intel_pasid_tear_down_entry() (intel/iommu.c, intel/pasid.c).
 *
 * <p>What every driver does here is asserted once for all drivers by
 * {@link dev.iommulab.fixtures.drivers.IommuOpsContract} ({@link IntelIommuOpsContractTest}); this class keeps the
 * VT-d specifics: exact descriptors and commands, vendor fault codes, log lines, timing.
 */
class IntelRidDomainsTest {

    private static final long IOVA = 0x0000_0040_0000_0000L;
    private static final long PAGE = 0x0300_0000L;

    private final IntelDomainFixture f = new IntelDomainFixture();

    /**
     * With the lab's default domain type (BLOCKED) probe attaches the blocked domain, and
     * device_block_translation() finds nothing attached: no entry is written, nothing is queued, and DMA
     * without PASID hits a PASID entry that is not present.
     */
    @Test
    void probeDevice_blockedDefault_leavesRidPasidEntryAbsent() {
        assertThat(f.core.getDomainForDev(f.nic)).isSameAs(f.intel.blockedDomain());
        assertThat(f.pasidEntry(NIC_RID, 0)).containsOnly(0L);
        assertThat(f.qiSince(0)).isEmpty();

        assertThat(f.read(f.nicEp, IOVA).status()).isEqualTo(DmaStatus.UR);
        assertThat(f.hwFaults).extracting(HwFault::reason).containsExactly(HwFaultReason.PASID_ENTRY_NOT_PRESENT);
    }

    /**
     * A paging domain at the RID: first stage by default (first_level_by_default() with FLTS and SLTS), PGTT
     * 001b with FLPTPTR = the io-pgtable root and the domain's DID; a DMA read of a mapped IOVA reads the page.
     */
    @Test
    void attachDevice_pagingDomain_programsFirstStageAndDmaReachesMappedPage() {
        IommuDomain domain = f.core.pagingDomainAlloc(f.nic);
        IommuMap.map(domain, IOVA, f.dataPage(PAGE, 0x5a), 4096, IOMMU_READ | IOMMU_WRITE);

        f.core.attachDevice(domain, f.nic);

        long[] pe = f.pasidEntry(NIC_RID, 0);
        assertThat(domain.pgtable().format()).isEqualTo(IoPgtableFormat.VTD_FIRST_STAGE);
        assertThat(pgtt(pe)).isEqualTo(VtdEntries.PGTT_FIRST_STAGE);
        assertThat(pe[2] & VtdEntries.ADDR_MASK).isEqualTo(domain.pgtable().root());
        assertThat(did(pe)).isEqualTo(domainId(domain)).isGreaterThanOrEqualTo(2);
        assertThat(pe[0] & VtdEntries.PRESENT).isEqualTo(1);
        DmaOutcome out = f.read(f.nicEp, IOVA + 0x40);
        assertThat(out.status()).isEqualTo(DmaStatus.OK);
        assertThat(out.data()).containsOnly((byte) 0x5a);
        assertThat(f.hwFaults).isEmpty();
    }

    /**
     * The identity domain: a pass-through entry (PGTT 100b) with FLPT_DEFAULT_DID; DMA to any address reaches
     * that physical address.
     */
    @Test
    void attachDevice_identityDomain_programsPassThroughAndDmaReachesPhysicalAddress() {
        f.core.attachDevice(f.intel.identityDomain(), f.nic);

        long[] pe = f.pasidEntry(NIC_RID, 0);
        assertThat(pgtt(pe)).isEqualTo(VtdEntries.PGTT_PASS_THROUGH);
        assertThat(did(pe)).isEqualTo(IntelDomains.FLPT_DEFAULT_DID);
        DmaOutcome out = f.read(f.nicEp, f.dataPage(PAGE, 0x11));
        assertThat(out.status()).isEqualTo(DmaStatus.OK);
        assertThat(out.data()).containsOnly((byte) 0x11);
    }

    /**
     * iommu_detach_device() of a group owned for DMA installs the blocking domain: intel_pasid_tear_down_entry()
     * clears the RID_PASID entry and flushes the PASID cache and the PASID-IOTLB of the old DID; the next DMA
     * faults (0x59) although the IOTLB held the translation.
     */
    @Test
    void detachDevice_pagingDomain_tearsDownEntryFlushesAndDmaFaults() {
        IommuDomain domain = f.core.pagingDomainAlloc(f.nic);
        IommuMap.map(domain, IOVA, f.dataPage(PAGE, 1), 4096, IOMMU_READ);
        f.core.attachDevice(domain, f.nic);
        assertThat(f.read(f.nicEp, IOVA).status()).isEqualTo(DmaStatus.OK);
        int did = domainId(domain);
        long mark = f.qiMark();

        f.core.detachDevice(domain, f.nic);

        assertThat(f.core.getDomainForDev(f.nic)).isSameAs(f.intel.blockedDomain());
        assertThat(f.pasidEntry(NIC_RID, 0)).containsOnly(0L);
        assertThat(f.qiSince(mark)).containsExactly(QiDescriptor.pasidCache(did, 0), QiDescriptor.pasidIotlbAll(did, 0));
        assertThat(f.read(f.nicEp, IOVA).status()).isEqualTo(DmaStatus.UR);
        assertThat(f.hwFaults).extracting(HwFault::reason, HwFault::vendorCode)
                .containsExactly(tuple(HwFaultReason.PASID_ENTRY_NOT_PRESENT, 0x59));
    }

    /**
     * iommu_group_replace_domain() from identity to a paging domain writes the new entry over the present one
     * and flushes what the old one cached (intel_pasid_flush_present(): PASID cache and PASID-IOTLB of DID 1):
     * an address that passed through before now faults unless mapped.
     */
    @Test
    void groupReplaceDomain_identityToPaging_rewritesEntryAndFlushesOldDid() {
        f.core.attachDevice(f.intel.identityDomain(), f.nic);
        assertThat(f.read(f.nicEp, f.dataPage(PAGE, 2)).status()).isEqualTo(DmaStatus.OK);
        IommuDomain domain = f.core.pagingDomainAlloc(f.nic);
        long mark = f.qiMark();

        f.core.groupReplaceDomain(f.nic.group(), domain);

        assertThat(pgtt(f.pasidEntry(NIC_RID, 0))).isEqualTo(VtdEntries.PGTT_FIRST_STAGE);
        assertThat(f.qiSince(mark)).containsExactly(QiDescriptor.pasidCache(IntelDomains.FLPT_DEFAULT_DID, 0),
                QiDescriptor.pasidIotlbAll(IntelDomains.FLPT_DEFAULT_DID, 0));
        assertThat(f.read(f.nicEp, PAGE).status()).isEqualTo(DmaStatus.UR);
        assertThat(f.hwFaults).extracting(HwFault::vendorCode).containsExactly(0x71);
    }

    /**
     * A nest-parent paging domain (IOMMU_HWPT_ALLOC_NEST_PARENT) is second stage: PGTT 010b with SLPTPTR and
     * AW 010b; DMA through it reaches the mapped page.
     */
    @Test
    void attachDevice_nestParentDomain_programsSecondStage() {
        IommuDomain parent = f.core.domainAllocPaging(f.nic, DomainType.UNMANAGED, IommuCore.HWPT_ALLOC_NEST_PARENT);
        IommuMap.map(parent, IOVA, f.dataPage(PAGE, 3), 4096, IOMMU_READ);

        f.core.attachDevice(parent, f.nic);

        long[] pe = f.pasidEntry(NIC_RID, 0);
        assertThat(parent.pgtable().format()).isEqualTo(IoPgtableFormat.VTD_SECOND_STAGE);
        assertThat(pgtt(pe)).isEqualTo(VtdEntries.PGTT_SECOND_STAGE);
        assertThat(pe[0] & VtdEntries.ADDR_MASK).isEqualTo(parent.pgtable().root());
        assertThat((pe[0] & VtdEntries.PE_AW_MASK) >>> VtdEntries.PE_AW_SHIFT).isEqualTo(2);
        DmaOutcome out = f.read(f.nicEp, IOVA);
        assertThat(out.status()).isEqualTo(DmaStatus.OK);
        assertThat(out.data()).containsOnly((byte) 3);
    }

    /**
     * When the PASID table page the RID_PASID entry lives in cannot be allocated, attach fails with -ENOMEM and
     * nothing changes: the group keeps the blocked domain, the PASID directory entry stays absent, nothing is
     * queued.
     */
    @Test
    void attachDevice_pasidTablePageAllocFails_throwsEnomemAndChangesNothing() {
        IommuDomain domain = f.core.pagingDomainAlloc(f.nic);
        long mark = f.qiMark();
        f.failures.failNext(FrameAllocator.SITE, 1);

        KernelException e = catchThrowableOfType(KernelException.class, () -> f.core.attachDevice(domain, f.nic));

        assertThat(e.errno()).isEqualTo(Errno.ENOMEM);
        assertThat(f.core.getDomainForDev(f.nic)).isSameAs(f.intel.blockedDomain());
        assertThat(f.pasidEntry(NIC_RID, 0)).containsOnly(0L);
        assertThat(f.qiSince(mark)).isEmpty();
    }

}
