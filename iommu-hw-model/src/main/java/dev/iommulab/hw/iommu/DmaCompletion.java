package dev.iommulab.hw.iommu;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;

/**
 * What the IOMMU did with a memory request. For a posted write the function never sees this; the
 * status tells the simulation whether the write reached memory.
 *
 * @param data bytes read (reads with status SUCCESS only, else empty)
 * @param pa   the physical address the access reached (SUCCESS only), -1 when it failed
 */
public record DmaCompletion(CompletionStatus status, byte[] data, long pa) {

    private static final byte[] NONE = new byte[0];

    public DmaCompletion {
        if ((status == CompletionStatus.SUCCESS) != (pa >= 0)) {
            throw new IllegalArgumentException("a successful access has a physical address, a failed one -1: " + pa);
        }
    }

    /** The access reached memory at {@code pa}; {@code data} are the bytes read (null for a write). */
    public static DmaCompletion ok(long pa, byte[] data) {
        return new DmaCompletion(CompletionStatus.SUCCESS, data == null ? NONE : data, pa);
    }

    public static DmaCompletion failed(CompletionStatus status) {
        return new DmaCompletion(status, NONE, -1);
    }

    /**
     * What every model does once {@code request} is translated to {@code pa}: the access reaches memory
     * (a write stores its data, a read returns the bytes), or gets UR when {@code pa} lies outside memory.
     * Every model performs its accesses here, untranslated and translated (ATS) alike, so the completion
     * always names the physical address that was touched.
     */
    public static DmaCompletion perform(PhysicalMemory memory, long pa, DmaRequest request) {
        if (pa < 0 || !memory.contains(pa, request.length())) {
            return failed(CompletionStatus.UR);
        }
        if (request.access() == Access.WRITE) {
            request.data().writeTo(memory, pa);
            return ok(pa, null);
        }
        return ok(pa, memory.read(pa, request.length()));
    }

    public boolean ok() {
        return status == CompletionStatus.SUCCESS;
    }
}
