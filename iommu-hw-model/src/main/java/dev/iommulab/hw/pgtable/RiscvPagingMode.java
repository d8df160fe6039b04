package dev.iommulab.hw.pgtable;

/**
 * The RISC-V paged virtual-memory schemes an IOMMU walks: first-stage Sv39, Sv48, Sv57
 * ({@code iosatp.MODE} / {@code PC.fsc.MODE} 8, 9, 10) and G-stage Sv39x4, Sv48x4, Sv57x4
 * ({@code iohgatp.MODE} 8, 9, 10). Counterpart of the RISC-V Privileged Architecture sections
 * "Sv39/Sv48/Sv57" and, for the x4 forms, the hypervisor section "Guest Physical Address
 * Translation"; riscv-iommu "Device-context fields" (iosatp, iohgatp); reference/iommu-hardware.md §2.4.1.
 *
 * <p>Levels are numbered as the privileged spec's {@code i}: 0 is the level of a 4 KiB leaf,
 * {@code levels() - 1} the root. An x4 form widens the input address by two bits, consumed by the
 * root index (11 bits instead of 9), so its root table is 16 KiB (2048 entries, 16 KiB aligned).
 */
public enum RiscvPagingMode {
    SV39(3, 39, false, 8),
    SV48(4, 48, false, 9),
    SV57(5, 57, false, 10),
    SV39X4(3, 41, true, 8),
    SV48X4(4, 50, true, 9),
    SV57X4(5, 59, true, 10);

    private static final RiscvPagingMode[] MODES = values();

    /** Size of a first-stage root table and of every non-root table. */
    public static final long TABLE_SIZE = 4096;
    /** Size (and alignment) of a G-stage root table. */
    public static final long G_STAGE_ROOT_SIZE = 16384;

    private final int levels;
    private final int addressBits;
    private final boolean gStage;
    private final int encoding;

    RiscvPagingMode(int levels, int addressBits, boolean gStage, int encoding) {
        this.levels = levels;
        this.addressBits = addressBits;
        this.gStage = gStage;
        this.encoding = encoding;
    }

    public int levels() {
        return levels;
    }

    /** Width of the input address: 39/48/57 (VA) or 41/50/59 (GPA). */
    public int addressBits() {
        return addressBits;
    }

    /** Whether this is a G-stage (x4) form, translating a GPA. */
    public boolean isGStage() {
        return gStage;
    }

    /** The stage whose faults this mode's walk reports. */
    public RiscvWalkResult.Stage stage() {
        return gStage ? RiscvWalkResult.Stage.G_STAGE : RiscvWalkResult.Stage.FIRST_STAGE;
    }

    /** The MODE field value in {@code iosatp}/{@code PC.fsc} (first stage) or {@code iohgatp} (G-stage). */
    public int encoding() {
        return encoding;
    }

    /**
     * The mode a MODE field value names: {@code encoding} 8, 9 or 10 in the first-stage form ({@code iosatp},
     * {@code PC.fsc}) or, with {@code gStage}, the G-stage form ({@code iohgatp}, {@code fctl.GXL} = 0); null for
     * Bare and for every other value.
     */
    public static RiscvPagingMode of(int encoding, boolean gStage) {
        for (RiscvPagingMode m : MODES) {
            if (m.encoding == encoding && m.gStage == gStage) {
                return m;
            }
        }
        return null;
    }

    /** Size of the root table: 4 KiB, or 16 KiB for a G-stage form. */
    public long rootTableSize() {
        return gStage ? G_STAGE_ROOT_SIZE : TABLE_SIZE;
    }

    /**
     * Whether {@code addr} may be translated. First stage: bits 63 to {@code addressBits} must all
     * equal bit {@code addressBits - 1} (sign extension). G-stage: bits 63 to {@code addressBits} must
     * be zero (the GPA is zero-extended); otherwise a guest-page fault.
     */
    public boolean isValidInputAddress(long addr) {
        long above = addr >> (addressBits - 1);
        return gStage ? addr >>> addressBits == 0 : above == 0 || above == -1;
    }

    /** The index of {@code addr} in the table at {@code level}: VPN[level] (11 bits at an x4 root). */
    public int index(long addr, int level) {
        long mask = gStage && level == levels - 1 ? 0x7ff : 0x1ff;
        return (int) ((addr >>> (12 + 9 * level)) & mask);
    }

    /** Size of the region a leaf at {@code level} maps: 4 KiB, 2 MiB, 1 GiB, 512 GiB, 256 TiB. */
    public static long pageSize(int level) {
        return 1L << (12 + 9 * level);
    }

    /** The level whose leaf maps {@code pageSize} in this mode. */
    public int levelOf(long pageSize) {
        for (int level = 0; level < levels; level++) {
            if (pageSize(level) == pageSize) {
                return level;
            }
        }
        throw new IllegalArgumentException(String.format("%s has no %#x-byte pages", this, pageSize));
    }
}
