package dev.iommulab.hw.iommu;

/**
 * A PCIe ATS Translation Request for one page.
 *
 * @param noWrite the function asks for a read-only translation (NW)
 */
public record AtsTranslationRequest(int rid, boolean pasidPresent, int pasid, long addr, boolean noWrite,
                                    boolean exe, boolean priv) {
}
