package dev.iommulab.core.mm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Long-term pinning of an x86-64 mm as iommufd's pfn_reader_user_pin() does it (pin_user_pages_fast() with
 * FOLL_LONGTERM, and FOLL_WRITE for a writable IOAS map), unpin_user_pages(), and pinned frames outliving munmap()
 * and exit_mmap() until their last unpin.
 */
class MmStructPinTest {

    private static final long VA = 0x4000_0000L;
    private static final long PAGE = 0x1000;
    private static final int READ = FaultFlags.FAULT_FLAG_REMOTE | FaultFlags.FAULT_FLAG_USER;
    private static final int WRITE = READ | FaultFlags.FAULT_FLAG_WRITE;

    private final PhysicalMemory memory = new PhysicalMemory(16L << 20);
    private final FailureInjector failures = new FailureInjector();
    private final FrameAllocator frames = new FrameAllocator(memory, 1L << 20, failures);
    private final long zeroPage = frames.allocate();
    private final MmStruct mm = new MmStruct("proc", frames, zeroPage);
    private final Vma rw = mm.mmap(VA, 4 * PAGE, Vma.flagsOf("rw"));
    private final List<long[]> invalidated = new ArrayList<>();

    private final MmuNotifier recorder = new MmuNotifier() {
        @Override
        public void release(MmStruct m) {
        }

        @Override
        public void invalidateSecondaryTlbs(MmStruct m, long start, long end) {
            invalidated.add(new long[] {start, end});
        }
    };

    private long[] framesOf(long start, int npages) {
        long[] out = new long[npages];
        for (int i = 0; i < npages; i++) {
            out[i] = mm.pteOf(start + i * PAGE).frame();
        }
        return out;
    }

    /**
     * __get_user_pages() faults in what is missing (faultin_page() → handle_mm_fault()) and pins the frame each leaf
     * maps: a write pin over one written and three untouched pages returns exactly the frames pteOf() then shows,
     * each writable, private and pinned once; three fault-ins happened.
     */
    @Test
    void pinUserPages_writePinOverPartlyFaultedRange_returnsFramesOfTheLeavesPinnedOnce() {
        mm.handleMmFault(rw, VA + PAGE, WRITE);
        long faultsBefore = mm.handledFaults();

        long[] pinned = mm.pinUserPages(VA, 4, true);

        assertThat(pinned).containsExactly(framesOf(VA, 4));
        assertThat(pinned).doesNotContain(zeroPage).doesNotHaveDuplicates();
        for (int i = 0; i < 4; i++) {
            assertThat(mm.pteOf(VA + i * PAGE).writable()).isTrue();
            assertThat(mm.pinCount(pinned[i])).isEqualTo(1);
        }
        assertThat(mm.handledFaults() - faultsBefore).isEqualTo(3);
    }

    /**
     * FOLL_WRITE on a page that maps the zero page (read-faulted before): the write fault breaks COW (wp_page_copy()),
     * so the pin gets a private writable frame, never the zero page; what the device writes there the process reads,
     * and the zero page stays zero.
     */
    @Test
    void pinUserPages_writePinOfZeroPageLeaf_returnsPrivateFrameSharedWithProcess() {
        mm.handleMmFault(rw, VA, READ);

        long frame = mm.pinUserPages(VA, 1, true)[0];
        memory.write(frame, new byte[] {0x5a, 0x5b});

        assertThat(frame).isNotEqualTo(zeroPage);
        assertThat(mm.pteOf(VA)).isEqualTo(new CpuPageTable.Pte(true, true, frame));
        assertThat(mm.read(VA, 2)).containsExactly(0x5a, 0x5b);
        assertThat(memory.read(zeroPage, 2)).containsExactly(0, 0);
    }

    /**
     * A read-only long-term pin of an untouched anonymous page: the read fault maps the zero page, then
     * gup_must_unshare() (FOLL_LONGTERM, not an anon page, COW mapping) makes __get_user_pages() unshare it — the
     * zero-page leaf is cleared and flushed through the notifiers, a private zeroed frame is mapped read-only and
     * pinned. A later write by the process reuses that frame, so process and device keep sharing it.
     */
    @Test
    void pinUserPages_readPinOfUntouchedPage_unsharesZeroPageIntoReadOnlyPrivateFrame() {
        mm.mmuNotifierRegister(recorder);

        long frame = mm.pinUserPages(VA, 1, false)[0];
        CpuPageTable.Pte afterPin = mm.pteOf(VA);
        mm.handleMmFault(rw, VA, WRITE);

        assertThat(frame).isNotEqualTo(zeroPage);
        assertThat(afterPin).isEqualTo(new CpuPageTable.Pte(true, false, frame));
        assertThat(invalidated).singleElement().satisfies(r -> assertThat(r).containsExactly(VA, VA + PAGE));
        assertThat(mm.pteOf(VA)).isEqualTo(new CpuPageTable.Pte(true, true, frame));
        assertThat(mm.pinCount(frame)).isEqualTo(1);
        assertThat(mm.pinCount(zeroPage)).isZero();
    }

