package dev.iommulab.hw.pgtable;

import static dev.iommulab.hw.pgtable.RiscvPte.A;
import static dev.iommulab.hw.pgtable.RiscvPte.D;
import static dev.iommulab.hw.pgtable.RiscvPte.G;
import static dev.iommulab.hw.pgtable.RiscvPte.R;
import static dev.iommulab.hw.pgtable.RiscvPte.U;
import static dev.iommulab.hw.pgtable.RiscvPte.V;
import static dev.iommulab.hw.pgtable.RiscvPte.W;
import static dev.iommulab.hw.pgtable.RiscvPte.X;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.RiscvWalkResult.Cause;
import dev.iommulab.hw.pgtable.RiscvWalkResult.Fault;
import dev.iommulab.hw.pgtable.RiscvWalkResult.Leaf;
import dev.iommulab.hw.pgtable.RiscvWalkResult.Stage;
import org.junit.jupiter.api.Test;

/**
 * First-stage Sv39/Sv48/Sv57 walks: the structure of the RISC-V Privileged Architecture "Virtual
 * Address Translation Process" (steps 1 to 4, 5 for superpage alignment, 10 for the PA) and the PTE
 * format (V, R, W, X, U, G, A, D; PPN in bits 53:10; bits 63:54 reserved), as the RISC-V IOMMU
 * applies it (reference/iommu-hardware.md §2.4.1).
 */
class RiscvPageTableWalkTest {

    private static final long MEMORY_SIZE = 16L << 20;
    private static final long VA = 0x0000_0012_3456_7000L;
    private static final long PA = 0x0040_0000L;
    private static final long RWU_AD = R | W | U | A | D;
    private static final RiscvWalkRequest READ = RiscvWalkRequest.user(Access.READ);

    private final PhysicalMemory memory = new PhysicalMemory(MEMORY_SIZE);
    private final RiscvPageTable sv39 = new RiscvPageTable(memory, RiscvPagingMode.SV39);
    private long nextFrame = 0x10_0000;
    private final long root = allocate();

    private long allocate() {
        long frame = nextFrame;
        nextFrame += PhysicalMemory.PAGE_SIZE;
        return frame;
    }

    private void setBits(long entryAddr, long set, long clear) {
        memory.writeLong(entryAddr, (memory.readLong(entryAddr) | set) & ~clear);
    }

    /** A 4 KiB leaf: PTE = PPN << 10 | flags | V, tables below the root point with V only. */
    @Test
    void map_fourKilobytePage_writesPpnInBits53To10AndPointersWithVOnly() {
        long pteAddr = sv39.map(root, VA, 0x5000, 4096, R | W | U, this::allocate);

        assertThat(memory.readLong(pteAddr)).isEqualTo(0x1417L);
        long l2 = memory.readLong(root + 8L * RiscvPagingMode.SV39.index(VA, 2));
        long l1 = memory.readLong(RiscvPte.address(l2) + 8L * RiscvPagingMode.SV39.index(VA, 1));
        assertThat(l2 & 0x3ff).isEqualTo(V);
        assertThat(l1 & 0x3ff).isEqualTo(V);
        assertThat(RiscvPte.address(l1) + 8L * RiscvPagingMode.SV39.index(VA, 0)).isEqualTo(pteAddr);
    }

    /** PPN spans bits 53:10: the largest 56-bit PA round-trips, and bits 63:54 stay clear. */
    @Test
    void encode_largestPhysicalAddress_fillsBits53To10() {
        long pte = RiscvPte.encode(RiscvPte.PHYS_ADDR_LIMIT - 4096, V | R);

        assertThat(pte).isEqualTo(0x003f_ffff_ffff_fc03L);
        assertThat(RiscvPte.address(pte)).isEqualTo(0x00ff_ffff_ffff_f000L);
        assertThat(RiscvPte.ppn(pte)).isEqualTo(0x0fff_ffff_ffffL);
    }

