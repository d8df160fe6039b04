package dev.iommulab.lab.scenario;

import java.util.List;
import java.util.Objects;

/**
 * Expectation {@code fault-read}: {@code struct iommu_hwpt_pgfault} records read from a process's fault file — by
 * its client or by {@code fault-read} steps — filtered by the given fields. {@code records} counts records,
 * {@code groups} the groups they belong to (one cookie per group and read); without either, at least one record.
 *
 * @param process  declared process name
 * @param by       {@code client} or {@code step}, or {@code null} for both
 * @param pasid    only records with this PASID, or {@code null} for any
 * @param grpid    only records with this group index, or {@code null} for any
 * @param last     only records with (true) or without (false) {@code IOMMU_PGFAULT_FLAGS_LAST_PAGE}, or null
 * @param records  exact number of records, or {@code null}
 * @param groups   exact number of groups, or {@code null}
 * @param location where the expectation is written
 */
public record FaultReadExpect(String process, String by, Integer pasid, Integer grpid, Boolean last, Integer records,
                              Integer groups, SourceLocation location) implements Expectation, ProcessRef {

    /** Who reads or writes the fault file. */
    public static final List<String> BY = List.of("client", "step");

    /** Validates the fields. */
    public FaultReadExpect {
        Checks.name(process, "process");
        Checks.optionalOneOf(by, BY, "by");
        Checks.optionalRange(pasid, 0, Checks.MAX_PASID, "pasid");
        Checks.optionalRange(grpid, 0, Checks.MAX_GRPID, "grpid");
        Checks.optionalRange(records, 0, Integer.MAX_VALUE, "records");
        Checks.optionalRange(groups, 0, Integer.MAX_VALUE, "groups");
        Objects.requireNonNull(location, "location");
    }

    @Override
    public String describe() {
        return "fault-read " + process + Checks.opt("by", by) + Checks.opt("pasid", pasid) + Checks.opt("grpid", grpid)
                + Checks.opt("last", last) + Checks.opt("records", records) + Checks.opt("groups", groups);
    }
}
