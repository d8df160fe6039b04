package dev.iommulab.hw.iommu;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;

/**
 * What the IOMMU did with a memory request. For a posted write the function never sees this; the
 * status tells the simulation whether the write reached memory.
 *
 * @param data bytes read (reads with status SUCCESS only, else empty)
 */
public record DmaCompletion(CompletionStatus status, byte[] data) {

    private static final byte[] NONE = new byte[0];

    public static DmaCompletion ok(byte[] data) {
        return new DmaCompletion(CompletionStatus.SUCCESS, data == null ? NONE : data);
    }

    public static DmaCompletion failed(CompletionStatus status) {
        return new DmaCompletion(status, NONE);
    }

    /**
     * What every model does once {@code request} is translated to {@code pa}: the access reaches memory
     * (a write stores its data, a read returns the bytes), or gets UR when {@code pa} lies outside memory.
     */
    public static DmaCompletion perform(PhysicalMemory memory, long pa, DmaRequest request) {
        if (!memory.contains(pa, request.length())) {
            return failed(CompletionStatus.UR);
        }
        if (request.access() == Access.WRITE) {
            memory.write(pa, request.data());
            return ok(null);
        }
        return ok(memory.read(pa, request.length()));
    }

    public boolean ok() {
        return status == CompletionStatus.SUCCESS;
    }
}