    /**
     * A write pin after a read pin of the same page: the read-only private leaf takes a write fault that reuses the
     * frame (do_wp_page() on an exclusive anon page), so both pins name one frame, which holds two pins.
     */
    @Test
    void pinUserPages_writePinAfterReadPin_sameFrameTwoPins() {
        long read = mm.pinUserPages(VA, 1, false)[0];

        long write = mm.pinUserPages(VA, 1, true)[0];

        assertThat(write).isEqualTo(read);
        assertThat(mm.pinCount(read)).isEqualTo(2);
        assertThat(mm.pteOf(VA).writable()).isTrue();
    }

    /**
     * gup_vma_lookup() finds no VMA for the last page of the range: -EFAULT naming {@code start}; the range is checked
     * before anything is faulted in, so no page was faulted in, no frame allocated and nothing pinned.
     */
    @Test
    void pinUserPages_rangeRunsIntoHole_throwsEfaultAndNothingPinnedOrFaulted() {
        mm.handleMmFault(rw, VA + 2 * PAGE, WRITE);
        long written = mm.pteOf(VA + 2 * PAGE).frame();
        long allocated = frames.allocatedFrames();
        long faults = mm.handledFaults();

        KernelException e = catchThrowableOfType(KernelException.class, () -> mm.pinUserPages(VA + 2 * PAGE, 3, true));

        assertThat(e.errno()).isEqualTo(Errno.EFAULT);
        assertThat(e.argument()).isEqualTo("start");
        assertThat(mm.pinCount(written)).isZero();
        assertThat(mm.pteOf(VA + 3 * PAGE).present()).isFalse();
        assertThat(frames.allocatedFrames()).isEqualTo(allocated);
        assertThat(mm.handledFaults()).isEqualTo(faults);
    }

    /**
     * check_vma_flags() without FOLL_FORCE: a write pin of a read-only VMA and a read pin of a PROT_NONE VMA are
     * -EFAULT; a VMA backed by nothing would answer the fault-in VM_FAULT_SIGBUS, which faultin_page() makes -EFAULT.
     * None of them pins or maps anything; the read pin of the read-only VMA succeeds.
     */
    @Test
    void pinUserPages_accessTheVmaForbidsOrNoBacking_throwsEfaultAndPinsNothing() {
        long ro = 0x5000_0000L;
        long none = 0x5100_0000L;
        long sigbus = 0x5200_0000L;
        mm.mmap(ro, PAGE, Vma.VM_READ);
        mm.mmap(none, PAGE, 0);
        mm.mmap(sigbus, PAGE, Vma.flagsOf("rw"), Vma.Backing.NONE);

        List<KernelException> errors = List.of(
                catchThrowableOfType(KernelException.class, () -> mm.pinUserPages(ro, 1, true)),
                catchThrowableOfType(KernelException.class, () -> mm.pinUserPages(none, 1, false)),
                catchThrowableOfType(KernelException.class, () -> mm.pinUserPages(sigbus, 1, false)));
        boolean roMappedAfterWritePin = mm.pteOf(ro).present();
        long readPin = mm.pinUserPages(ro, 1, false)[0];

        assertThat(errors).extracting(KernelException::errno).containsOnly(Errno.EFAULT);
        assertThat(errors).extracting(KernelException::argument).containsOnly("start");
        assertThat(roMappedAfterWritePin).isFalse();
        assertThat(mm.pteOf(none).present()).isFalse();
        assertThat(mm.pteOf(sigbus).present()).isFalse();
        assertThat(mm.pinCount(readPin)).isEqualTo(1);
        assertThat(mm.pteOf(ro)).isEqualTo(new CpuPageTable.Pte(true, false, readPin));
    }

