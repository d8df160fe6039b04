package dev.iommulab.hw.pci;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * A hand-written IOMMU for endpoint tests: records every request it receives, translates pages from
 * a map the test fills ({@link #makeResident}), and performs memory requests on real bytes. Pages not
 * in the map get ATS Success with R = W = 0, as §1.3 of the hardware reference prescribes; a test can
 * force any ATS completion for a page ({@link #answerTranslation}) or make untranslated requests to a
 * page fail ({@link #failRequests}).
 */
final class FakeIommu implements IommuHardware {

    /** An ATS Invalidate Completion as the IOMMU received it. */
    record InvalidateCompletion(long atNs, int rid, int itagVector) {
    }

    final PhysicalMemory memory;
    final List<AtsTranslationRequest> translationRequests = new ArrayList<>();
    final List<AtsCompletion> translationCompletions = new ArrayList<>();
    final List<DmaRequest> memoryRequests = new ArrayList<>();
    final List<PageRequestMessage> pageRequests = new ArrayList<>();
    final List<InvalidateCompletion> invalidateCompletions = new ArrayList<>();
    private final Map<Long, Long> resident = new HashMap<>();
    private final Map<Long, Boolean> writable = new HashMap<>();
    private final Map<Long, AtsCompletion> forcedCompletions = new HashMap<>();
    private final Map<Long, CompletionStatus> failing = new HashMap<>();
    private Consumer<PageRequestMessage> onPageRequest = m -> { };
    private Consumer<AtsTranslationRequest> onTranslationRequest = tr -> { };
    private final LongSupplier clock;

    FakeIommu(PhysicalMemory memory) {
        this(memory, () -> 0);
    }

    FakeIommu(PhysicalMemory memory, LongSupplier clock) {
        this.memory = memory;
        this.clock = clock;
    }

    /** The page at IOVA/VA {@code page} now translates to {@code pa} with read and write rights. */
    void makeResident(long page, long pa) {
        resident.put(page, pa);
        writable.put(page, true);
    }

    /** The page translates to {@code pa}, readable only (ATS grants R=1 W=0; untranslated writes fail). */
    void makeReadOnly(long page, long pa) {
        resident.put(page, pa);
        writable.put(page, false);
    }

    /** The page is no longer mapped. */
    void unmap(long page) {
        resident.remove(page);
        writable.remove(page);
    }

    /** Every ATS Translation Request for {@code page} is answered with {@code completion}. */
    void answerTranslation(long page, AtsCompletion completion) {
        forcedCompletions.put(page, completion);
    }

    /** Untranslated requests to {@code page} fail with {@code status} (reads see it; writes are dropped). */
    void failRequests(long page, CompletionStatus status) {
        failing.put(page, status);
    }

    /** What happens when a page request arrives (after it has been recorded). */
    void onPageRequest(Consumer<PageRequestMessage> action) {
        onPageRequest = action;
    }

    /** What happens when a translation request arrives (after it has been answered and recorded). */
    void onTranslationRequest(Consumer<AtsTranslationRequest> action) {
        onTranslationRequest = action;
    }

    @Override
    public AtsCompletion translationRequest(AtsTranslationRequest request) {
        translationRequests.add(request);
        long page = request.addr() & ~0xfffL;
        AtsCompletion completion = forcedCompletions.get(page);
        if (completion == null) {
            Long pa = resident.get(page);
            completion = pa == null
                    ? AtsCompletion.notAccessible()
                    : new AtsCompletion(CompletionStatus.SUCCESS, pa, 4096, true,
                            !request.noWrite() && writable.get(page), false, false);
        }
        translationCompletions.add(completion);
        onTranslationRequest.accept(request);
        return completion;
    }

    @Override
    public DmaCompletion memoryRequest(DmaRequest request) {
        memoryRequests.add(request);
        long pa;
        if (request.addressType() == AddressType.TRANSLATED) {
            pa = request.addr();
        } else {
            long page = request.addr() & ~0xfffL;
            CompletionStatus forced = failing.get(page);
            if (forced != null) {
                return DmaCompletion.failed(forced);
            }
            Long frame = resident.get(page);
            if (frame == null || (request.access() == Access.WRITE && !writable.get(page))) {
                return DmaCompletion.failed(CompletionStatus.UR);
            }
            pa = frame | (request.addr() & 0xfff);
        }
        return DmaCompletion.perform(memory, pa, request);
    }

    @Override
    public void pageRequest(PageRequestMessage message) {
        pageRequests.add(message);
        onPageRequest.accept(message);
    }

    @Override
    public void atsInvalidateCompletion(int rid, int itagVector) {
        invalidateCompletions.add(new InvalidateCompletion(clock.getAsLong(), rid, itagVector));
    }
}
