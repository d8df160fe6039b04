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

/**
 * A hand-written IOMMU for endpoint tests: records every request it receives, translates pages from
 * a map the test fills ({@link #makeResident}), and performs memory requests on real bytes. Pages not
 * in the map get ATS Success with R = W = 0, as §1.3 of the hardware reference prescribes.
 */
final class FakeIommu implements IommuHardware {

    final PhysicalMemory memory;
    final List<AtsTranslationRequest> translationRequests = new ArrayList<>();
    final List<AtsCompletion> translationCompletions = new ArrayList<>();
    final List<DmaRequest> memoryRequests = new ArrayList<>();
    final List<PageRequestMessage> pageRequests = new ArrayList<>();
    private final Map<Long, Long> resident = new HashMap<>();
    private Consumer<PageRequestMessage> onPageRequest = m -> { };

    FakeIommu(PhysicalMemory memory) {
        this.memory = memory;
    }

    /** The page at IOVA/VA {@code page} now translates to {@code pa} with read and write rights. */
    void makeResident(long page, long pa) {
        resident.put(page, pa);
    }

    /** What happens when a page request arrives (after it has been recorded). */
    void onPageRequest(Consumer<PageRequestMessage> action) {
        onPageRequest = action;
    }

    @Override
    public AtsCompletion translationRequest(AtsTranslationRequest request) {
        translationRequests.add(request);
        Long pa = resident.get(request.addr() & ~0xfffL);
        AtsCompletion completion = pa == null
                ? AtsCompletion.notAccessible()
                : new AtsCompletion(CompletionStatus.SUCCESS, pa, 4096, true, !request.noWrite(), false, false);
        translationCompletions.add(completion);
        return completion;
    }

    @Override
    public DmaCompletion memoryRequest(DmaRequest request) {
        memoryRequests.add(request);
        long pa;
        if (request.addressType() == AddressType.TRANSLATED) {
            pa = request.addr();
        } else {
            Long page = resident.get(request.addr() & ~0xfffL);
            if (page == null) {
                return DmaCompletion.failed(CompletionStatus.UR);
            }
            pa = page | (request.addr() & 0xfff);
        }
        if (request.access() == Access.WRITE) {
            memory.write(pa, request.data());
            return DmaCompletion.ok(null);
        }
        return DmaCompletion.ok(memory.read(pa, request.length()));
    }

    @Override
    public void pageRequest(PageRequestMessage message) {
        pageRequests.add(message);
        onPageRequest.accept(message);
    }
}
