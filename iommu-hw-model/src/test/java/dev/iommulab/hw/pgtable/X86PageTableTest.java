package dev.iommulab.hw.pgtable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iommulab.hw.mem.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * The x86-64 paging format as VT-d first-stage translation and the CPU read it. Derives from
 * reference/iommu-hardware.md §2.1.1 ("First-level (stage-1) tables: x86-64 format, 4 or 5 levels,
 * 4K/2M/1G, bits P, R/W, U/S, A, D, XD; canonical-address check") and Intel SDM Vol. 3A §4.5 as cited
 * by {@link X86Pte}.
 */
class X86PageTableTest {

    private static final long MEMORY_SIZE = 16L << 20;
    private static final long VA = 0x0000_7f12_3456_7000L;
    private static final long PA = 0x0040_0000L;

    private final PhysicalMemory memory = new PhysicalMemory(MEMORY_SIZE);
    private final X86PageTable table = new X86PageTable(memory, 4);
    private long nextFrame = 0x10_0000;
    private final long root = allocate();

    private long allocate() {
        long frame = nextFrame;
        nextFrame += PhysicalMemory.PAGE_SIZE;
        return frame;
    }

    /** Address of the entry for {@code va} at {@code level}, following present entries from the root. */
    private long entryAddress(long va, int level) {
        long tableAddr = root;
        for (int l = 4; l > level; l--) {
            tableAddr = X86Pte.address(memory.readLong(tableAddr + 8L * X86Pte.index(va, l)));
        }
        return tableAddr + 8L * X86Pte.index(va, level);
    }

    private void setBits(long entryAddr, long set, long clear) {
        memory.writeLong(entryAddr, (memory.readLong(entryAddr) | set) & ~clear);
    }

    /** map4k installs a leaf the walk finds: the PA keeps the page offset; rights are the leaf's. */
    @Test
    void walk_afterMap4k_returnsLeafWithPaAndRights() {
        long pteAddr = table.map4k(root, VA, PA, X86Pte.RW | X86Pte.US, this::allocate);

        WalkResult result = table.walk(root, VA + 0xabc);

        assertThat(result).isInstanceOf(WalkResult.Leaf.class);
        WalkResult.Leaf leaf = (WalkResult.Leaf) result;
        assertThat(leaf.pa()).isEqualTo(PA + 0xabc);
        assertThat(leaf.pageSize()).isEqualTo(4096);
        assertThat(leaf.level()).isEqualTo(1);
        assertThat(leaf.pteAddr()).isEqualTo(pteAddr);
        assertThat(leaf.writable()).isTrue();
        assertThat(leaf.user()).isTrue();
        assertThat(leaf.executable()).isTrue();
        assertThat(leaf.accessed()).isFalse();
        assertThat(leaf.dirty()).isFalse();
        assertThat(memory.readLong(pteAddr)).isEqualTo(PA | X86Pte.P | X86Pte.RW | X86Pte.US);
    }

    /** map4k writes intermediate entries P|RW|US, as Linux does for user mappings (method contract). */
    @Test
    void map4k_missingTables_createsIntermediateEntriesUserWritable() {
        table.map4k(root, VA, PA, X86Pte.US, this::allocate);

        for (int level = 4; level >= 2; level--) {
            long entry = memory.readLong(entryAddress(VA, level));
            assertThat(entry & 0xfff).as("level %d flags", level).isEqualTo(X86Pte.P | X86Pte.RW | X86Pte.US);
        }
        assertThat(table.leafEntryAddress(root, VA)).isEqualTo(entryAddress(VA, 1));
    }

    /** A read-only, supervisor-only leaf gives those rights even under permissive tables. */
    @Test
    void walk_readOnlySupervisorLeaf_reportsNotWritableNotUser() {
        table.map4k(root, VA, PA, 0, this::allocate);

        WalkResult.Leaf leaf = (WalkResult.Leaf) table.walk(root, VA);

        assertThat(leaf.writable()).isFalse();
        assertThat(leaf.user()).isFalse();
    }

    /**
     * SDM §4.6 as summarised in WalkResult.Leaf: writable and user only if every level allows it,
     * executable unless some level sets XD.
     */
    @Test
    void walk_restrictiveIntermediateEntries_combinesRightsAcrossLevels() {
        table.map4k(root, VA, PA, X86Pte.RW | X86Pte.US, this::allocate);

        setBits(entryAddress(VA, 2), 0, X86Pte.RW);
        WalkResult.Leaf noWrite = (WalkResult.Leaf) table.walk(root, VA);
        assertThat(noWrite.writable()).isFalse();
        assertThat(noWrite.user()).isTrue();
        assertThat(noWrite.executable()).isTrue();

        setBits(entryAddress(VA, 3), 0, X86Pte.US);
        WalkResult.Leaf noUser = (WalkResult.Leaf) table.walk(root, VA);
        assertThat(noUser.user()).isFalse();

        setBits(entryAddress(VA, 4), X86Pte.XD, 0);
        WalkResult.Leaf noExec = (WalkResult.Leaf) table.walk(root, VA);
        assertThat(noExec.executable()).isFalse();
        assertThat(noExec.pa()).isEqualTo(PA);
    }

    /** XD on the leaf alone forbids execution. */
    @Test
    void walk_leafWithXd_isNotExecutable() {
        table.map4k(root, VA, PA, X86Pte.RW | X86Pte.US | X86Pte.XD, this::allocate);

        WalkResult.Leaf leaf = (WalkResult.Leaf) table.walk(root, VA);

        assertThat(leaf.executable()).isFalse();
        assertThat(leaf.pa()).isEqualTo(PA);
    }

    /** An empty PML4 stops the walk at level 4, naming the PML4 entry it read. */
    @Test
    void walk_emptyRoot_faultsNotPresentAtLevel4() {
        WalkResult result = table.walk(root, VA);

        assertThat(result).isEqualTo(new WalkResult.Fault(4, WalkResult.Cause.NOT_PRESENT,
                root + 8L * X86Pte.index(VA, 4)));
    }

    /** The walk reports the level whose entry has P = 0. */
    @Test
    void walk_unmappedNeighbours_faultNotPresentAtTheMissingLevel() {
        table.map4k(root, VA, PA, X86Pte.RW | X86Pte.US, this::allocate);

        long samePt = VA + 0x1000;
        long samePd = VA + (1L << 21);
        long samePdpt = VA + (1L << 30);

        assertThat(table.walk(root, samePt)).isEqualTo(
                new WalkResult.Fault(1, WalkResult.Cause.NOT_PRESENT, entryAddress(samePt, 1)));
        assertThat(table.walk(root, samePd)).isEqualTo(
                new WalkResult.Fault(2, WalkResult.Cause.NOT_PRESENT, entryAddress(samePd, 2)));
        assertThat(table.walk(root, samePdpt)).isEqualTo(
                new WalkResult.Fault(3, WalkResult.Cause.NOT_PRESENT, entryAddress(samePdpt, 3)));
    }

    /** §2.1.1 canonical-address check (VT-d FR 0x80): bits 63:47 must copy bit 47 for 4 levels. */
    @Test
    void walk_nonCanonicalAddress_faultsWithoutReadingMemory() {
        table.map4k(root, VA, PA, X86Pte.RW | X86Pte.US, this::allocate);

        assertThat(table.walk(root, 0x0000_8000_0000_0000L)).isEqualTo(
                new WalkResult.Fault(4, WalkResult.Cause.NON_CANONICAL, -1));
        assertThat(table.walk(root, VA | 1L << 60)).isEqualTo(
                new WalkResult.Fault(4, WalkResult.Cause.NON_CANONICAL, -1));
        assertThat(table.isCanonical(0xffff_8000_0000_0000L)).isTrue();
        assertThat(table.walk(root, 0xffff_8000_0000_0000L))
                .isInstanceOf(WalkResult.Fault.class)
                .extracting(r -> ((WalkResult.Fault) r).cause())
                .isEqualTo(WalkResult.Cause.NOT_PRESENT);
    }

    /** With 5 levels, 57-bit addresses are canonical; bit 57 and above must copy bit 56. */
    @Test
    void isCanonical_fiveLevels_acceptsFiftySevenBitAddresses() {
        X86PageTable five = new X86PageTable(memory, 5);

        assertThat(five.isCanonical(0x0000_8000_0000_0000L)).isTrue();
        assertThat(five.isCanonical(0x00ff_ffff_ffff_f000L)).isTrue();
        assertThat(five.isCanonical(0x0100_0000_0000_0000L)).isFalse();
        assertThat(five.walk(root, 0x0100_0000_0000_0000L)).isEqualTo(
                new WalkResult.Fault(5, WalkResult.Cause.NON_CANONICAL, -1));
    }

    /** SDM: PS is reserved in a PML4E (no 512 GiB pages); VT-d reports FR 0x72 for it. */
    @Test
    void walk_psSetInPml4e_faultsReservedBitsAtLevel4() {
        table.map4k(root, VA, PA, X86Pte.RW | X86Pte.US, this::allocate);
        long pml4e = entryAddress(VA, 4);
        setBits(pml4e, X86Pte.PS, 0);

        assertThat(table.walk(root, VA)).isEqualTo(new WalkResult.Fault(4, WalkResult.Cause.RESERVED_BITS, pml4e));
    }

    /** Physical-address bits above MAX_PHYS_ADDR_BITS are reserved in every entry. */
    @Test
    void walk_highAddressBitInLeaf_faultsReservedBitsAtLevel1() {
        long pteAddr = table.map4k(root, VA, PA, X86Pte.RW | X86Pte.US, this::allocate);
        setBits(pteAddr, 1L << 50, 0);

        assertThat(table.walk(root, VA)).isEqualTo(new WalkResult.Fault(1, WalkResult.Cause.RESERVED_BITS, pteAddr));
    }

    /** A PDE with PS maps 2 MiB: the PA keeps VA bits 20:0; address bits 20:13 must be zero. */
    @Test
    void walk_handWrittenPdeWithPs_returnsTwoMegabyteLeaf() {
        long pdpt = allocate();
        long pd = allocate();
        long va = (1L << 30) | (3L << 21) | 0x1_2345;
        memory.writeLong(root + 8L * X86Pte.index(va, 4), pdpt | X86Pte.P | X86Pte.RW | X86Pte.US);
        memory.writeLong(pdpt + 8L * X86Pte.index(va, 3), pd | X86Pte.P | X86Pte.RW | X86Pte.US);
        long pdeAddr = pd + 8L * X86Pte.index(va, 2);
        memory.writeLong(pdeAddr, 0x0060_0000L | X86Pte.P | X86Pte.US | X86Pte.PS);

        WalkResult.Leaf leaf = (WalkResult.Leaf) table.walk(root, va);

        assertThat(leaf.level()).isEqualTo(2);
        assertThat(leaf.pageSize()).isEqualTo(2L << 20);
        assertThat(leaf.pa()).isEqualTo(0x0061_2345L);
        assertThat(leaf.pteAddr()).isEqualTo(pdeAddr);
        assertThat(leaf.writable()).isFalse();
        assertThat(leaf.user()).isTrue();

        memory.writeLong(pdeAddr, 0x0060_0000L | 1L << 13 | X86Pte.P | X86Pte.PS);
        assertThat(table.walk(root, va)).isEqualTo(new WalkResult.Fault(2, WalkResult.Cause.RESERVED_BITS, pdeAddr));
    }

    /** A PDPTE with PS maps 1 GiB: the PA keeps VA bits 29:0. */
    @Test
    void walk_handWrittenPdpteWithPs_returnsOneGigabyteLeaf() {
        long pdpt = allocate();
        long va = (2L << 30) | 0x0123_4567;
        memory.writeLong(root + 8L * X86Pte.index(va, 4), pdpt | X86Pte.P | X86Pte.RW | X86Pte.US);
        memory.writeLong(pdpt + 8L * X86Pte.index(va, 3), (1L << 30) | X86Pte.P | X86Pte.RW | X86Pte.US | X86Pte.PS);

        WalkResult.Leaf leaf = (WalkResult.Leaf) table.walk(root, va);

        assertThat(leaf.level()).isEqualTo(3);
        assertThat(leaf.pageSize()).isEqualTo(1L << 30);
        assertThat(leaf.pa()).isEqualTo((1L << 30) | 0x0123_4567);
    }

    /** A table that lies outside memory stops the walk with a fetch error (VT-d FR 0x70). */
    @Test
    void walk_tableOutsideMemory_faultsFetchError() {
        long outside = MEMORY_SIZE + 0x1000;
        memory.writeLong(root + 8L * X86Pte.index(VA, 4), outside | X86Pte.P | X86Pte.RW | X86Pte.US);

        assertThat(table.walk(root, VA)).isEqualTo(new WalkResult.Fault(3, WalkResult.Cause.FETCH_ERROR,
                outside + 8L * X86Pte.index(VA, 3)));
    }

    /** §2.1.1 (A, D verified in QEMU): the hardware sets A on use and D on write, in memory. */
    @Test
    void setAccessedDirty_readThenWrite_setsAThenDInTheLeafEntry() {
        long pteAddr = table.map4k(root, VA, PA, X86Pte.RW | X86Pte.US, this::allocate);
        WalkResult.Leaf leaf = (WalkResult.Leaf) table.walk(root, VA);

        table.setAccessedDirty(leaf, false);

        assertThat(memory.readLong(pteAddr) & (X86Pte.A | X86Pte.D)).isEqualTo(X86Pte.A);

        table.setAccessedDirty(leaf, true);

        assertThat(memory.readLong(pteAddr)).isEqualTo(PA | X86Pte.P | X86Pte.RW | X86Pte.US | X86Pte.A | X86Pte.D);
        WalkResult.Leaf again = (WalkResult.Leaf) table.walk(root, VA);
        assertThat(again.accessed()).isTrue();
        assertThat(again.dirty()).isTrue();
    }

    /** map4k refuses unaligned addresses and mapping inside an existing huge page. */
    @Test
    void map4k_unalignedOrInsideHugePage_throws() {
        assertThatThrownBy(() -> table.map4k(root, VA + 1, PA, 0, this::allocate))
                .isInstanceOf(IllegalArgumentException.class);

        long pdpt = allocate();
        memory.writeLong(root + 8L * X86Pte.index(VA, 4), pdpt | X86Pte.P | X86Pte.RW | X86Pte.US);
        memory.writeLong(pdpt + 8L * X86Pte.index(VA, 3), X86Pte.P | X86Pte.PS);

        assertThatThrownBy(() -> table.map4k(root, VA, PA, 0, this::allocate))
                .isInstanceOf(IllegalStateException.class);
        assertThat(table.leafEntryAddress(root, VA)).isEqualTo(-1);
    }
}
