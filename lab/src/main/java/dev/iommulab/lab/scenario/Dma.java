package dev.iommulab.lab.scenario;

import java.util.List;
import java.util.Objects;

/**
 * Step {@code dma}: the device performs DMA, through SVA with {@code process}, else through its RID domain.
 *
 * @param device declared device name
 * @param addr first address (IOVA, or process virtual address with {@code process})
 * @param size length in bytes, > 0
 * @param access one of {@link #ACCESSES}
 * @param process declared process whose PASID is used, or {@code null} for the RID domain
 * @param privileged whether the request is privileged (supervisor)
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record Dma(String device, long addr, long size, String access, String process, boolean privileged,
                  Long atNs, SourceLocation location) implements Step, DeviceRef, ProcessRef {

    /** Access kinds of DMA and page requests. */
    public static final List<String> ACCESSES = List.of("read", "write", "exec");

    /** Validates the fields. */
    public Dma {
        Checks.name(device, "device");
        Checks.nonNegative(addr, "addr");
        Checks.positive(size, "size");
        Checks.oneOf(access, ACCESSES, "access");
        if (process != null) {
            Checks.name(process, "process");
        }
        Checks.time(atNs, "at");
        Objects.requireNonNull(location, "location");
    }

    @Override
    public String kind() {
        return "dma";
    }
}
