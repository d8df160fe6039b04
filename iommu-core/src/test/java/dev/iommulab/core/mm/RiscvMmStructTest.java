package dev.iommulab.core.mm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.RiscvPageTable;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.pgtable.RiscvPte;
import dev.iommulab.hw.pgtable.RiscvWalkRequest;
import dev.iommulab.hw.pgtable.RiscvWalkResult;
import org.junit.jupiter.api.Test;

/**
 * A RISC-V process keeps its page tables in Sv48 format, so a RISC-V IOMMU doing SVA walks exactly what
 * handle_mm_fault() installed (arch/riscv/mm; reference/iommu-hardware.md §2.4.1).
 */
class RiscvMmStructTest {

    private static final long VA = 0x7f00_0000_0000L;

    private final PhysicalMemory memory = new PhysicalMemory(64L << 20);
    private final FrameAllocator frames = new FrameAllocator(memory, 1L << 20, new FailureInjector());
    private final MmStruct mm = new MmStruct("app", frames, frames.allocate(), CpuPageTable.riscvSv48(memory));
    private final Vma vma = mm.mmap(VA, 0x10000, Vma.VM_READ | Vma.VM_WRITE);

    @Test
    void handleMmFault_writeFault_installsSv48UserLeafWithReadWriteAccessedDirty() {
        assertThat(mm.handleMmFault(vma, VA + 0x1234, FaultFlags.FAULT_FLAG_WRITE)).isZero();

        RiscvWalkResult walk = new RiscvPageTable(memory, RiscvPagingMode.SV48).walk(mm.pgd(), VA + 0x1234,
                RiscvWalkRequest.user(Access.WRITE));
        assertThat(walk).isInstanceOfSatisfying(RiscvWalkResult.Leaf.class, leaf -> {
            assertThat(leaf.readable()).isTrue();
            assertThat(leaf.writable()).isTrue();
            assertThat(leaf.user()).isTrue();
            assertThat(leaf.executable()).isFalse();
            assertThat(leaf.dirty()).isTrue();
            assertThat(leaf.level()).isZero();
        });
    }

    @Test
    void handleMmFault_readThenWrite_zeroPageThenPrivateCopy() {
        long zeroPageWalk;
        mm.handleMmFault(vma, VA, 0);
        RiscvPageTable table = new RiscvPageTable(memory, RiscvPagingMode.SV48);
        zeroPageWalk = ((RiscvWalkResult.Leaf) table.walk(mm.pgd(), VA, RiscvWalkRequest.user(Access.READ))).pa();
        assertThat(table.walk(mm.pgd(), VA, RiscvWalkRequest.user(Access.WRITE)))
                .isInstanceOf(RiscvWalkResult.Fault.class);

        mm.handleMmFault(vma, VA, FaultFlags.FAULT_FLAG_WRITE);

        RiscvWalkResult after = table.walk(mm.pgd(), VA, RiscvWalkRequest.user(Access.WRITE));
        assertThat(after).isInstanceOfSatisfying(RiscvWalkResult.Leaf.class,
                leaf -> assertThat(leaf.pa()).isNotEqualTo(zeroPageWalk));
        memory.write(((RiscvWalkResult.Leaf) after).pa(), new byte[] {42});
        assertThat(mm.read(VA, 1)).containsExactly(42);
    }

    /**
     * The Sv48 leaf bytes of munmap() and mprotect(): change_pte_range() without write clears W (V and R stay),
     * PROT_NONE clears V and sets G (_PAGE_PROT_NONE) with the frame kept, zap_pte_range() leaves 0.
     */
    @Test
    void munmapAndMprotect_sv48Leaf_bytesFollowTheProtection() {
        mm.handleMmFault(vma, VA, FaultFlags.FAULT_FLAG_WRITE);
        long at = new RiscvPageTable(memory, RiscvPagingMode.SV48).entryAddress(mm.pgd(), VA, 0);
        long frame = RiscvPte.address(memory.readLong(at));

        mm.mprotect(VA, 0x1000, Vma.VM_READ);
        long readOnly = memory.readLong(at);
        mm.mprotect(VA, 0x1000, 0);
        long protNone = memory.readLong(at);
        mm.munmap(VA, 0x1000);

        assertThat(readOnly & (RiscvPte.V | RiscvPte.R | RiscvPte.W)).isEqualTo(RiscvPte.V | RiscvPte.R);
        assertThat(protNone & (RiscvPte.V | RiscvPte.G)).isEqualTo(RiscvPte.G);
        assertThat(RiscvPte.address(protNone)).isEqualTo(frame);
        assertThat(memory.readLong(at)).isZero();
    }

    /** LAM is x86-64 only: arch_prctl(ARCH_ENABLE_TAGGED_ADDR) has no LAM to turn on here, and the tables stay DMA-compatible. */
    @Test
    void enableLam_riscvProcess_einvalAndStillDmaCompatible() {
        KernelException e = catchThrowableOfType(KernelException.class, () -> mm.enableLam(false));

        assertThat(e.errno()).isEqualTo(Errno.EINVAL);
        assertThat(e.getMessage()).contains("no LAM");
        assertThat(mm.pgtableDmaCompat()).isTrue();
    }
}
