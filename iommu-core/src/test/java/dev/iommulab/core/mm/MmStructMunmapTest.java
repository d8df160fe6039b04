package dev.iommulab.core.mm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.WalkResult;
import dev.iommulab.hw.pgtable.X86PageTable;
import dev.iommulab.hw.pgtable.X86Pte;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * munmap() and mprotect() on an x86-64 mm: VMAs split at the boundaries, leaves cleared or downgraded in the
 * page-table bytes, the secondary-TLB invalidation of the gathered range (flush_tlb_mm_range() →
 * mmu_notifier_arch_invalidate_secondary_tlbs()) before any page is freed (tlb_finish_mmu()), and the errors of
 * __do_munmap() and do_mprotect_pkey().
 */
class MmStructMunmapTest {

    private static final long VA = 0x4000_0000L;
    private static final int READ = FaultFlags.FAULT_FLAG_REMOTE | FaultFlags.FAULT_FLAG_USER;
    private static final int WRITE = READ | FaultFlags.FAULT_FLAG_WRITE;

    /** What a notifier saw at invalidate time: the range, the leaf of each page, and the frames still allocated. */
    record Seen(long start, long end, List<CpuPageTable.Pte> ptes, long allocatedFrames) {
    }

    private final PhysicalMemory memory = new PhysicalMemory(16L << 20);
    private final FrameAllocator frames = new FrameAllocator(memory, 1L << 20, new FailureInjector());
    private final X86PageTable tables = new X86PageTable(memory, 4);
    private final CpuPageTable cpu = CpuPageTable.x86(memory);
    private final long zeroPage = frames.allocate();
    private final MmStruct mm = new MmStruct("proc", frames, zeroPage);
    private final Vma rw = mm.mmap(VA, 0x4000, Vma.flagsOf("rw"));
    private final List<Seen> seen = new ArrayList<>();

    private final MmuNotifier recorder = new MmuNotifier() {
        @Override
        public void release(MmStruct m) {
        }

        @Override
        public void invalidateSecondaryTlbs(MmStruct m, long start, long end) {
            List<CpuPageTable.Pte> ptes = new ArrayList<>();
            for (long va = VA; va < VA + 0x4000; va += 0x1000) {
                ptes.add(cpu.lookup(m.pgd(), va));
            }
            seen.add(new Seen(start, end, ptes, frames.allocatedFrames()));
        }
    };

    private long pte(long va) {
        return memory.readLong(tables.leafEntryAddress(mm.pgd(), va));
    }

    private long frameOf(long va) {
        return ((WalkResult.Leaf) tables.walk(mm.pgd(), va)).pa();
    }

    /**
     * munmap() of the middle page of a written 4-page VMA (__do_munmap(), __split_vma(), zap_pte_range()): the VMA is
     * split into [0, 1) and [2, 4) pages, the leaf of page 1 reads 0 in memory, its neighbours keep theirs, and its
     * private frame goes back to the allocator (the next allocation returns it).
     */
    @Test
    void munmap_middlePage_splitsVmaClearsLeafAndFreesFrame() {
        for (long va = VA; va < VA + 0x4000; va += 0x1000) {
            mm.handleMmFault(rw, va, WRITE);
        }
        long victim = frameOf(VA + 0x1000);
        long before = frames.allocatedFrames();

        mm.munmap(VA + 0x1000, 0x1000);

        assertThat(mm.vmas()).containsExactly(new Vma(VA, VA + 0x1000, rw.flags()),
                new Vma(VA + 0x2000, VA + 0x4000, rw.flags()));
        assertThat(pte(VA + 0x1000)).isZero();
        assertThat(pte(VA) & X86Pte.P).isOne();
        assertThat(pte(VA + 0x2000) & X86Pte.P).isOne();
        assertThat(frames.allocatedFrames()).isEqualTo(before - 1);
        assertThat(frames.allocate()).isEqualTo(victim);
    }

    /**
     * The order of unmap_region() → tlb_finish_mmu(): when the notifier's invalidate runs, every leaf of the range is
     * already clear in memory and no frame has been freed yet; it hears the gathered range exactly once, and the
     * frames are freed after it returned. A read-faulted page (the zero page) is never freed.
     */
    @Test
    void munmap_notifierRegistered_invalidatesAfterZapAndBeforeFree() {
        mm.handleMmFault(rw, VA + 0x1000, WRITE);
        mm.handleMmFault(rw, VA + 0x2000, WRITE);
        mm.handleMmFault(rw, VA + 0x3000, READ);
        mm.mmuNotifierRegister(recorder);
        long before = frames.allocatedFrames();

        mm.munmap(VA, 0x4000);

        assertThat(seen).hasSize(1);
        Seen s = seen.get(0);
        assertThat(s.start()).isEqualTo(VA + 0x1000);
        assertThat(s.end()).isEqualTo(VA + 0x4000);
        assertThat(s.ptes()).extracting(CpuPageTable.Pte::present).containsOnly(false);
        assertThat(s.allocatedFrames()).as("nothing freed yet").isEqualTo(before);
        assertThat(frames.allocatedFrames()).as("two private frames freed after").isEqualTo(before - 2);
        assertThat(mm.vmas()).isEmpty();
        assertThat(memory.readLong(zeroPage)).isZero();
    }

