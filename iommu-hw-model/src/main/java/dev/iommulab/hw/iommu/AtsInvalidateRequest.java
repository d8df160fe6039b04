package dev.iommulab.hw.iommu;

/**
 * A PCIe ATS Invalidate Request Message to a function: drop ATC entries of {@code [addr, addr + size)}
 * (for the PASID when present, or for every PASID when {@code global}).
 *
 * @param itag invalidation tag (0..31) the function echoes in its Invalidate Completion
 */
public record AtsInvalidateRequest(int rid, boolean pasidPresent, int pasid, boolean global, long addr, long size,
                                   int itag) {

    public AtsInvalidateRequest {
        if ((itag & ~0x1f) != 0) {
            throw new IllegalArgumentException("itag is 5 bits: " + itag);
        }
        if (size <= 0 || (addr & 0xfff) != 0) {
            throw new IllegalArgumentException("range must be page aligned and non-empty");
        }
    }

    /** Whether the request covers the page at {@code page} for {@code entryPasid} (-1 = no PASID). */
    public boolean covers(int entryPasid, long page) {
        boolean pasidMatches = global || (pasidPresent ? entryPasid == pasid : entryPasid < 0);
        return pasidMatches && page >= addr && page - addr < size;
    }
}
