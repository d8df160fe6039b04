package dev.iommulab.lab.scenario;

import java.util.Objects;

/**
 * Expectation {@code fault-write}: {@code struct iommu_hwpt_page_response} answers written to a process's fault
 * file — by its client or by {@code fault-write} steps — that the kernel took ({@code accepted: true}) or refused.
 *
 * @param process  declared process name
 * @param by       {@code client} or {@code step}, or {@code null} for both
 * @param code     the code written ({@code SUCCESS} 0, {@code INVALID} 1, or a number), or {@code null} for any
 * @param cookie   only answers with this cookie, or {@code null}
 * @param accepted only answers the kernel took (true) or refused (false), or {@code null} for both
 * @param count    exact number, or {@code null} for at least one
 * @param location where the expectation is written
 */
public record FaultWriteExpect(String process, String by, Long code, Long cookie, Boolean accepted, Integer count,
                               SourceLocation location) implements Expectation, ProcessRef {

    /** Validates the fields. */
    public FaultWriteExpect {
        Checks.name(process, "process");
        Checks.optionalOneOf(by, FaultReadExpect.BY, "by");
        Checks.optionalRange(count, 0, Integer.MAX_VALUE, "count");
        Objects.requireNonNull(location, "location");
    }

    @Override
    public String describe() {
        return "fault-write " + process + Checks.opt("by", by) + Checks.opt("code", code == null ? null
                : code == 0 ? "SUCCESS" : code == 1 ? "INVALID" : code.toString()) + Checks.opt("cookie", cookie)
                + Checks.opt("accepted", accepted) + Checks.times(count);
    }
}
