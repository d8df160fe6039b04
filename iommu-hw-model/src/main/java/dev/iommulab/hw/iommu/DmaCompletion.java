package dev.iommulab.hw.iommu;

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

    public boolean ok() {
        return status == CompletionStatus.SUCCESS;
    }
}