    /** The walk reaches the level-0 leaf; the PA keeps the page offset; rights are the leaf's. */
    @Test
    void walk_fourKilobyteLeaf_returnsLeafWithOffsetAndRights() {
        long pteAddr = sv39.map(root, VA, PA, 4096, R | W | X | U | A | D, this::allocate);

        assertThat(sv39.walk(root, VA + 0xabc, READ)).isEqualTo(
                new Leaf(PA + 0xabc, 4096, 0, true, true, true, true, false, true, pteAddr));
    }

    /** Leaf detection is "R or X": an execute-only PTE is a leaf too. */
    @Test
    void walk_executeOnlyLeaf_isALeaf() {
        long pteAddr = sv39.map(root, VA, PA, 4096, X | U | A, this::allocate);

        assertThat(sv39.walk(root, VA, RiscvWalkRequest.user(Access.EXEC))).isEqualTo(
                new Leaf(PA, 4096, 0, false, false, true, true, false, false, pteAddr));
    }

    /** A 2 MiB superpage at level 1 keeps VA bits 20:0. */
    @Test
    void walk_twoMegabyteSuperpage_returnsLevel1Leaf() {
        long va = 0x0000_0012_3460_0000L;
        long pteAddr = sv39.map(root, va, 0x0060_0000L, 2L << 20, RWU_AD, this::allocate);

        assertThat(memory.readLong(pteAddr)).isEqualTo((0x0060_0000L >>> 2) | RWU_AD | V);
        assertThat(sv39.walk(root, va + 0x1_2345, READ)).isEqualTo(
                new Leaf(0x0061_2345L, 2L << 20, 1, true, true, false, true, false, true, pteAddr));
    }

    /** A 1 GiB superpage at the Sv39 root keeps VA bits 29:0. */
    @Test
    void walk_oneGigabyteSuperpage_returnsLevel2Leaf() {
        long va = 0x0000_0012_4000_0000L;
        long pteAddr = sv39.map(root, va, 1L << 30, 1L << 30, RWU_AD, this::allocate);

        assertThat(pteAddr).isEqualTo(root + 8L * RiscvPagingMode.SV39.index(va, 2));
        assertThat(sv39.walk(root, va + 0x0123_4567, READ)).isEqualTo(
                new Leaf((1L << 30) + 0x0123_4567, 1L << 30, 2, true, true, false, true, false, true, pteAddr));
    }

    /** Step 6: a superpage whose PPN[i-1:0] is not zero is misaligned: page fault at its level. */
    @Test
    void walk_misalignedSuperpage_faultsAtItsLevel() {
        long va = 0x0000_0012_3460_0000L;
        long pteAddr = sv39.map(root, va, 0x0060_0000L, 2L << 20, RWU_AD, this::allocate);
        memory.writeLong(pteAddr, RiscvPte.encode(0x0060_1000L, RWU_AD | V));

        assertThat(sv39.walk(root, va, READ)).isEqualTo(
                new Fault(Stage.FIRST_STAGE, 1, Cause.MISALIGNED_SUPERPAGE, Access.READ, pteAddr));
        long gigaAddr = sv39.entryAddress(root, 0x0000_0020_0000_0000L, 2);
        memory.writeLong(gigaAddr, RiscvPte.encode(0x0020_0000L, RWU_AD | V));
        assertThat(sv39.walk(root, 0x0000_0020_0000_0000L, READ)).isEqualTo(
                new Fault(Stage.FIRST_STAGE, 2, Cause.MISALIGNED_SUPERPAGE, Access.READ, gigaAddr));
    }

    /** Step 3: V = 0 stops the walk at the level of that entry, naming the entry. */
    @Test
    void walk_invalidEntries_faultNotValidAtTheirLevel() {
        sv39.map(root, VA, PA, 4096, RWU_AD, this::allocate);
        long samePt = VA + 0x1000;
        long samePd = VA + (2L << 20);
        long otherRoot = VA + (1L << 30);

        assertThat(sv39.walk(root, samePt, READ)).isEqualTo(new Fault(Stage.FIRST_STAGE, 0, Cause.NOT_VALID,
                Access.READ, sv39.entryAddress(root, samePt, 0)));
        assertThat(sv39.walk(root, samePd, READ)).isEqualTo(new Fault(Stage.FIRST_STAGE, 1, Cause.NOT_VALID,
                Access.READ, sv39.entryAddress(root, samePd, 1)));
        long rootEntry = root + 8L * RiscvPagingMode.SV39.index(otherRoot, 2);
        assertThat(sv39.walk(root, otherRoot, RiscvWalkRequest.user(Access.WRITE)))
                .isEqualTo(new Fault(Stage.FIRST_STAGE, 2, Cause.NOT_VALID, Access.WRITE, rootEntry));
    }

