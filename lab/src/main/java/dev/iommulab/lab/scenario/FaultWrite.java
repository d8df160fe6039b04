package dev.iommulab.lab.scenario;

import java.util.Map;

/**
 * Step {@code fault-write}: a raw {@code write()} of one {@code struct iommu_hwpt_page_response} to the process's
 * fault fd.
 *
 * @param process declared process name
 * @param cookie the cookie, or {@code null} for the cookie of the last group read from the file
 * @param code the response code as written ({@code IOMMUFD_PAGE_RESP_SUCCESS} 0, {@code IOMMUFD_PAGE_RESP_INVALID} 1,
 *   anything else)
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record FaultWrite(String process, Long cookie, long code, Long atNs, SourceLocation location)
        implements Step, ProcessRef {

    /** The largest u32. */
    static final long U32 = 0xffffffffL;

    /** Codes by name: the uapi's {@code enum iommufd_page_response_code}. */
    public static final Map<String, Long> CODES = Map.of("SUCCESS", 0L, "INVALID", 1L);

    /** Validates the fields. */
    public FaultWrite {
        Checks.name(process, "process");
        if (cookie != null && (cookie < 0 || cookie > U32)) {
            throw new IllegalArgumentException("cookie must be a u32, got " + cookie);
        }
        if (code < 0 || code > U32) {
            throw new IllegalArgumentException("code must be a u32, got " + code);
        }
        Checks.step(atNs, location);
    }
}
