package dev.iommulab.drivers.intel;

import static dev.iommulab.core.pgtable.IommuProt.IOMMU_READ;
import static dev.iommulab.core.pgtable.IommuProt.IOMMU_WRITE;
import static dev.iommulab.drivers.intel.IntelDomainFixture.ACC_RID;
import static dev.iommulab.drivers.intel.IntelDomainFixture.NIC_RID;
import static dev.iommulab.drivers.intel.IntelDomainFixture.did;
import static dev.iommulab.drivers.intel.IntelDomainFixture.domainId;
import static dev.iommulab.drivers.intel.IntelDomainFixture.pgtt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuMap;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.X86PageTable;
import dev.iommulab.hw.pgtable.X86Pte;
import dev.iommulab.hw.vtd.QiDescriptor;
import dev.iommulab.hw.vtd.VtdEntries;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Domains at a PASID and nested domains on VT-d: intel_iommu_set_dev_pasid(), identity_domain_set_dev_pasid(),
 * intel_pasid_replace_first_level() / _pass_through() with intel_pasid_flush_present(), blocking_domain
 * set_dev_pasid (intel_pasid_tear_down_entry()), intel_iommu_domain_alloc_nested() and
 * intel_pasid_setup_nested() (intel/iommu.c, intel/pasid.c, intel/nested.c).
 */
class IntelPasidDomainsTest {

    private static final int PASID = 5;
    private static final long IOVA = 0x0000_0020_0000_0000L;
    private static final long PAGE = 0x0500_0000L;

    private final IntelDomainFixture f = new IntelDomainFixture();

    /** A paging domain at a PASID gets its own first-stage entry; DMA tagged with the PASID reads the page. */
    @Test
    void attachDevicePasid_pagingDomain_programsPasidEntryAndDmaWithPasidReachesPage() {
        IommuDomain d = f.core.pagingDomainAlloc(f.acc);
        IommuMap.map(d, IOVA, f.dataPage(PAGE, 0x33), 4096, IOMMU_READ);

        f.core.attachDevicePasid(d, f.acc, PASID, new AttachHandle(d));

        long[] pe = f.pasidEntry(ACC_RID, PASID);
        assertThat(pgtt(pe)).isEqualTo(VtdEntries.PGTT_FIRST_STAGE);
        assertThat(pe[2] & VtdEntries.ADDR_MASK).isEqualTo(d.pgtable().root());
        DmaOutcome out = f.dma(f.accEp, IOVA, 64, Access.READ, PASID);
        assertThat(out.status()).isEqualTo(DmaStatus.OK);
        assertThat(out.data()).containsOnly((byte) 0x33);
        assertThat(f.pasidEntry(ACC_RID, 0)).as("the RID stays blocked").containsOnly(0L);
    }

    /**
     * iommu_replace_device_pasid() from a paging to the identity domain: the entry becomes pass-through and the
     * old DID's PASID cache, PASID-IOTLB and the PASID's device-TLB are flushed; DMA now passes through.
     */
    @Test
    void replaceDevicePasid_pagingToIdentity_rewritesEntryAndFlushesOld() {
        IommuDomain d = f.core.pagingDomainAlloc(f.acc);
        f.core.attachDevicePasid(d, f.acc, PASID, new AttachHandle(d));
        IommuDomain identity = f.intel.identityDomain();
        long mark = f.qiMark();

        f.core.replaceDevicePasid(identity, f.acc, PASID, new AttachHandle(identity));
        f.loop.runUntilIdle();

        int did = domainId(d);
        assertThat(pgtt(f.pasidEntry(ACC_RID, PASID))).isEqualTo(VtdEntries.PGTT_PASS_THROUGH);
        assertThat(f.qiSince(mark)).containsExactly(QiDescriptor.pasidCache(did, PASID),
                QiDescriptor.pasidIotlbAll(did, PASID), QiDescriptor.pasidDeviceTlbAll(ACC_RID, PASID));
        DmaOutcome out = f.dma(f.accEp, f.dataPage(PAGE, 0x44), 64, Access.READ, PASID);
        assertThat(out.status()).isEqualTo(DmaStatus.OK);
        assertThat(out.data()).containsOnly((byte) 0x44);
    }

    /**
     * Replacing with (or an attachment of) an SVA domain is not modelled: -EOPNOTSUPP, and the PASID entry, the
     * handle and the queue are untouched.
     */
    @Test
    void replaceDevicePasid_withSvaDomain_throwsEopnotsuppAndChangesNothing() {
        IommuDomain d = f.core.pagingDomainAlloc(f.acc);
        AttachHandle handle = new AttachHandle(d);
        f.core.attachDevicePasid(d, f.acc, PASID, handle);
        long[] before = f.pasidEntry(ACC_RID, PASID);
        IommuDomain sva = f.intel.domainAllocSva(f.acc, new MmStruct("p", f.frames, f.frames.allocate()));
        long mark = f.qiMark();

        KernelException e = catchThrowableOfType(KernelException.class,
                () -> f.core.replaceDevicePasid(sva, f.acc, PASID, new AttachHandle(sva)));

        assertThat(e.errno()).isEqualTo(Errno.EOPNOTSUPP);
        assertThat(f.pasidEntry(ACC_RID, PASID)).isEqualTo(before);
        assertThat(f.acc.group().pasidArray()).isEqualTo(Map.of(PASID, handle));
        assertThat(f.qiSince(mark)).isEmpty();
    }