    /** Step 3: R = 0 with W = 1 is reserved, in a leaf-looking (xwr = 110) or pointer (010) entry. */
    @Test
    void walk_writeWithoutRead_faultsAtThatLevel() {
        long pteAddr = sv39.map(root, VA, PA, 4096, RWU_AD, this::allocate);
        setBits(pteAddr, X, R);
        assertThat(sv39.walk(root, VA, READ)).isEqualTo(
                new Fault(Stage.FIRST_STAGE, 0, Cause.W_WITHOUT_R, Access.READ, pteAddr));

        long l1Addr = sv39.entryAddress(root, VA, 1);
        setBits(l1Addr, W, 0);
        assertThat(sv39.walk(root, VA, READ)).isEqualTo(
                new Fault(Stage.FIRST_STAGE, 1, Cause.W_WITHOUT_R, Access.READ, l1Addr));
    }

    /** Bits 63:54 are reserved (no Svnapot/Svpbmt): bit 54, PBMT (62:61) or N (63) fault. */
    @Test
    void walk_reservedHighBits_faultReservedBits() {
        long pteAddr = sv39.map(root, VA, PA, 4096, RWU_AD, this::allocate);
        long clean = memory.readLong(pteAddr);
        for (int bit : new int[] {54, 60, 61, 62, 63}) {
            memory.writeLong(pteAddr, clean | 1L << bit);
            assertThat(sv39.walk(root, VA, READ)).as("bit %d", bit).isEqualTo(
                    new Fault(Stage.FIRST_STAGE, 0, Cause.RESERVED_BITS, Access.READ, pteAddr));
        }
        memory.writeLong(pteAddr, clean | RiscvPte.RSW);
        assertThat(sv39.walk(root, VA, READ)).isInstanceOf(Leaf.class);
    }

    /** Non-leaf D, A and U are reserved for future standard use: a pointer with one set faults. */
    @Test
    void walk_nonLeafWithAccessedDirtyOrUser_faultsReservedBits() {
        sv39.map(root, VA, PA, 4096, RWU_AD, this::allocate);
        long l1Addr = sv39.entryAddress(root, VA, 1);
        long clean = memory.readLong(l1Addr);
        for (long bit : new long[] {A, D, U}) {
            memory.writeLong(l1Addr, clean | bit);
            assertThat(sv39.walk(root, VA, READ)).isEqualTo(
                    new Fault(Stage.FIRST_STAGE, 1, Cause.RESERVED_BITS, Access.READ, l1Addr));
        }
    }

    /** Step 4: a pointer at level 0 (i would become -1) is a page fault. */
    @Test
    void walk_pointerAtLevelZero_faultsNoLeaf() {
        long pteAddr = sv39.map(root, VA, PA, 4096, RWU_AD, this::allocate);
        memory.writeLong(pteAddr, RiscvPte.encode(allocate(), V));

        assertThat(sv39.walk(root, VA, READ)).isEqualTo(
                new Fault(Stage.FIRST_STAGE, 0, Cause.NO_LEAF, Access.READ, pteAddr));
    }

    /** Non-canonical VA (bits 63:39 not copies of bit 38): page fault at the root, no memory read. */
    @Test
    void walk_nonCanonicalVa_faultsWithoutReadingMemory() {
        Fault fault = (Fault) sv39.walk(MEMORY_SIZE * 4, 0x0000_0040_0000_0000L, RiscvWalkRequest.user(Access.WRITE));

        assertThat(fault).isEqualTo(new Fault(Stage.FIRST_STAGE, 2, Cause.NON_CANONICAL, Access.WRITE, -1));
        assertThat(fault.exceptionCode()).isEqualTo(15);
        assertThat(sv39.walk(root, 0xffff_ffc0_0000_0000L, READ))
                .isEqualTo(new Fault(Stage.FIRST_STAGE, 2, Cause.NOT_VALID, Access.READ, root + 8L * 0x100));
    }

