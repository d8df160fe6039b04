package dev.iommulab.lab.scenario;

import java.util.Objects;

/**
 * Step {@code page-request}: the endpoint sends one raw PRI Page Request (counts against its credits).
 *
 * @param device declared device name
 * @param grpid page request group index, 0..511
 * @param addr page address
 * @param access one of {@link Dma#ACCESSES}
 * @param last whether this is the last request of its group (LPIG)
 * @param pasid explicit PASID, or {@code null}; exclusive with {@code process}
 * @param process declared process whose PASID is used, or {@code null}; exclusive with {@code pasid}
 * @param privileged whether the request is privileged
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record PageRequest(String device, int grpid, long addr, String access, boolean last, Integer pasid,
                          String process, boolean privileged, Long atNs, SourceLocation location)
        implements Step, DeviceRef, ProcessRef {

    /** Validates the fields. */
    public PageRequest {
        Checks.name(device, "device");
        Checks.range(grpid, 0, Checks.MAX_GRPID, "grpid");
        Checks.nonNegative(addr, "addr");
        Checks.oneOf(access, Dma.ACCESSES, "access");
        Checks.optionalRange(pasid, 0, Checks.MAX_PASID, "pasid");
        if (pasid != null && process != null) {
            throw new IllegalArgumentException("page-request takes pasid or process, not both");
        }
        Checks.time(atNs, "at");
        Objects.requireNonNull(location, "location");
    }

    @Override
    public String kind() {
        return "page-request";
    }
}