    /** iommu_detach_device_pasid() of a paging domain: the entry is cleared and its caches flushed. */
    @Test
    void detachDevicePasid_pagingDomain_clearsEntryAndFlushes() {
        IommuDomain d = f.core.pagingDomainAlloc(f.acc);
        f.core.attachDevicePasid(d, f.acc, PASID, null);
        long mark = f.qiMark();

        f.core.detachDevicePasid(d, f.acc, PASID);

        int did = domainId(d);
        assertThat(f.pasidEntry(ACC_RID, PASID)).containsOnly(0L);
        assertThat(f.qiSince(mark)).containsExactly(QiDescriptor.pasidCache(did, PASID),
                QiDescriptor.pasidIotlbAll(did, PASID), QiDescriptor.pasidDeviceTlbAll(ACC_RID, PASID));
        assertThat(f.acc.group().pasidDomains()).isEmpty();
    }

    /**
     * A NESTED domain at the RID: PGTT 011b with the guest first stage (FLPTPTR, a guest-physical address) over
     * the parent's second stage (SLPTPTR), its own DID; DMA walks both and reaches the page.
     */
    @Test
    void attachDevice_nestedDomain_programsNestedEntryAndDmaWalksBothStages() {
        IommuDomain parent = f.core.domainAllocPaging(f.nic, DomainType.UNMANAGED, IommuCore.HWPT_ALLOC_NEST_PARENT);
        long page = f.dataPage(PAGE, 0x66);
        long s1Root = guestTable(parent, IOVA, page);

        IommuDomain nested = f.core.domainAllocNested(f.nic, parent, s1Root, 48);
        f.core.attachDevice(nested, f.nic);

        long[] pe = f.pasidEntry(NIC_RID, 0);
        assertThat(pgtt(pe)).isEqualTo(VtdEntries.PGTT_NESTED);
        assertThat(pe[2] & VtdEntries.ADDR_MASK).isEqualTo(s1Root);
        assertThat(pe[0] & VtdEntries.ADDR_MASK).isEqualTo(parent.pgtable().root());
        assertThat(did(pe)).isEqualTo(domainId(nested)).isNotEqualTo(domainId(parent));
        DmaOutcome out = f.read(f.nicEp, IOVA + 8);
        assertThat(out.status()).isEqualTo(DmaStatus.OK);
        assertThat(out.data()).containsOnly((byte) 0x66);
    }

    /** intel_iommu_domain_alloc_nested() refuses a first-stage parent and a 5-level (57-bit) guest table. */
    @Test
    void domainAllocNested_badParentOrWidth_throwsEinval() {
        IommuDomain fsParent = f.core.pagingDomainAlloc(f.nic);
        IommuDomain ssParent = f.core.domainAllocPaging(f.nic, DomainType.UNMANAGED, IommuCore.HWPT_ALLOC_NEST_PARENT);

        assertThat(catchThrowableOfType(KernelException.class,
                () -> f.core.domainAllocNested(f.nic, fsParent, 0x10_0000, 48)).errno()).isEqualTo(Errno.EINVAL);
        assertThat(catchThrowableOfType(KernelException.class,
                () -> f.core.domainAllocNested(f.nic, ssParent, 0x10_0000, 57)).errno()).isEqualTo(Errno.EINVAL);
        assertThat(catchThrowableOfType(KernelException.class,
                () -> f.core.domainAllocNested(f.nic, ssParent, 0x10_0800, 48)).errno()).isEqualTo(Errno.EINVAL);
    }

    /**
     * A guest's first-stage table mapping {@code iova} to {@code page}, guest-physical = host-physical: every
     * table page and the data page are mapped 1:1 in the parent's second stage.
     */
    private long guestTable(IommuDomain parent, long iova, long page) {
        X86PageTable table = new X86PageTable(f.memory, 4);
        long root = f.frames.allocate();
        long[] frames = new long[3];
        int[] next = {0};
        table.map(root, iova, page, 4096, X86Pte.RW | X86Pte.US | X86Pte.A | X86Pte.D, () -> {
            frames[next[0]] = f.frames.allocate();
            return frames[next[0]++];
        });
        for (long gpa : new long[] {root, frames[0], frames[1], frames[2], page}) {
            IommuMap.map(parent, gpa, gpa, 4096, IOMMU_READ | IOMMU_WRITE);
        }
        assertThat(Arrays.stream(frames).allMatch(x -> x != 0)).isTrue();
        return root;
    }
}