    /** Step 2: a PTE outside memory (PMA violation) is an access fault 5/7/1, not a page fault. */
    @Test
    void walk_tableOutsideMemory_faultsAccessFault() {
        long outside = MEMORY_SIZE + 0x1000;
        memory.writeLong(root + 8L * RiscvPagingMode.SV39.index(VA, 2), RiscvPte.encode(outside, V));

        Fault fault = (Fault) sv39.walk(root, VA, READ);

        assertThat(fault).isEqualTo(new Fault(Stage.FIRST_STAGE, 1, Cause.ACCESS_FAULT, Access.READ,
                outside + 8L * RiscvPagingMode.SV39.index(VA, 1)));
        assertThat(fault.exceptionCode()).isEqualTo(5);
        assertThat(((Fault) sv39.walk(root, VA, RiscvWalkRequest.user(Access.EXEC))).exceptionCode()).isEqualTo(1);
    }

    /** G in a non-leaf entry makes every mapping below it global; otherwise the leaf's G decides. */
    @Test
    void walk_globalInNonLeaf_reportsGlobalLeaf() {
        long pteAddr = sv39.map(root, VA, PA, 4096, RWU_AD, this::allocate);
        assertThat(((Leaf) sv39.walk(root, VA, READ)).global()).isFalse();

        setBits(sv39.entryAddress(root, VA, 2), G, 0);
        assertThat(((Leaf) sv39.walk(root, VA, READ)).global()).isTrue();

        setBits(sv39.entryAddress(root, VA, 2), 0, G);
        setBits(pteAddr, G, 0);
        assertThat(((Leaf) sv39.walk(root, VA, READ)).global()).isTrue();
    }

    /** Sv48 walks four levels; a 512 GiB leaf sits at level 3. */
    @Test
    void walk_sv48_walksFourLevelsAndMaps512GiBPages() {
        RiscvPageTable sv48 = new RiscvPageTable(memory, RiscvPagingMode.SV48);
        long root48 = allocate();
        long va = 0x0000_7f00_1234_5000L;
        long pteAddr = sv48.map(root48, va, PA, 4096, RWU_AD, this::allocate);
        long bigAddr = sv48.map(root48, 0xffff_8000_0000_0000L, 0, 512L << 30, RWU_AD, this::allocate);

        assertThat(sv48.walk(root48, va + 8, READ)).isEqualTo(
                new Leaf(PA + 8, 4096, 0, true, true, false, true, false, true, pteAddr));
        assertThat(sv48.walk(root48, 0xffff_8000_0000_1000L, READ)).isEqualTo(
                new Leaf(0x1000, 512L << 30, 3, true, true, false, true, false, true, bigAddr));
        assertThat(sv48.walk(root48, 0x0000_8000_0000_0000L, READ))
                .isEqualTo(new Fault(Stage.FIRST_STAGE, 3, Cause.NON_CANONICAL, Access.READ, -1));
    }

    /** Sv57 walks five levels, indexing the root with VA bits 56:48. */
    @Test
    void walk_sv57_walksFiveLevels() {
        RiscvPageTable sv57 = new RiscvPageTable(memory, RiscvPagingMode.SV57);
        long root57 = allocate();
        long va = 0x00ab_cdef_0123_4000L;
        long pteAddr = sv57.map(root57, va, PA, 4096, RWU_AD, this::allocate);

        assertThat(sv57.entryAddress(root57, va, 4)).isEqualTo(root57 + 8L * 0xab);
        assertThat(sv57.walk(root57, va, READ)).isEqualTo(
                new Leaf(PA, 4096, 0, true, true, false, true, false, true, pteAddr));
    }
}
