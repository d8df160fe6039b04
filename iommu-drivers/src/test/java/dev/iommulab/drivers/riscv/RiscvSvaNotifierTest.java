package dev.iommulab.drivers.riscv;

import static dev.iommulab.drivers.riscv.RiscvIommuFixture.PASID;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.RID;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.VA;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.mm.FaultFlags;
import dev.iommulab.core.mm.Vma;
import dev.iommulab.drivers.MmFaultHandler;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.RiscvPageTable;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.pgtable.RiscvWalkRequest;
import dev.iommulab.hw.pgtable.RiscvWalkResult;
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvRegs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The lab's mm notifier of RISC-V SVA domains (RiscvSvaDomain; not in mainline, a documented option modelled on
 * intel_arch_invalidate_secondary_tlbs() and intel_mm_release() in intel/svm.c, and on the RISC-V invalidation
 * guidelines, reference/iommu-hardware.md §2.4.5): munmap() and mprotect() send IOTINVAL.VMA of the domain's PSCID and
 * ATS.INVAL with the PASID, fenced and waited for before the pages are freed; process exit takes the process
 * contexts out of use without a drain.
 */
class RiscvSvaNotifierTest {

    private final RiscvIommuFixture f = new RiscvIommuFixture();
    private final long frame;

    RiscvSvaNotifierTest() {
        f.domain.setIopfHandler(new MmFaultHandler(f.iopf)::handle);
        f.attach();
        Vma vma = f.mm.mmap(VA, 0x2000, Vma.flagsOf("rw"));
        f.mm.handleMmFault(vma, VA, FaultFlags.FAULT_FLAG_WRITE);
        frame = pa(VA);
        byte[] bytes = new byte[4096];
        Arrays.fill(bytes, (byte) 0x5a);
        f.memory.write(frame, bytes);
    }

    private long pa(long va) {
        return new RiscvPageTable(f.memory, RiscvPagingMode.SV48).walk(f.mm.pgd(), va,
                RiscvWalkRequest.user(Access.READ)) instanceof RiscvWalkResult.Leaf leaf ? leaf.pa() : -1;
    }

    private DmaOutcome dma(long addr, Access access) {
        byte[] data = access == Access.WRITE ? new byte[64] : null;
        List<DmaOutcome> out = new ArrayList<>();
        f.endpoint.startDma(new DmaJob(addr, 64, access, PASID, false, data), out::add);
        f.loop.runUntilIdle();
        return out.get(0);
    }

    private int pscid() {
        return RiscvIommuFixture.pscid(f.domain);
    }

    /**
     * The accelerator read the page through ATS; munmap() of the page sends IOTINVAL.VMA (PSCV, the PSCID, AV at the
     * page), ATS.INVAL to the RID with the PASID for the page, IOFENCE.C — executed (cqh = cqt) and the ATC entry gone
     * when munmap() returns; the next DMA finds no translation, its page request no VMA, and ends INVALID without
     * reading the old frame.
     */
    @Test
    void munmap_atsDeviceReadThePage_iotinvalAndAtsInvalFencedAndNextDmaInvalid() {
        DmaOutcome before = dma(VA, Access.READ);
        int atcBefore = f.endpoint.atcEntriesInUse();
        int sentBefore = f.commands().size();

        f.mm.munmap(VA, 0x1000);
        boolean fenced = f.hw.readReg(RiscvRegs.CQH) == f.hw.readReg(RiscvRegs.CQT);
        int atcAfter = f.endpoint.atcEntriesInUse();
        List<RiscvCommand> sent = List.copyOf(f.commands().subList(sentBefore, f.commands().size()));
        DmaOutcome after = dma(VA, Access.READ);

        assertThat(before.status()).isEqualTo(DmaStatus.OK);
        assertThat(before.data()).containsOnly((byte) 0x5a);
        assertThat(atcBefore).isEqualTo(1);
        assertThat(sent).containsExactly(RiscvCommand.iotinvalVma(false, 0, true, pscid(), true, VA),
                RiscvCommand.atsInval(RID, true, PASID, false, VA, 4096),
                RiscvCommand.iofenceC(false, false, true, true, 0, 0));
        assertThat(fenced).as("fence executed when munmap returned").isTrue();
        assertThat(atcAfter).isZero();
        assertThat(after.status()).isEqualTo(DmaStatus.INVALID);
        assertThat(after.data()).as("nothing read from the old frame").isNullOrEmpty();
        assertThat(f.answers).extracting(a -> a.response().code()).containsExactly(PageResponseCode.INVALID);
    }

