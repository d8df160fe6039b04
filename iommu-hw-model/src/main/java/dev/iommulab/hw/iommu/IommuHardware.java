package dev.iommulab.hw.iommu;

/**
 * What a PCIe function sees upstream: the IOMMU behind its root port. The hardware SPI every IOMMU
 * model implements for the device side.
 *
 * <p>Called by endpoint models from simulation events. Implementations never throw on bad data
 * written by software into their tables; they answer as the hardware would (UR, CA, a fault record,
 * an automatic page response).
 */
public interface IommuHardware {

    /** Answers an ATS Translation Request. Never produces a fault record for a not-present page. */
    AtsCompletion translationRequest(AtsTranslationRequest request);

    /** Performs (or blocks) a memory request, translating it when it is untranslated. */
    DmaCompletion memoryRequest(DmaRequest request);

    /** Receives a PRI Page Request Message (posted). */
    void pageRequest(PageRequestMessage message);

    /**
     * Receives a function's ATS Invalidate Completion for the tags in {@code itagVector} (bit i = ITAG i).
     * Models that do not track invalidations ignore it.
     */
    default void atsInvalidateCompletion(int rid, int itagVector) {
    }
}