    /**
     * faultin_page(): VM_FAULT_OOM on the third page is -ENOMEM; the pins already taken on the first two pages are
     * dropped again (the caller's unpin_user_pages() in iommufd), so nothing stays pinned and no frame leaks.
     */
    @Test
    void pinUserPages_oomOnThirdPage_throwsEnomemAndUndoesEarlierPins() {
        mm.handleMmFault(rw, VA, WRITE);
        mm.handleMmFault(rw, VA + PAGE, WRITE);
        long[] first = framesOf(VA, 2);
        long allocated = frames.allocatedFrames();
        failures.failNext(FrameAllocator.SITE, 1);

        KernelException e = catchThrowableOfType(KernelException.class, () -> mm.pinUserPages(VA, 3, true));

        assertThat(e.errno()).isEqualTo(Errno.ENOMEM);
        assertThat(mm.pinCount(first[0])).isZero();
        assertThat(mm.pinCount(first[1])).isZero();
        assertThat(mm.pteOf(VA + 2 * PAGE).present()).isFalse();
        assertThat(frames.allocatedFrames()).isEqualTo(allocated);
    }

    /** npages of 0 or less is -EINVAL naming npages, an unaligned start -EINVAL naming start; nothing is faulted. */
    @Test
    void pinUserPages_badNpagesOrUnalignedStart_throwsEinval() {
        KernelException zero = catchThrowableOfType(KernelException.class, () -> mm.pinUserPages(VA, 0, true));
        KernelException negative = catchThrowableOfType(KernelException.class, () -> mm.pinUserPages(VA, -1, false));
        KernelException unaligned = catchThrowableOfType(KernelException.class,
                () -> mm.pinUserPages(VA + 0x10, 1, true));

        assertThat(List.of(zero, negative, unaligned)).extracting(KernelException::errno).containsOnly(Errno.EINVAL);
        assertThat(List.of(zero, negative, unaligned)).extracting(KernelException::argument)
                .containsExactly("npages", "npages", "start");
        assertThat(mm.handledFaults()).isZero();
    }

    /**
     * munmap() of a pinned page and an unpinned one (zap_pte_range(), then the mmu_gather frees after the flush): the
     * unpinned frame is freed at once; the pinned one, pinned twice, stays allocated with its bytes while the leaf is
     * gone; the first unpin keeps it, the last unpin_user_pages() frees it (the allocator hands it out next).
     */
    @Test
    void munmap_pinnedPage_frameKeptWithBytesAndFreedAtLastUnpin() {
        long frame = mm.pinUserPages(VA, 1, true)[0];
        mm.pinUserPages(VA, 1, true);
        mm.handleMmFault(rw, VA + PAGE, WRITE);
        memory.write(frame, new byte[] {1, 2, 3});
        long allocated = frames.allocatedFrames();

        mm.munmap(VA, 2 * PAGE);
        long afterMunmap = frames.allocatedFrames();
        mm.unpinUserPages(new long[] {frame});
        long afterFirstUnpin = frames.allocatedFrames();
        byte[] bytesBeforeLastUnpin = memory.read(frame, 3);
        mm.unpinUserPages(new long[] {frame});

        assertThat(mm.pteOf(VA).present()).isFalse();
        assertThat(afterMunmap).as("only the unpinned page freed").isEqualTo(allocated - 1);
        assertThat(afterFirstUnpin).isEqualTo(allocated - 1);
        assertThat(bytesBeforeLastUnpin).containsExactly(1, 2, 3);
        assertThat(frames.allocatedFrames()).as("freed at the last unpin").isEqualTo(allocated - 2);
        assertThat(mm.pinCount(frame)).isZero();
        assertThat(frames.allocate()).isEqualTo(frame);
    }

    /**
     * exit_mmap() (last mmput()) with a pinned page: the notifiers are released and every leaf cleared, the unpinned
     * private page freed, the pinned frame kept with its bytes — the device may still DMA to it — until
     * unpin_user_pages() frees it after the process is gone.
     */
    @Test
    void mmput_lastUserWithPinnedPage_frameKeptUntilUnpinFreesIt() {
        long frame = mm.pinUserPages(VA + PAGE, 1, true)[0];
        mm.handleMmFault(rw, VA, WRITE);
        memory.write(frame, new byte[] {9});
        long allocated = frames.allocatedFrames();

        mm.mmput();
        long afterExit = frames.allocatedFrames();
        byte[] bytesAfterExit = memory.read(frame, 1);
        mm.unpinUserPages(new long[] {frame});

        assertThat(mm.vmas()).isEmpty();
        assertThat(mm.pteOf(VA + PAGE).present()).isFalse();
        assertThat(afterExit).isEqualTo(allocated - 1);
        assertThat(bytesAfterExit).containsExactly(9);
        assertThat(frames.allocatedFrames()).isEqualTo(allocated - 2);
    }

