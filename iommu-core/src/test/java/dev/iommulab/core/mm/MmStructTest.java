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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The minimal mm: VMAs, handle_mm_fault() on anonymous memory, mmget_not_zero()/mmput(). */
class MmStructTest {

    private static final long VA = 0x4000_0000L;
    private static final int READ = FaultFlags.FAULT_FLAG_REMOTE | FaultFlags.FAULT_FLAG_USER;
    private static final int WRITE = READ | FaultFlags.FAULT_FLAG_WRITE;

    private final PhysicalMemory memory = new PhysicalMemory(16L << 20);
    private final FailureInjector failures = new FailureInjector();
    private final FrameAllocator frames = new FrameAllocator(memory, 1L << 20, failures);
    private final X86PageTable tables = new X86PageTable(memory, 4);
    private long zeroPage;
    private MmStruct mm;
    private Vma rw;

    @BeforeEach
    void setUp() {
        zeroPage = frames.allocate();
        mm = new MmStruct("proc", frames, zeroPage);
        rw = mm.mmap(VA, 0x4000, Vma.flagsOf("rw"));
    }

    private WalkResult walk(long va) {
        return tables.walk(mm.pgd(), va);
    }

    private long pte(long va) {
        return memory.readLong(tables.leafEntryAddress(mm.pgd(), va));
    }

    /**
     * A read fault on anonymous memory maps the shared zero page read-only (do_anonymous_page() without
     * FAULT_FLAG_WRITE). handle_mm_fault(); reference §2.5.
     */
    @Test
    void handleMmFault_readFault_mapsSharedZeroPageReadOnly() {
        int ret = mm.handleMmFault(rw, VA + 0x10, READ);

        assertThat(ret).isZero();
        assertThat(mm.handledFaults()).isEqualTo(1);
        assertThat(walk(VA)).isInstanceOfSatisfying(WalkResult.Leaf.class, leaf -> {
            assertThat(leaf.pa()).isEqualTo(zeroPage);
            assertThat(leaf.writable()).isFalse();
            assertThat(leaf.user()).isTrue();
            assertThat(leaf.executable()).isFalse();
        });
        assertThat(pte(VA) & X86Pte.RW).isZero();
    }

    /**
     * A write fault after the read fault breaks CoW from the zero page: a new private frame, PTE RW|D.
     * handle_mm_fault() (do_wp_page()); reference §2.5.
     */
    @Test
    void handleMmFault_writeAfterRead_allocatesPrivateWritablePage() {
        mm.handleMmFault(rw, VA, READ);

        int ret = mm.handleMmFault(rw, VA + 0x8, WRITE);

        assertThat(ret).isZero();
        assertThat(mm.handledFaults()).isEqualTo(2);
        long pte = pte(VA);
        assertThat(X86Pte.address(pte)).isNotEqualTo(zeroPage);
        assertThat(pte & (X86Pte.P | X86Pte.RW | X86Pte.D)).isEqualTo(X86Pte.P | X86Pte.RW | X86Pte.D);
        assertThat(walk(VA)).isInstanceOfSatisfying(WalkResult.Leaf.class,
                leaf -> assertThat(leaf.writable()).isTrue());
    }

    /**
     * A write fault on a page that is already writable keeps the same frame (nothing to do).
     * handle_mm_fault(); reference §2.5.
     */
    @Test
    void handleMmFault_writeOnWritablePage_keepsTheFrame() {
        mm.handleMmFault(rw, VA, WRITE);
        long frame = X86Pte.address(pte(VA));

        assertThat(mm.handleMmFault(rw, VA, WRITE)).isZero();

        assertThat(X86Pte.address(pte(VA))).isEqualTo(frame);
    }

    /**
     * An address outside the VMA handed in is VM_FAULT_SIGSEGV; the call still counts and maps nothing.
     * handle_mm_fault(); reference §2.5.
     */
    @Test
    void handleMmFault_addressOutsideVma_returnsSigsegv() {
        int ret = mm.handleMmFault(rw, VA + 0x4000, READ);

        assertThat(ret).isEqualTo(VmFault.VM_FAULT_SIGSEGV);
        assertThat(ret & VmFault.VM_FAULT_ERROR).isNotZero();
        assertThat(mm.handledFaults()).isEqualTo(1);
        assertThat(walk(VA + 0x4000)).isInstanceOf(WalkResult.Fault.class);
    }

