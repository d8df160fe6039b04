package dev.iommulab.core.pgtable;

/**
 * The {@code prot} bits of iommu_map() ({@code IOMMU_READ} ... {@code IOMMU_PRIV} in include/linux/iommu.h).
 */
public final class IommuProt {

    public static final int IOMMU_READ = 1;
    public static final int IOMMU_WRITE = 1 << 1;
    public static final int IOMMU_CACHE = 1 << 2;
    public static final int IOMMU_NOEXEC = 1 << 3;
    public static final int IOMMU_MMIO = 1 << 4;
    public static final int IOMMU_PRIV = 1 << 5;

    private IommuProt() {
    }

    /** The prot of letters from {@code r}, {@code w}, {@code x} (no {@code x}: {@link #IOMMU_NOEXEC}), or {@code none}. */
    public static int fromLetters(String letters) {
        int prot = 0;
        if (!"none".equals(letters)) {
            for (char c : letters.toCharArray()) {
                prot |= switch (c) {
                    case 'r' -> IOMMU_READ;
                    case 'w' -> IOMMU_WRITE;
                    case 'x' -> 0;
                    default -> throw new IllegalArgumentException("prot letters are r, w, x: " + letters);
                };
            }
        }
        return letters.indexOf('x') < 0 ? prot | IOMMU_NOEXEC : prot;
    }
}
