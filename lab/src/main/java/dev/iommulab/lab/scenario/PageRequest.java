package dev.iommulab.lab.scenario;

/**
 * Step {@code page-request}: the endpoint sends one raw PRI Page Request (counts against its credits), or with
 * {@code pages} N the requests of N consecutive pages from {@code addr}, all with {@code grpid}, back to back, of
 * which only the last carries {@code last} (a multi-page group, or the first requests of one).
 *
 * @param device declared device name
 * @param grpid page request group index, 0..511
 * @param addr page address
 * @param access one of {@link Dma#ACCESSES}
 * @param last whether this is the last request of its group (LPIG)
 * @param pasid explicit PASID, or {@code null}; exclusive with {@code process}
 * @param process declared process whose PASID is used, or {@code null}; exclusive with {@code pasid}
 * @param privileged whether the request is privileged
 * @param pages number of consecutive pages requested, 1..{@link #MAX_PAGES}
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record PageRequest(String device, int grpid, long addr, String access, boolean last, Integer pasid,
                          String process, boolean privileged, int pages, Long atNs, SourceLocation location)
        implements Step, DeviceRef, ProcessRef {

    /** The most pages one step may request (the VT-d page request queue holds at most 16383 requests). */
    public static final int MAX_PAGES = 16384;

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
        Checks.range(pages, 1, MAX_PAGES, "pages");
        Checks.step(atNs, location);
    }

    /** One page. */
    public PageRequest(String device, int grpid, long addr, String access, boolean last, Integer pasid,
                       String process, boolean privileged, Long atNs, SourceLocation location) {
        this(device, grpid, addr, access, last, pasid, process, privileged, 1, atNs, location);
    }
}