    /**
     * mprotect(PROT_READ) of a page the device wrote: IOTINVAL.VMA + ATS.INVAL of the page; a later device write is
     * answered INVALID (the VMA no longer allows writing) while a read still succeeds on the same frame.
     */
    @Test
    void mprotect_readWriteToRead_laterDeviceWriteInvalidAndReadStillWorks() {
        assertThat(dma(VA, Access.WRITE).status()).isEqualTo(DmaStatus.OK);
        int sentBefore = f.commands().size();

        f.mm.mprotect(VA, 0x1000, Vma.VM_READ);
        List<RiscvCommand> sent = List.copyOf(f.commands().subList(sentBefore, f.commands().size()));
        DmaOutcome write = dma(VA, Access.WRITE);
        DmaOutcome read = dma(VA, Access.READ);

        assertThat(sent).startsWith(RiscvCommand.iotinvalVma(false, 0, true, pscid(), true, VA),
                RiscvCommand.atsInval(RID, true, PASID, false, VA, 4096));
        assertThat(write.status()).isEqualTo(DmaStatus.INVALID);
        assertThat(read.status()).isEqualTo(DmaStatus.OK);
        assertThat(pa(VA)).isEqualTo(frame);
    }

    /**
     * Process exit (exit_mmap() → the notifier's release): the process context is invalid in memory, flushed with
     * IODIR.INVAL_PDT, IOTINVAL.VMA and ATS.INVAL, no drain, IOPF still on. The ATS function's next translation request
     * gets Success with R = W = 0 and no fault record (PDT entry not valid, cause 266, is answered that way for ATS),
     * so it sends a page request, which still reaches software — the page-request queue does not look at process
     * contexts — and is answered INVALID because the mm has no users: the DMA ends {@code invalid}.
     */
    @Test
    void release_processExits_pcInvalidAndNextDmaAnsweredInvalidBySoftware() {
        dma(VA, Access.READ);

        f.mm.mmput();
        long ta = f.memory.readLong(f.pcAddress(PASID));
        List<RiscvCommand> dirInvals = f.commands(RiscvCommand.OPCODE_IODIR, RiscvCommand.FUNC3_INVAL_PDT);
        int atcAfterExit = f.endpoint.atcEntriesInUse();
        DmaOutcome dma = dma(VA, Access.READ);

        assertThat(ta).as("PC.ta").isZero();
        assertThat(dirInvals).endsWith(RiscvCommand.iodirInvalPdt(RID, PASID));
        assertThat(atcAfterExit).isZero();
        assertThat(dma.status()).isEqualTo(DmaStatus.INVALID);
        assertThat(f.hwFaults).isEmpty();
        assertThat(f.answers).extracting(a -> a.response().code()).containsExactly(PageResponseCode.INVALID);
        assertThat(f.endpoint.priState().enabled()).as("IOPF stays until the unbind").isTrue();
    }

    /** Freeing the domain puts its notifier: the mm no longer lists it, and a later munmap() sends no command. */
    @Test
    void domainFree_afterDetach_notifierUnregistered() {
        f.core.detachDevicePasid(f.domain, f.dev, PASID);
        f.loop.runUntilIdle();
        f.domain.ops().free(f.domain);
        int sentBefore = f.commands().size();

        f.mm.munmap(VA, 0x1000);

        assertThat(f.mm.mmuNotifiers()).isEmpty();
        assertThat(f.commands()).hasSize(sentBefore);
    }
}