    /** A range without VMAs is a successful no-op (__do_munmap() finds no vma); no invalidation is sent. */
    @Test
    void munmap_rangeWithoutVma_succeedsAndChangesNothing() {
        mm.handleMmFault(rw, VA, WRITE);
        mm.mmuNotifierRegister(recorder);

        mm.munmap(0x7000_0000L, 0x10000);

        assertThat(mm.vmas()).containsExactly(rw);
        assertThat(pte(VA) & X86Pte.P).isOne();
        assertThat(seen).isEmpty();
    }

    /** __do_munmap(): an unaligned start or a length of 0 is -EINVAL naming the argument; nothing changes. */
    @Test
    void munmap_unalignedStartOrZeroLength_throwsEinvalAndChangesNothing() {
        mm.handleMmFault(rw, VA, WRITE);

        KernelException unaligned = catchThrowableOfType(KernelException.class, () -> mm.munmap(VA + 0x10, 0x1000));
        KernelException empty = catchThrowableOfType(KernelException.class, () -> mm.munmap(VA, 0));

        assertThat(unaligned.errno()).isEqualTo(Errno.EINVAL);
        assertThat(unaligned.argument()).isEqualTo("start");
        assertThat(empty.errno()).isEqualTo(Errno.EINVAL);
        assertThat(empty.argument()).isEqualTo("length");
        assertThat(mm.vmas()).containsExactly(rw);
        assertThat(pte(VA) & X86Pte.P).isOne();
    }

    /**
     * mprotect(PROT_READ) on a written page (change_pte_range()): the PTE in memory loses RW and stays present on the
     * same frame; the VMA is split and the piece takes VM_READ only; the notifier hears the page, whose leaf is
     * already read-only at that time.
     */
    @Test
    void mprotect_removeWrite_pteReadOnlyInMemoryAndInvalidated() {
        mm.handleMmFault(rw, VA + 0x1000, WRITE);
        long frame = frameOf(VA + 0x1000);
        mm.mmuNotifierRegister(recorder);

        mm.mprotect(VA + 0x1000, 0x1000, Vma.VM_READ);

        long pte = pte(VA + 0x1000);
        assertThat(pte & X86Pte.P).isOne();
        assertThat(pte & X86Pte.RW).isZero();
        assertThat(X86Pte.address(pte)).isEqualTo(frame);
        assertThat(mm.vmaLookup(VA + 0x1000)).isEqualTo(new Vma(VA + 0x1000, VA + 0x2000, Vma.VM_READ));
        assertThat(mm.vmaLookup(VA)).isEqualTo(new Vma(VA, VA + 0x1000, rw.flags()));
        assertThat(seen).extracting(Seen::start, Seen::end).containsExactly(
                org.assertj.core.groups.Tuple.tuple(VA + 0x1000, VA + 0x2000));
        assertThat(seen.get(0).ptes().get(1)).isEqualTo(new CpuPageTable.Pte(true, false, frame));
    }

    /**
     * mprotect(PROT_NONE) then back to PROT_READ|PROT_WRITE: the leaf is not present to the walker but keeps its
     * frame (x86 _PAGE_PROTNONE); the upgrade makes it present read-only without an invalidation, and the next write
     * fault makes it writable on the same frame, whose bytes survived.
     */
    @Test
    void mprotect_noneThenReadWrite_frameKeptAndWriteFaultUpgrades() {
        mm.handleMmFault(rw, VA, WRITE);
        long frame = frameOf(VA);
        memory.write(frame, new byte[] {7});
        mm.mmuNotifierRegister(recorder);

        mm.mprotect(VA, 0x4000, 0);
        WalkResult hidden = tables.walk(mm.pgd(), VA);
        mm.mprotect(VA, 0x4000, Vma.flagsOf("rw"));
        int invalidationsAfterUpgrade = seen.size();
        mm.handleMmFault(mm.vmaLookup(VA), VA, WRITE);

        assertThat(hidden).isNotInstanceOf(WalkResult.Leaf.class);
        assertThat(invalidationsAfterUpgrade).as("only the downgrade was flushed").isEqualTo(1);
        assertThat(frameOf(VA)).isEqualTo(frame);
        assertThat(pte(VA) & X86Pte.RW).isNotZero();
        assertThat(mm.read(VA, 1)).containsExactly(7);
    }