    /**
     * The page allocator fails (injected at site "frame"): VM_FAULT_OOM and the page stays unmapped.
     * handle_mm_fault(); reference §8 item 4.
     */
    @Test
    void handleMmFault_frameAllocationFails_returnsOomAndMapsNothing() {
        mm.handleMmFault(rw, VA + 0x1000, READ);
        failures.failNext(FrameAllocator.SITE, 1);

        int ret = mm.handleMmFault(rw, VA, WRITE);

        assertThat(ret).isEqualTo(VmFault.VM_FAULT_OOM);
        assertThat(walk(VA)).isInstanceOf(WalkResult.Fault.class);
        assertThat(mm.handleMmFault(rw, VA, WRITE)).isZero();
    }

    /**
     * A page of a VM_EXEC VMA is mapped executable (XD clear). handle_mm_fault(); reference §2.5.
     */
    @Test
    void handleMmFault_execVma_mapsExecutablePage() {
        Vma rx = mm.mmap(0x5000_0000L, 0x1000, Vma.flagsOf("rx"));

        mm.handleMmFault(rx, 0x5000_0000L, READ | FaultFlags.FAULT_FLAG_INSTRUCTION);

        assertThat(walk(0x5000_0000L)).isInstanceOfSatisfying(WalkResult.Leaf.class,
                leaf -> assertThat(leaf.executable()).isTrue());
    }

    /**
     * vma_lookup() finds the VMA containing an address, [start, end), and null elsewhere. Reference §2.5.
     */
    @Test
    void vmaLookup_boundaries_containsStartButNotEnd() {
        assertThat(mm.vmaLookup(VA)).isEqualTo(rw);
        assertThat(mm.vmaLookup(VA + 0x3fff)).isEqualTo(rw);
        assertThat(mm.vmaLookup(VA + 0x4000)).isNull();
        assertThat(mm.vmaLookup(VA - 1)).isNull();
    }

    /**
     * mmap(MAP_FIXED_NOREPLACE) of an overlapping range fails with -EEXIST (do_mmap()), an unaligned address with
     * -EINVAL, and neither adds anything. Reference DESIGN §6.
     */
    @Test
    void mmap_overlappingRange_throwsEexistAndKeepsVmas() {
        KernelException e = catchThrowableOfType(KernelException.class,
                () -> mm.mmap(VA + 0x3000, 0x2000, Vma.flagsOf("r")));
        KernelException unaligned = catchThrowableOfType(KernelException.class,
                () -> mm.mmap(0x7000_0010L, 0x1000, Vma.flagsOf("r")));

        assertThat(e.errno()).isEqualTo(Errno.EEXIST);
        assertThat(e.argument()).isEqualTo("start");
        assertThat(unaligned.errno()).isEqualTo(Errno.EINVAL);
        assertThat(mm.vmas()).containsExactly(rw);
    }

    /**
     * mmget_not_zero() takes a user while the process lives; after mmput() of the last user it fails.
     * Reference §8 item 5.
     */
    @Test
    void mmgetNotZero_afterLastMmput_fails() {
        assertThat(mm.mmgetNotZero()).isTrue();
        assertThat(mm.users()).isEqualTo(2);
        mm.mmput();
        mm.mmput();

        assertThat(mm.users()).isZero();
        assertThat(mm.mmgetNotZero()).isFalse();
        assertThat(mm.users()).isZero();
        assertThat(catchThrowableOfType(IllegalStateException.class, mm::mmput)).isNotNull();
    }

    /**
     * Memory written through a private page reads back through the mm's page table (copy_from_user);
     * unmapped pages read as zero. Reference §2.5.
     */
    @Test
    void read_afterWriteFault_seesFrameContents() {
        mm.handleMmFault(rw, VA, WRITE);
        memory.write(X86Pte.address(pte(VA)) + 0x10, new byte[] {1, 2, 3});

        assertThat(mm.read(VA + 0x10, 3)).containsExactly(1, 2, 3);
        assertThat(mm.read(VA + 0x2000, 2)).containsExactly(0, 0);
    }

    /**
     * The last mmput() runs exit_mmap(): mmu_notifier_release() calls each registered notifier's release once
     * and unhooks it; an unregistered one hears nothing; the VMAs are gone.
     */
    @Test
    void mmput_lastUser_releasesRegisteredNotifiersOnce() {
        List<String> heard = new ArrayList<>();
        MmuNotifier first = m -> heard.add("first:" + m.name());
        MmuNotifier gone = m -> heard.add("gone");
        mm.mmuNotifierRegister(first);
        mm.mmuNotifierRegister(gone);
        mm.mmuNotifierUnregister(gone);

        assertThat(mm.mmgetNotZero()).isTrue();
        mm.mmput();
        assertThat(heard).isEmpty();
        mm.mmput();

        assertThat(heard).containsExactly("first:" + mm.name());
        assertThat(mm.mmuNotifiers()).isEmpty();
        assertThat(mm.vmas()).isEmpty();
    }
}
