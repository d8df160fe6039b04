package dev.iommulab.drivers.intel;

import static dev.iommulab.drivers.intel.IntelDomainFixture.domainId;
import static dev.iommulab.drivers.intel.IntelIommuFixture.PASID;
import static dev.iommulab.drivers.intel.IntelIommuFixture.RID;
import static dev.iommulab.drivers.intel.IntelIommuFixture.VA;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.mm.FaultFlags;
import dev.iommulab.core.mm.Vma;
import dev.iommulab.drivers.MmFaultHandler;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.RecordingTraceSink;
import dev.iommulab.hw.sim.TraceEvent;
import dev.iommulab.hw.vtd.QiDescriptor;
import dev.iommulab.hw.vtd.VtdEntries;
import dev.iommulab.hw.vtd.VtdRegs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The SVA domain's mmu notifier on VT-d: munmap() and mprotect() of the bound process end in
 * intel_arch_invalidate_secondary_tlbs() (svm.c) → cache_tag_flush_range() / cache_tag_flush_all() (cache.c): a
 * PASID-based IOTLB invalidation of the domain's DID and the PASID, and for the ATS accelerator a device-TLB
 * invalidation with the PASID, completed before munmap() frees the page — so the device never uses a stale
 * translation. Faults are resolved against the mm as iommu_sva_handle_iopf() does ({@link MmFaultHandler}).
 *
 * <p>What every driver does here is asserted once for all drivers by
 * {@link dev.iommulab.fixtures.drivers.IommuOpsContract} ({@link IntelIommuOpsContractTest}); this class keeps the
 * VT-d specifics: exact descriptors and commands, vendor fault codes, log lines, timing.
 */
class IntelSvaNotifierTest {

    private final IntelIommuFixture f = new IntelIommuFixture();
    private final Vma vma;
    private final long frame;

    IntelSvaNotifierTest() {
        f.domain.setIopfHandler(new MmFaultHandler(f.iopf)::handle);
        f.attach();
        vma = f.mm.mmap(VA, 0x2000, Vma.flagsOf("rw"));
        f.mm.handleMmFault(vma, VA, FaultFlags.FAULT_FLAG_WRITE);
        frame = pa(VA);
        byte[] bytes = new byte[4096];
        Arrays.fill(bytes, (byte) 0x5a);
        f.memory.write(frame, bytes);
    }

    private long pa(long va) {
        return new dev.iommulab.hw.pgtable.X86PageTable(f.memory, 4).walk(f.mm.pgd(), va)
                instanceof dev.iommulab.hw.pgtable.WalkResult.Leaf leaf ? leaf.pa() : -1;
    }

    private DmaOutcome dma(long addr, Access access) {
        byte[] data = access == Access.WRITE ? new byte[64] : null;
        List<DmaOutcome> out = new ArrayList<>();
        f.endpoint.startDma(new DmaJob(addr, 64, access, PASID, false, data), out::add);
        f.loop.runUntilIdle();
        return out.get(0);
    }

    private long qiTail() {
        return f.unit.readReg(VtdRegs.IQT);
    }

    /** The descriptors queued from {@code mark} to the tail, waits left out (the ring has not wrapped). */
    private List<QiDescriptor> qiSince(long mark) {
        long base = f.unit.readReg(VtdRegs.IQA) & VtdEntries.ADDR_MASK;
        List<QiDescriptor> found = new ArrayList<>();
        for (long at = mark; at < qiTail(); at += VtdRegs.DESC_SIZE) {
            QiDescriptor d = new QiDescriptor(f.memory.readLong(base + at), f.memory.readLong(base + at + 8),
                    f.memory.readLong(base + at + 16), f.memory.readLong(base + at + 24));
            if (d.type() != QiDescriptor.TYPE_WAIT) {
                found.add(d);
            }
        }
        return found;
    }

    /**
     * The accelerator read the page through ATS (its ATC and the unit's IOTLB hold the translation). munmap() of the
     * page queues exactly a page-selective PASID-IOTLB invalidation (DID, PASID, AM 0) and a PASID device-TLB
     * invalidation of one page, and returns with the function's ATC empty; the next DMA at the address misses, its
     * translation finds no leaf, the page request finds no VMA and is answered INVALID — the old frame, filled with
     * 0x5a, is never read again.
     */
    @Test
    void munmap_atsDeviceReadThePage_pasidIotlbAndDeviceTlbInvalidatedAndNextDmaInvalid() {
        DmaOutcome before = dma(VA, Access.READ);
        int atcBefore = f.endpoint.atcEntriesInUse();
        long mark = qiTail();
        RecordingTraceSink trace = new RecordingTraceSink();
        f.loop.trace().addSink(trace);

        f.mm.munmap(VA, 0x1000);
        int atcAfter = f.endpoint.atcEntriesInUse();
        DmaOutcome after = dma(VA, Access.READ);

        assertThat(before.status()).isEqualTo(DmaStatus.OK);
        assertThat(before.data()).containsOnly((byte) 0x5a);
        assertThat(atcBefore).isEqualTo(1);
        assertThat(qiSince(mark)).startsWith(QiDescriptor.pasidIotlbPages(domainId(f.domain), PASID, VA, 0),
                QiDescriptor.pasidDeviceTlb(RID, PASID, VA, 0));
        assertThat(atcAfter).as("ATC entry gone when munmap returned").isZero();
        assertThat(after.status()).isEqualTo(DmaStatus.INVALID);
        assertThat(after.data()).as("nothing read from the old frame").isNullOrEmpty();
        assertThat(f.answers).extracting(a -> a.response().code()).containsExactly(PageResponseCode.INVALID);
        assertThat(trace.steps()).extracting(TraceEvent.Step::symbol)
                .contains("intel_arch_invalidate_secondary_tlbs", "cache_tag_flush_range");
    }

    /**
     * mprotect(PROT_READ) of a page the device wrote: the PTE loses write, the notifier invalidates the PASID IOTLB and
     * device-TLB of the page, and a later device write misses the ATC, gets a read-only translation, asks for write
     * and is answered INVALID (the VMA no longer allows it), while a read of the page still succeeds.
     */
    @Test
    void mprotect_readWriteToRead_laterDeviceWriteInvalidAndReadStillWorks() {
        assertThat(dma(VA, Access.WRITE).status()).isEqualTo(DmaStatus.OK);
        long mark = qiTail();

        f.mm.mprotect(VA, 0x1000, Vma.VM_READ);
        List<QiDescriptor> sent = qiSince(mark);
        DmaOutcome write = dma(VA, Access.WRITE);
        DmaOutcome read = dma(VA, Access.READ);

        assertThat(sent).startsWith(QiDescriptor.pasidIotlbPages(domainId(f.domain), PASID, VA, 0),
                QiDescriptor.pasidDeviceTlb(RID, PASID, VA, 0));
        assertThat(write.status()).isEqualTo(DmaStatus.INVALID);
        assertThat(read.status()).isEqualTo(DmaStatus.OK);
        assertThat(pa(VA)).as("same frame, read-only").isEqualTo(frame);
    }

}