    /**
     * do_mprotect_pkey(): a range with a hole is -ENOMEM, an unaligned start -EINVAL, each naming the argument; the
     * VMAs and PTEs are unchanged (the lab does not apply the part below the hole); a length of 0 succeeds.
     */
    @Test
    void mprotect_holeOrUnaligned_throwsAndChangesNothing() {
        mm.handleMmFault(rw, VA, WRITE);

        KernelException hole = catchThrowableOfType(KernelException.class,
                () -> mm.mprotect(VA, 0x5000, Vma.VM_READ));
        KernelException unaligned = catchThrowableOfType(KernelException.class,
                () -> mm.mprotect(VA + 1, 0x1000, Vma.VM_READ));
        mm.mprotect(VA, 0, Vma.VM_READ);

        assertThat(hole.errno()).isEqualTo(Errno.ENOMEM);
        assertThat(hole.argument()).isEqualTo("start");
        assertThat(unaligned.errno()).isEqualTo(Errno.EINVAL);
        assertThat(unaligned.argument()).isEqualTo("start");
        assertThat(mm.vmas()).containsExactly(rw);
        assertThat(pte(VA) & X86Pte.RW).isNotZero();
    }

    /**
     * A VMA backed by nothing answers every fault with VM_FAULT_SIGBUS (filemap_fault() past i_size) and maps
     * nothing.
     */
    @Test
    void handleMmFault_vmaBackedByNothing_returnsSigbus() {
        Vma none = mm.mmap(0x5000_0000L, 0x1000, Vma.flagsOf("rw"), Vma.Backing.NONE);

        assertThat(mm.handleMmFault(none, 0x5000_0000L, READ)).isEqualTo(VmFault.VM_FAULT_SIGBUS);
        assertThat(tables.walk(mm.pgd(), 0x5000_0000L)).isNotInstanceOf(WalkResult.Leaf.class);
    }

    /**
     * mm_count: the users hold one reference together; mmgrab() keeps the mm after the last mmput(), and only the
     * last mmdrop() runs __mmdrop()'s hooks, once.
     */
    @Test
    void mmdrop_grabbedMm_hooksRunOnlyAtLastDrop() {
        List<String> ran = new ArrayList<>();
        mm.registerDropHook(() -> ran.add("mm_pasid_drop"));
        mm.mmgrab();

        mm.mmput();
        List<String> afterExit = List.copyOf(ran);
        int countAfterExit = mm.mmCount();
        mm.mmdrop();

        assertThat(afterExit).isEmpty();
        assertThat(countAfterExit).isEqualTo(1);
        assertThat(ran).containsExactly("mm_pasid_drop");
        assertThat(mm.mmCount()).isZero();
    }

    /**
     * wp_page_copy() for a write to a page that maps the zero page: the zero-page leaf is cleared and the secondary
     * TLBs flushed for that page (ptep_clear_flush()) before the private copy is installed, so a device cannot keep
     * reading the zero page through a cached translation; a write to an already private page flushes nothing.
     */
    @Test
    void handleMmFault_writeAfterZeroPageRead_flushesSecondaryTlbsBeforeCopy() {
        mm.handleMmFault(rw, VA, READ);
        mm.handleMmFault(rw, VA + 0x1000, WRITE);
        mm.mmuNotifierRegister(recorder);

        mm.handleMmFault(rw, VA, WRITE);
        mm.handleMmFault(rw, VA + 0x1000, WRITE);

        assertThat(seen).singleElement().satisfies(s -> {
            assertThat(s.start()).isEqualTo(VA);
            assertThat(s.end()).isEqualTo(VA + 0x1000);
            assertThat(s.ptes().get(0).present()).as("zero-page leaf cleared at flush time").isFalse();
        });
        assertThat(frameOf(VA)).isNotEqualTo(zeroPage);
        assertThat(pte(VA) & X86Pte.RW).isNotZero();
    }

    /**
     * exit_mmap(): the notifiers' release comes first, with every leaf still mapped; then the leaves are cleared and
     * the process's private frames freed (the zero page stays), and the VMAs are gone.
     */
    @Test
    void mmput_lastUser_releaseSeesMappingsThenFramesFreed() {
        mm.handleMmFault(rw, VA, WRITE);
        mm.handleMmFault(rw, VA + 0x1000, READ);
        long before = frames.allocatedFrames();
        List<Boolean> mappedAtRelease = new ArrayList<>();
        mm.mmuNotifierRegister(new MmuNotifier() {
            @Override
            public void release(MmStruct m) {
                mappedAtRelease.add(cpu.lookup(m.pgd(), VA).present());
            }

            @Override
            public void invalidateSecondaryTlbs(MmStruct m, long start, long end) {
            }
        });

        mm.mmput();

        assertThat(mappedAtRelease).containsExactly(true);
        assertThat(cpu.lookup(mm.pgd(), VA).present()).isFalse();
        assertThat(frames.allocatedFrames()).as("the private page went back").isEqualTo(before - 1);
        assertThat(mm.vmas()).isEmpty();
    }
}
