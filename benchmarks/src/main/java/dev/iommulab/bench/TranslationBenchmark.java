package dev.iommulab.bench;

import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.IommuHardware;
import org.openjdk.jmh.annotations.Benchmark;

/**
 * The measured loops the IOMMU models' translation benchmarks share, so that their figures compare: each call hands
 * the next of {@link #PAGES} prepared requests — an 8-byte untranslated DMA read ({@code untranslatedRead}) or an
 * ATS Translation Request ({@code translationRequest}) — to the unit a subclass's set-up built and filled them for.
 */
public abstract class TranslationBenchmark extends LabBenchmark {

    /** Pages the requests cycle through. */
    static final int PAGES = 8;

    /** The unit under test, set by the subclass's set-up. */
    IommuHardware hw;
    final DmaRequest[] reads = new DmaRequest[PAGES];
    final AtsTranslationRequest[] translationRequests = new AtsTranslationRequest[PAGES];
    private int page;

    @Benchmark
    public DmaCompletion untranslatedRead() {
        page = (page + 1) & (PAGES - 1);
        return hw.memoryRequest(reads[page]);
    }

    @Benchmark
    public AtsCompletion translationRequest() {
        page = (page + 1) & (PAGES - 1);
        return hw.translationRequest(translationRequests[page]);
    }
}