    /**
     * mprotect(PROT_NONE) of a pinned page (change_pte_range()) keeps the frame and the pin; unpinning a frame the
     * process still maps leaves it the process's: allocated, mapped, its bytes readable through the mm.
     */
    @Test
    void unpinUserPages_frameStillMapped_staysWithProcess() {
        long frame = mm.pinUserPages(VA, 1, true)[0];
        memory.write(frame, new byte[] {4});
        long allocated = frames.allocatedFrames();

        mm.mprotect(VA, PAGE, 0);
        int pinsAfterMprotect = mm.pinCount(frame);
        mm.mprotect(VA, PAGE, Vma.flagsOf("rw"));
        mm.unpinUserPages(new long[] {frame});

        assertThat(pinsAfterMprotect).isEqualTo(1);
        assertThat(frames.allocatedFrames()).isEqualTo(allocated);
        assertThat(mm.pteOf(VA).frame()).isEqualTo(frame);
        assertThat(mm.read(VA, 1)).containsExactly(4);
        assertThat(mm.pinCount(frame)).isZero();
    }

    /**
     * Dropping a pin that is not held (a second unpin_user_pages(), a frame listed more often than pinned) is a kernel
     * bug: -EINVAL naming {@code frames}, and no pin of the call is dropped — not even of the frames listed before the
     * bad one.
     */
    @Test
    void unpinUserPages_pinNotHeld_throwsEinvalAndDropsNothing() {
        long[] pinned = mm.pinUserPages(VA, 2, true);
        mm.unpinUserPages(new long[] {pinned[1]});

        KernelException twice = catchThrowableOfType(KernelException.class,
                () -> mm.unpinUserPages(new long[] {pinned[0], pinned[1]}));
        KernelException duplicate = catchThrowableOfType(KernelException.class,
                () -> mm.unpinUserPages(new long[] {pinned[0], pinned[0]}));

        assertThat(List.of(twice, duplicate)).extracting(KernelException::errno).containsOnly(Errno.EINVAL);
        assertThat(List.of(twice, duplicate)).extracting(KernelException::argument).containsOnly("frames");
        assertThat(mm.pinCount(pinned[0])).isEqualTo(1);
        assertThat(mm.pinCount(pinned[1])).isZero();
    }

    /**
     * handle_mm_fault()'s sanitize_fault_flags(): FAULT_FLAG_UNSHARE together with FAULT_FLAG_WRITE is
     * VM_FAULT_SIGSEGV and maps nothing; an unshare of a page that is already private (do_wp_page() on an exclusive
     * anon page) changes nothing — same frame, still writable, no flush.
     */
    @Test
    void handleMmFault_unshareWithWriteOrOnPrivatePage_sigsegvOrNoChange() {
        mm.handleMmFault(rw, VA + PAGE, WRITE);
        CpuPageTable.Pte privatePage = mm.pteOf(VA + PAGE);
        mm.mmuNotifierRegister(recorder);

        int both = mm.handleMmFault(rw, VA, FaultFlags.FAULT_FLAG_UNSHARE | FaultFlags.FAULT_FLAG_WRITE);
        int onPrivate = mm.handleMmFault(rw, VA + PAGE, FaultFlags.FAULT_FLAG_UNSHARE);

        assertThat(both).isEqualTo(VmFault.VM_FAULT_SIGSEGV);
        assertThat(mm.pteOf(VA).present()).isFalse();
        assertThat(onPrivate).isZero();
        assertThat(mm.pteOf(VA + PAGE)).isEqualTo(privatePage);
        assertThat(invalidated).isEmpty();
    }

    /** gup_put_folio() skips the zero page: unpinning it is a no-op, it holds no pin and is never freed. */
    @Test
    void unpinUserPages_zeroPage_ignored() {
        long allocated = frames.allocatedFrames();

        mm.unpinUserPages(new long[] {zeroPage});

        assertThat(mm.pinCount(zeroPage)).isZero();
        assertThat(frames.allocatedFrames()).isEqualTo(allocated);
    }
}
